import AccordCore
import AccordStore
import ArgumentParser
import Foundation

/// `accord consent`: the consent store — each person's history of consent events and the state it gives.
struct ConsentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consent",
        abstract: "Record and read consent: grants, withdrawals, objections, opt-outs, and their history.",
        subcommands: [ConsentGrantCommand.self, ConsentWithdrawCommand.self, ConsentObjectCommand.self, ConsentOptOutCommand.self,
                      ConsentShowCommand.self, ConsentHistoryCommand.self]
    )
}

/// What every recorded event takes besides its target.
struct EventOptions: ParsableArguments {
    @Option(help: "Where the event came from: api, tcf, gpc or import.")
    var source: String = "api"

    @Option(help: "When the person acted, RFC 3339 (default: now).")
    var at: String?

    @Option(help: "How it was collected, as a JSON object (form, CMP, TC string…).")
    var evidence: String?

    func validate() throws {
        if ConsentEvent.Source(rawValue: source) == nil { throw ValidationError("--source must be api, tcf, gpc or import") }
        if let at, Timestamps.parse(at) == nil { throw ValidationError("--at must be an RFC 3339 timestamp such as 2026-01-31T00:00:00Z") }
        if let evidence {
            guard let data = evidence.data(using: .utf8), (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
                throw ValidationError("--evidence must be a JSON object")
            }
        }
    }

    func event(_ kind: ConsentEvent.Kind, target: String, version: Int? = nil, byGuardian: Bool = false) -> ConsentEvent {
        ConsentEvent(kind: kind, target: target, version: version, byGuardian: byGuardian, source: ConsentEvent.Source(rawValue: source)!,
                     occurredAt: at.flatMap(Timestamps.parse) ?? Date(), evidence: evidence)
    }
}

/// Records one event and prints it.
private func record(_ event: ConsentEvent, subject: String, store: StoreOptions) throws {
    let recorded = try store.openConsent().record([event], subject: subject)[0]
    print(recorded.json.serialized())
}

struct ConsentGrantCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "grant", abstract: "Record that a person agreed to a consent scope.")

    @Argument(help: "The person's id, as requests name them (stored only as a keyed pseudonym).")
    var subject: String
    @Option(help: "The consent scope agreed to.")
    var scope: String
    @Option(help: "The version of the scope's text agreed to.")
    var version: Int = 1
    @Flag(help: "Given by a parent or guardian.")
    var guardian = false
    @OptionGroup var event: EventOptions
    @OptionGroup var store: StoreOptions

    func validate() throws {
        if !(1...1_000_000).contains(version) { throw ValidationError("--version must be between 1 and 1000000") }
    }

    func run() throws { try record(event.event(.grant, target: scope, version: version, byGuardian: guardian), subject: subject, store: store) }
}

struct ConsentWithdrawCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "withdraw", abstract: "Record that a person took a consent back.")

    @Argument(help: "The person's id.")
    var subject: String
    @Option(help: "The consent scope withdrawn.")
    var scope: String
    @OptionGroup var event: EventOptions
    @OptionGroup var store: StoreOptions

    func run() throws { try record(event.event(.withdraw, target: scope), subject: subject, store: store) }
}

struct ConsentObjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "object",
                                                    abstract: "Record that a person objected to a purpose (legitimate interest, GDPR Art. 21).")

    @Argument(help: "The person's id.")
    var subject: String
    @Option(help: "The purpose objected to (covers its sub-purposes).")
    var purpose: String
    @OptionGroup var event: EventOptions
    @OptionGroup var store: StoreOptions

    func run() throws { try record(event.event(.object, target: purpose), subject: subject, store: store) }
}

struct ConsentOptOutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "opt-out",
                                                    abstract: "Record that a person opted out of a purpose or a flag such as sale_or_share.")

    @Argument(help: "The person's id.")
    var subject: String
    @Option(help: "A purpose, or the flag sale_or_share or profiling.")
    var of: String
    @OptionGroup var event: EventOptions
    @OptionGroup var store: StoreOptions

    func run() throws { try record(event.event(.optOut, target: of), subject: subject, store: store) }
}

