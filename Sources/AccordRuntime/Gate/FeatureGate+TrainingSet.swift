import AccordCore
import AccordStore
import Crypto
import Foundation

// MARK: - Training sets

extension FeatureGate {
    /// What a trainer gets: the rows it may use and the manifest that says how they were chosen.
    public struct TrainingSet: Sendable {
        public var rows: [FeatureRow]
        public var manifest: TrainingManifest
    }

    /// How a training set was chosen, recorded with it.
    public struct TrainingManifest: Sendable {
        public var id: String
        public var purpose: String
        public var actor: String
        public var revision: String
        /// The instant the decisions and the consent state were taken at.
        public var asOf: Date
        public var from: Date
        public var to: Date
        public var features: [String]
        public var subjectsAsked: Int
        public var subjectsIncluded: Int
        public var rowsIncluded: Int
        /// Rows left out, by the first reason their use was refused (`consent.missing`, `retention.expired`, …).
        public var rowsExcluded: [String: Int]
        /// SHA-256 over the rows handed out (entity, feature, event time, value; in order).
        public var contentHash: String
        /// SHA-256 over the sorted pseudonyms of the subjects included.
        public var subjectsHash: String

        public var json: JSONValue {
            .object([
                ("id", .string(id)), ("purpose", .string(purpose)), ("actor", .string(actor)), ("revision", .string(revision)),
                ("as_of", .string(Timestamps.format(asOf))), ("from", .string(Timestamps.format(from))),
                ("to", .string(Timestamps.format(to))),
                ("features", .array(features.map(JSONValue.string))), ("subjects_asked", .int(subjectsAsked)),
                ("subjects_included", .int(subjectsIncluded)), ("rows_included", .int(rowsIncluded)),
                ("rows_excluded", .object(rowsExcluded.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
                ("content_hash", .string(contentHash)), ("subjects_hash", .string(subjectsHash)),
            ])
        }
    }

    /// A training set: every stored value of `features` for the `population` with an event time in
    /// `[from, to)`, each row decided as a `train` use for `purpose` — rows of subjects without consent, rows
    /// older than retention allows, features not permitted for the purpose, and rows whose processing region is
    /// refused are left out. The decisions (one per subject) and the manifest are recorded — the manifest and
    /// who was included in `lineage`, so that a withdrawal can be traced to the models trained on them.
    public func trainingSet(
        features: [String], purpose: String, actor: Actor, population: [Subject], from: Date, to: Date,
        context: RequestContext = RequestContext(), asOf instant: Date = Date(), lineage: any LineageStore,
        id: String = DecisionID.next()
    ) throws -> TrainingSet {
        let plan = point.plan
        let population = Self.distinct(population)
        // Oldest first (then by entity and feature): the order the rows are handed out in.
        let rows = try store.historical(entities: population.map(\.id), features: features, from: from, to: to)
        var bySubject: [String: [Int]] = [:]
        for (index, row) in rows.enumerated() { bySubject[row.entity, default: []].append(index) }
        // What each row becomes: nil if left out, else its value as handed out (masked).
        var handedOut = [FeatureValue?](repeating: nil, count: rows.count)
        var entries: [AuditEntry] = []
        var excluded: [String: Int] = [:]
        var included: [String] = []
        for subject in population {
            guard let theirs = bySubject[subject.id] else { continue }
            let request = DecisionRequest(
                actor: actor, subject: subject, purpose: purpose, action: "train",
                resources: theirs.map { ResourceReference(feature: rows[$0].feature, collectedAt: rows[$0].eventTime) },
                context: context, consent: inlineConsent)
            var decision = point.judge(request, asOf: instant, plan: plan)
            var any = false
            // Recorded: one resource per feature and outcome (see `recordedAlike`).
            var recorded: [ResourceDecision] = []
            for (index, resource) in zip(theirs, decision.resources) {
                if !recorded.contains(where: { $0.resource == resource.resource && Self.recordedAlike($0, resource) }) {
                    recorded.append(resource)
                }
                // A mask binds the trainer as it binds a reader; a redacted value is no row at all.
                if resource.effect == .permit, let value = Self.masked(rows[index].value, resource.obligations.mask) {
                    handedOut[index] = value
                    any = true
                } else if resource.effect == .permit {
                    excluded["mask.redact", default: 0] += 1
                } else {
                    let reason = resource.reasons.first { $0.code.denies }?.code.rawValue ?? "denied"
                    excluded[reason, default: 0] += 1
                }
            }
            decision.resources = recorded
            entries.append(AuditEntry(decision: decision, request: request, decisionID: "\(id)/\(entries.count + 1)", instant: instant))
            if any { included.append(subject.id) }
        }
        var kept: [FeatureRow] = []
        var content = ContentHash()
        for (index, value) in handedOut.enumerated() {
            guard let value else { continue }
            var row = rows[index]
            row.value = value
            content.add(row)
            kept.append(row)
        }
        let pseudonyms = included.map { lineage.pseudonym(for: $0) }.sorted { $0.lexicographicallyPrecedes($1) }
        let manifest = TrainingManifest(
            id: id, purpose: purpose, actor: actor.id, revision: plan.revision, asOf: instant, from: from, to: to, features: features,
            subjectsAsked: population.count, subjectsIncluded: included.count, rowsIncluded: kept.count, rowsExcluded: excluded,
            contentHash: content.finish(), subjectsHash: Self.hex(SHA256.hash(data: pseudonyms.reduce(Data(), +))))
        // Recorded before anything is handed out.
        _ = try point.record(entries)
        try lineage.record(
            trainingSet: id, purpose: purpose, actor: actor.id, revision: plan.revision,
            manifest: manifest.json.serialized(), subjects: included, at: instant)
        return TrainingSet(rows: kept, manifest: manifest)
    }

    /// Two resource decisions that record the same (a training set records one resource per feature and outcome:
    /// the rows of a feature decided alike are one entry, with their deletion deadlines left out).
    static func recordedAlike(_ a: ResourceDecision, _ b: ResourceDecision) -> Bool {
        a.effect == b.effect && a.reasons == b.reasons && a.category == b.category && a.consentEvents == b.consentEvents
            && a.obligations == b.obligations && a.epsilonSpent == b.epsilonSpent
    }
}
