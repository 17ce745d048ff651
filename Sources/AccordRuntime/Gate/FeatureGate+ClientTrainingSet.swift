import AccordCore
import AccordStore
import Crypto
import Foundation

// MARK: - Training sets a client assembled (Feast, pandas)

extension FeatureGate {
    /// One row of a training set a client holds: whose value, of which feature, true in the world when.
    public struct RowReference: Sendable, Hashable {
        public var subject: String
        public var feature: String
        public var eventTime: Date

        public init(subject: String, feature: String, eventTime: Date) {
            (self.subject, self.feature, self.eventTime) = (subject, feature, eventTime)
        }
    }

    /// What may be done with one row: nil if it is left out (with the first reason), else the mask its value must
    /// be handed out under (nil: as it is).
    public struct RowDecision: Sendable, Hashable {
        public var permitted: Bool
        public var mask: MaskStrategy?
        /// The first reason a refused row is left out for (`consent.missing`, `retention.expired`, …).
        public var reason: String?
    }

    /// A training set assembled by the client (the values stay with it): each row decided as a `train` use for
    /// `purpose`, judged by its own event time, exactly as `trainingSet(features:…)` decides the rows it reads from
    /// the store; the decisions (one per subject) recorded, and the manifest and the subjects included recorded in
    /// `lineage` — all before the answer. `subjects` gives what Accord reads about a person beyond the id (age,
    /// jurisdiction); a subject it does not name is decided on its id alone. The manifest's `content_hash` covers
    /// each permitted row's subject, feature and event time (the values are the client's).
    public func trainingSet(
        clientRows rows: [RowReference], purpose: String, actor: Actor, subjects: [Subject] = [],
        context: RequestContext = RequestContext(), asOf instant: Date = Date(), lineage: any LineageStore,
        id: String = DecisionID.next()
    ) throws -> (rows: [RowDecision], manifest: TrainingManifest) {
        let plan = point.plan
        let known = Dictionary(subjects.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var bySubject: [String: [Int]] = [:]
        var order: [String] = []
        for (index, row) in rows.enumerated() {
            if bySubject[row.subject] == nil { order.append(row.subject) }
            bySubject[row.subject, default: []].append(index)
        }
        var decided = [RowDecision](repeating: RowDecision(permitted: false, mask: nil, reason: "denied"), count: rows.count)
        var entries: [AuditEntry] = []
        var excluded: [String: Int] = [:]
        var included: [String] = []
        for subjectID in order {
            let theirs = bySubject[subjectID]!
            let request = DecisionRequest(
                actor: actor, subject: known[subjectID] ?? Subject(id: subjectID), purpose: purpose, action: "train",
                resources: theirs.map { ResourceReference(feature: rows[$0].feature, collectedAt: rows[$0].eventTime) },
                context: context, consent: inlineConsent)
            var decision = point.judge(request, asOf: instant, plan: plan)
            var recorded: [ResourceDecision] = []
            var any = false
            for (index, resource) in zip(theirs, decision.resources) {
                if !recorded.contains(where: { $0.resource == resource.resource && Self.recordedAlike($0, resource) }) {
                    recorded.append(resource)
                }
                if resource.effect == .permit && resource.obligations.mask != .redact {
                    decided[index] = RowDecision(permitted: true, mask: resource.obligations.mask, reason: nil)
                    any = true
                } else {
                    let reason =
                        resource.effect == .permit
                        ? "mask.redact" : (resource.reasons.first { $0.code.denies }?.code.rawValue ?? "denied")
                    decided[index] = RowDecision(permitted: false, mask: nil, reason: reason)
                    excluded[reason, default: 0] += 1
                }
            }
            decision.resources = recorded
            entries.append(AuditEntry(decision: decision, request: request, decisionID: "\(id)/\(entries.count + 1)", instant: instant))
            if any { included.append(subjectID) }
        }
        var hasher = SHA256()
        var buffer: [UInt8] = []
        for (row, decision) in zip(rows, decided) where decision.permitted {
            for part in [row.subject, row.feature, String(Int64(row.eventTime.timeIntervalSince1970.rounded(.down)))] {
                buffer.append(contentsOf: part.utf8)
                buffer.append(0)
            }
            if buffer.count >= 1 << 16 {
                hasher.update(data: buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        hasher.update(data: buffer)
        let pseudonyms = included.map { lineage.pseudonym(for: $0) }.sorted { $0.lexicographicallyPrecedes($1) }
        let times = rows.map(\.eventTime)
        let manifest = TrainingManifest(
            id: id, purpose: purpose, actor: actor.id, revision: plan.revision, asOf: instant, from: times.min() ?? instant,
            to: times.max() ?? instant, features: Array(Set(rows.map(\.feature))).sorted(), subjectsAsked: order.count,
            subjectsIncluded: included.count, rowsIncluded: decided.filter(\.permitted).count, rowsExcluded: excluded,
            contentHash: Self.hex(hasher.finalize()), subjectsHash: Self.hex(SHA256.hash(data: pseudonyms.reduce(Data(), +))))
        // Recorded before anything is answered.
        _ = try point.record(entries)
        try lineage.record(
            trainingSet: id, purpose: purpose, actor: actor.id, revision: plan.revision, manifest: manifest.json.serialized(),
            subjects: included, at: instant)
        return (decided, manifest)
    }
}
