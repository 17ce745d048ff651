import AccordCore
import AccordStore
import ArgumentParser
import Foundation

/// `accord audit export --subject ID`: what Accord holds and has recorded about one person (GDPR Art. 15).
struct AuditExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Everything held and recorded about one person, in plain language (a GDPR Art. 15 access request)."
    )

    @OptionGroup var store: StoreOptions
    @Option(help: "The subject's id, as the requests named it.")
    var subject: String
    @Option(help: "Output format: text (for the person) or json.")
    var format: OutputFormat = .text

    func run() throws {
        let report = try AccessReport(subject: subject, store: store)
        switch format {
        case .json: print(report.json.serialized())
        case .text: print(report.text, terminator: "")
        }
    }
}

/// The access export: the trail's records about the person (decisions and retention purges, each its own
/// kind) and what the stores hold about them now (feature values, consent history, training sets).
struct AccessReport {
    let subject: String
    let generatedAt = Date()
    let records: [AuditRecord]
    let features: [(feature: String, values: Int, oldest: Date, newest: Date)]
    let consent: [ConsentEventRecord]
    let trainingSets: [TrainingSetEntry]

    init(subject: String, store: StoreOptions) throws {
        let database = try store.openReadOnlyDatabase()
        self.subject = subject
        records = try store.openTrail(in: database).export(subject: subject)
        features = try SQLiteFeatureStore(database: database).held(entity: subject)
        consent = try SQLiteConsentStore(database: database).history(subject: subject)
        trainingSets = try SQLiteLineageStore(database: database).trainingSets(including: subject)
    }

    var decisions: [AuditRecord] { records.filter { $0.kind == .decision } }
    var purges: [AuditRecord] { records.filter { $0.kind == .retentionPurge } }
    var holdsNothing: Bool { records.isEmpty && features.isEmpty && consent.isEmpty && trainingSets.isEmpty }

    var json: JSONValue {
        .object([
            ("subject", .string(subject)), ("generated_at", .string(Timestamps.format(generatedAt))), ("nothing_held", .bool(holdsNothing)),
            ("records", .array(records.map(\.json))),
            (
                "feature_values",
                .array(
                    features.map { held in
                        .object([
                            ("feature", .string(held.feature)), ("values", .int(held.values)),
                            ("oldest", .string(Timestamps.format(held.oldest))),
                            ("newest", .string(Timestamps.format(held.newest))),
                        ])
                    })
            ),
            (
                "consent_events",
                .array(
                    consent.map { record in
                        .object([
                            ("id", .int(Int(record.id))), ("kind", .string(record.event.kind.rawValue)),
                            ("target", .string(record.event.target)),
                            ("occurred_at", .string(Timestamps.format(record.event.occurredAt))),
                            ("source", .string(record.event.source.rawValue)),
                        ])
                    })
            ),
            (
                "training_sets",
                .array(
                    trainingSets.map { set in
                        .object([
                            ("id", .string(set.id)), ("purpose", .string(set.purpose)),
                            ("created_at", .string(Timestamps.format(set.createdAt))),
                            ("models", .array(set.models.map(JSONValue.string))),
                        ])
                    })
            ),
        ])
    }

    var text: String {
        var out = "What Accord holds and has recorded about \(subject)\n"
        out += "Generated \(humanTime(generatedAt)).\n"
        if holdsNothing {
            out +=
                "\nNothing is held about this person: no stored feature values, no consent history, no training sets, and no "
                + "records that can be tied to them (never seen, or erased).\n"
            return out
        }
        out += "\nData held now: "
        out +=
            features.isEmpty
            ? "no feature values.\n"
            : "\n"
                + features.map { held in
                    "   - \(held.feature): \(held.values) value\(held.values == 1 ? "" : "s") from \(humanTime(held.oldest)) to \(humanTime(held.newest))\n"
                }.joined()
        out += "Consent history: "
        out +=
            consent.isEmpty
            ? "none.\n"
            : "\n"
                + consent.map { record in
                    "   - \(humanTime(record.event.occurredAt)): \(record.event.kind.rawValue) \(record.event.target) (via \(record.event.source.rawValue))\n"
                }.joined()
        out += "Training sets that included you: "
        out +=
            trainingSets.isEmpty
            ? "none.\n"
            : "\n"
                + trainingSets.map { set in
                    "   - \(set.id) for \(set.purpose), \(humanTime(set.createdAt))"
                        + (set.models.isEmpty ? "\n" : "; models trained on it: \(set.models.joined(separator: ", "))\n")
                }.joined()
        out +=
            "\n\(decisions.count) decision\(decisions.count == 1 ? "" : "s") about uses of your data, and \(purges.count) "
            + "retention purge\(purges.count == 1 ? "" : "s"), recorded.\n"
        for (i, record) in records.enumerated() {
            out += "\n\(i + 1). " + (record.kind == .retentionPurge ? purgeText(record) : decisionText(record))
        }
        return out
    }

    private func decisionText(_ record: AuditRecord) -> String {
        let outcome = ["permit": "allowed", "deny": "refused", "partial": "partly allowed"][record.effect] ?? record.effect
        var out =
            "On \(humanTime(record.recordedAt)), \(record.actor) asked to \(record.action) data for the purpose "
            + "\"\(record.purpose)\". It was \(outcome).\n"
        for resource in record.resourceOutcomes {
            let what = resource.category.map { "\(resource.resource) (\($0))" } ?? resource.resource
            let why = resource.reasons.map { ReasonCode(rawValue: $0)?.explanation ?? $0 }.joined(separator: "; ")
            out += "   - \(what): \(resource.effect == "permit" ? "allowed" : "refused") — \(why)\n"
        }
        var context: [String] = []
        if let jurisdiction = record.jurisdiction { context.append("rules of \(jurisdiction)") }
        if let region = record.processingRegion { context.append("processed in \(region)") }
        context.append("policy version \(record.revision.prefix(12))")
        context.append("decision \(record.decisionID)")
        return out + "   (\(context.joined(separator: ", ")))\n"
    }

    private func purgeText(_ record: AuditRecord) -> String {
        let verb = record.action == "anonymise" ? "anonymised" : "deleted"
        let what = record.resourceOutcomes.map { outcome in outcome.category.map { "\(outcome.resource) (\($0))" } ?? outcome.resource }
            .joined(separator: ", ")
        return "On \(humanTime(record.recordedAt)), \(record.actor) \(verb) your stored values of \(what): they had passed their "
            + "retention limit. (policy version \(record.revision.prefix(12)), record \(record.decisionID))\n"
    }

    private func humanTime(_ date: Date) -> String {
        let text = Timestamps.format(date)
        return text.replacingOccurrences(of: "T", with: " at ").replacingOccurrences(of: "Z", with: " UTC")
    }
}