struct ConsentShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print a person's consent state as of an instant.")

    @Argument(help: "The person's id.")
    var subject: String
    @Option(name: .customLong("as-of"), help: "The instant, RFC 3339 (default: now).")
    var asOf: String?
    @Option(help: "A policy folder: adds when each grant expires under its scope's expires_after.")
    var policies: String?
    @OptionGroup var store: StoreOptions

    func validate() throws {
        if let asOf, Timestamps.parse(asOf) == nil { throw ValidationError("--as-of must be an RFC 3339 timestamp") }
    }

    func run() throws {
        var expiries: [String: PolicyDuration] = [:]
        if let policies {
            let result = PolicySetValidator.validate(paths: [policies])
            guard let set = result.policySet else {
                let renderer = DiagnosticRenderer(sources: result.sources)
                throw CommandFailure(code: .policyProblem, message: result.diagnostics.map { renderer.text($0) }.joined(separator: "\n"))
            }
            for scope in set.scopes.values { if let after = scope.expiresAfter { expiries[scope.id] = after } }
        }
        let instant = asOf.flatMap(Timestamps.parse) ?? Date()
        let derived = try store.openConsent().consent(subject: subject, asOf: instant)
        print(JSONValue.object([
            ("subject", .string(subject)),
            ("as_of", .string(Timestamps.format(instant))),
            ("grants", .array(derived.state.grants.map { grant in
                var pairs: [(String, JSONValue)] = [("scope", .string(grant.scope)), ("version", .int(grant.version)),
                                                    ("granted_at", .string(Timestamps.format(grant.grantedAt)))]
                if grant.byGuardian { pairs.append(("by_guardian", .bool(true))) }
                if let after = expiries[grant.scope] {
                    let expiry = grant.grantedAt.addingTimeInterval(Double(after.seconds))
                    pairs.append(("expires_at", .string(Timestamps.format(expiry))))
                    pairs.append(("expired", .bool(expiry <= instant)))
                }
                if let event = grant.event { pairs.append(("event", .int(Int(event)))) }
                return .object(pairs)
            })),
            ("objections", .array(derived.state.objections.map(JSONValue.string))),
            ("opt_outs", .array(derived.state.optOuts.map(JSONValue.string))),
            ("last_event", derived.lastEvent.map { .int(Int($0)) } ?? .null),
        ]).serialized())
    }
}

struct ConsentHistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Print every consent event of a person, in order.")

    @Argument(help: "The person's id.")
    var subject: String
    @Option(help: "Output: table, json or jsonl.")
    var format: RecordFormat = .table
    @OptionGroup var store: StoreOptions

    func validate() throws {
        if format == .csv { throw ValidationError("--format must be table, json or jsonl") }
    }

    func run() throws {
        let history = try store.openConsent().history(subject: subject)
        switch format {
        case .json: print(JSONValue.array(history.map(\.json)).serialized())
        case .jsonl, .csv: for record in history { print(record.json.serialized()) }
        case .table:
            print(table(header: ["EVENT", "OCCURRED", "KIND", "TARGET", "VERSION", "SOURCE", "RECORDED"], rows: history.map { r in
                [String(r.id), Timestamps.format(r.event.occurredAt), r.event.kind.rawValue + (r.event.byGuardian ? " (guardian)" : ""),
                 r.event.target, r.event.version.map(String.init) ?? "", r.event.source.rawValue, Timestamps.format(r.recordedAt)]
            }) + "(\(history.count) event\(history.count == 1 ? "" : "s"))", terminator: "\n")
        }
    }
}

extension ConsentEventRecord {
    var json: JSONValue {
        var pairs: [(String, JSONValue)] = [("event", .int(Int(id))), ("kind", .string(event.kind.rawValue)), ("target", .string(event.target))]
        if let version = event.version { pairs.append(("version", .int(version))) }
        if event.byGuardian { pairs.append(("by_guardian", .bool(true))) }
        pairs += [("source", .string(event.source.rawValue)), ("occurred_at", .string(Timestamps.format(event.occurredAt))),
                  ("recorded_at", .string(Timestamps.format(recordedAt)))]
        if let evidence = event.evidence { pairs.append(("evidence", .string(evidence))) }
        return .object(pairs)
    }
}
