import AccordCore
import AccordStore
import ArgumentParser
import Foundation

/// The time window options shared by query and stats.
struct WindowOptions: ParsableArguments {
    @Option(help: "Only records from the last DURATION (e.g. 24h, 7d).")
    var since: String?

    @Option(help: "Only records at or after this RFC 3339 instant.")
    var from: String?

    @Option(help: "Only records before this RFC 3339 instant.")
    var to: String?

    func validate() throws {
        if since != nil && from != nil { throw ValidationError("give --since or --from, not both") }
        if let since, (try? PolicyDuration.parse(since)) == nil {
            throw ValidationError("--since must be a duration with a unit, such as 24h or 30d")
        }
        for (name, value) in [("--from", from), ("--to", to)] {
            if let value, Timestamps.parse(value) == nil {
                throw ValidationError("\(name) must be an RFC 3339 timestamp such as 2026-01-31T00:00:00Z")
            }
        }
    }

    var start: Date? {
        if let since, let duration = try? PolicyDuration.parse(since) { return Date().addingTimeInterval(-Double(duration.seconds)) }
        return from.flatMap(Timestamps.parse)
    }

    var end: Date? { to.flatMap(Timestamps.parse) }
}

enum RecordFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, jsonl, csv
}

struct AuditQueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "List recorded decisions matching filters, newest first."
    )

    @OptionGroup var store: StoreOptions
    @OptionGroup var window: WindowOptions

    @Option(help: "A subject id (pseudonymised with the subject key to search; never stored).")
    var subject: String?
    @Option(help: "A purpose; its sub-purposes match too.")
    var purpose: String?
    @Option(help: "An action (read, train, aggregate, ...).")
    var action: String?
    @Option(help: "permit, deny or partial.")
    var effect: String?
    @Option(help: "A rule id that decided some resource.")
    var rule: String?
    @Option(help: "A reason code given for some resource (e.g. consent.missing).")
    var reason: String?
    @Option(help: "The actor that asked.")
    var actor: String?
    @Option(help: "A policy revision or a prefix of one.")
    var revision: String?
    @Option(help: "A decision id.")
    var decision: String?
    @Option(help: "At most this many records (0 for all).")
    var limit: Int = 100
    @Option(help: "Output: table, json, jsonl or csv.")
    var format: RecordFormat = .table

    func validate() throws {
        if let effect, !["permit", "deny", "partial"].contains(effect) {
            throw ValidationError("--effect must be permit, deny or partial")
        }
        if limit < 0 { throw ValidationError("--limit must be 0 or more") }
    }

    func run() throws {
        let query = AuditQuery(
            from: window.start, to: window.end, subject: subject, purpose: purpose, action: action, effect: effect,
            rule: rule, reason: reason, actor: actor, revision: revision, decisionID: decision,
            limit: limit == 0 ? nil : limit)
        let records = try store.openReadOnlyTrail().query(query)
        print(render(records, as: format), terminator: "")
    }
}

/// Records in the chosen format.
func render(_ records: [AuditRecord], as format: RecordFormat) -> String {
    switch format {
    case .json: return JSONValue.array(records.map(\.json)).serialized() + "\n"
    case .jsonl: return records.map { $0.json.serialized() + "\n" }.joined()
    case .csv:
        let header =
            "sequence,decision_id,recorded_at,actor,purpose,action,jurisdiction,effect,processing_region,revision,reasons,rules,resources\n"
        return header
            + records.map { r in
                [
                    String(r.sequence), r.decisionID, Timestamps.format(r.recordedAt), r.actor, r.purpose, r.action, r.jurisdiction ?? "",
                    r.effect, r.processingRegion ?? "", r.revision, r.reasonCodes.joined(separator: " "), r.ruleIDs.joined(separator: " "),
                    r.resources,
                ].map(csvField).joined(separator: ",") + "\n"
            }.joined()
    case .table:
        let rows = records.map { r -> [String] in
            let permitted = r.resourceOutcomes.filter { $0.effect == "permit" }.count
            return [
                Timestamps.format(r.recordedAt), r.decisionID, r.actor, r.purpose, r.action, r.effect,
                "\(permitted)/\(r.resourceOutcomes.count)", r.reasonCodes.joined(separator: " "),
            ]
        }
        return table(header: ["RECORDED", "DECISION", "ACTOR", "PURPOSE", "ACTION", "EFFECT", "PERMITTED", "REASONS"], rows: rows)
            + "(\(records.count) record\(records.count == 1 ? "" : "s"))\n"
    }
}

/// RFC 4180: quoted when it holds a comma, quote or line break; quotes doubled.
func csvField(_ value: String) -> String {
    guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
    return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// Left-aligned columns separated by two spaces.
func table(header: [String], rows: [[String]]) -> String {
    var widths = header.map(\.count)
    for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, cell in i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
            .joined(separator: "  ") + "\n"
    }
    return line(header) + rows.map(line).joined()
}

struct AuditStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Summarise a window of the trail: decisions by purpose and effect, top reasons."
    )

    @OptionGroup var store: StoreOptions
    @OptionGroup var window: WindowOptions
    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    func run() throws {
        let stats = try store.openReadOnlyTrail().stats(from: window.start, to: window.end)
        switch format {
        case .json:
            print(
                JSONValue.object([
                    ("records", .int(stats.records)), ("decisions", .int(stats.decisions)),
                    ("retention_purges", .int(stats.retentionPurges)),
                    ("first", stats.first.map { .string(Timestamps.format($0)) } ?? .null),
                    ("last", stats.last.map { .string(Timestamps.format($0)) } ?? .null),
                    (
                        "by_purpose",
                        .array(
                            stats.byPurpose.map { p in
                                .object([
                                    ("purpose", .string(p.purpose)), ("permit", .int(p.permit)), ("partial", .int(p.partial)),
                                    ("deny", .int(p.deny)), ("total", .int(p.total)),
                                ])
                            })
                    ),
                    ("top_reasons", .array(stats.topReasons.map { .object([("code", .string($0.code)), ("records", .int($0.records))]) })),
                    ("checkpoints", .int(stats.checkpoints)), ("erasures", .int(stats.erasures)),
                ]).serialized())
        case .text:
            let span = stats.first.map { "from \(Timestamps.format($0)) to \(Timestamps.format(stats.last!))" } ?? "none"
            print(
                "\(stats.decisions) decisions (\(span)); \(stats.retentionPurges) retention purge records; \(stats.checkpoints) checkpoints; "
                    + "\(stats.erasures) erasures\n")
            print(
                table(
                    header: ["PURPOSE", "PERMIT", "PARTIAL", "DENY", "TOTAL"],
                    rows: stats.byPurpose.map { [$0.purpose, "\($0.permit)", "\($0.partial)", "\($0.deny)", "\($0.total)"] }))
            print(table(header: ["REASON", "RECORDS"], rows: stats.topReasons.map { [$0.code, "\($0.records)"] }), terminator: "")
        }
    }
}

struct AuditEraseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract:
            "Erase a subject: their seal key, consent history, own budget spends, lineage entries and stored feature values go; their records stay, no longer tied to them."
    )

    @OptionGroup var store: StoreOptions
    @Option(help: "The subject's id, as the requests named it.")
    var subject: String

    func run() throws {
        let receipt = try store.openExistingTrail().erasure(of: subject)
        func plural(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        print(
            """
            erased: what this database held about the subject, store by store
              audit trail:    \(plural(receipt.records, "record")) can no longer be found or tied to them (they stay in the chain; it still verifies)
              consent store:  \(plural(receipt.consentEvents, "event")) removed
              budget ledger:  \(plural(receipt.budgetSpends, "spend")) of their own removed
              lineage:        \(plural(receipt.trainingSetMemberships, "training-set membership")) removed
              feature store:  \(plural(receipt.featureValues, "value")) removed
            """)
    }
}
