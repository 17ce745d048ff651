import AccordCore
import AccordStore
import Crypto
import Foundation

/// The gate in front of a feature store: every read goes through a decision, and every decision into the
/// audit trail. A value comes back only if its feature is permitted for the purpose; otherwise it comes back
/// absent, with the reason. If the store or the trail fails, nothing comes back (fail closed).
public struct FeatureGate: Sendable {
    /// Every decision the gate needs is made, and recorded, here; the gate itself only reads and filters.
    public let point: DecisionPoint
    public let store: any FeatureStore

    /// A gate deciding through `point` (shared with other callers — a server's requests, say — so that they
    /// share commits). The point must record: a gate whose point has no trail serves nothing.
    public init(point: DecisionPoint, store: any FeatureStore) {
        self.point = point
        self.store = store
    }

    /// A gate with a decision point of its own: consent from `consent` (none given: subjects have none), budgets
    /// from `budgets` (aggregates with a budgeted obligation are refused without one), recorded in `trail`.
    public init(
        plan: DecisionPlan, store: any FeatureStore, trail: any AuditTrail, consent: (any ConsentSource)? = nil,
        budgets: (any BudgetLedger)? = nil
    ) {
        self.init(point: DecisionPoint(plan: plan, consent: consent, budgets: budgets, trail: trail), store: store)
    }

    /// The plan in force.
    public var plan: DecisionPlan { point.plan }

    /// Requests through the gate carry no consent of their own: with a consent source they are filled from it,
    /// without one they are decided as having none.
    var inlineConsent: ConsentState? { point.configuration.consent == nil ? ConsentState() : nil }

    /// What became of one requested feature of one subject, as Feast users know it, plus `DENIED`.
    public enum Status: String, Sendable {
        /// Permitted, and a value exists (masked if an obligation says so).
        case present = "PRESENT"
        /// Permitted, but the store holds no value as of the instant.
        case notFound = "NOT_FOUND"
        /// Not permitted for this purpose: no value, whether one exists or not.
        case denied = "DENIED"
    }

    public struct ServedValue: Sendable {
        public var feature: String
        public var status: Status
        /// The value as the caller may use it (after masking); nil unless present and not redacted.
        public var value: FeatureValue?
        public var eventTime: Date?
        /// The mask applied, if any.
        public var mask: MaskStrategy?
        /// Why the feature was permitted or denied.
        public var reasons: [Reason]
        /// What the caller must still do with the value (cohort sizes, differential privacy, deletion).
        public var obligations: Obligations
    }

    public struct SubjectFeatures: Sendable {
        public var subject: String
        public var decisionID: String
        public var effect: DecisionEffect
        public var values: [ServedValue]
    }

    /// Online read: the latest value of each feature for each subject, as of `instant`, for `purpose`. One
    /// decision per subject, all recorded in one commit before anything is returned.
    public func onlineFeatures(
        subjects: [Subject], features: [String], purpose: String, actor: Actor, context: RequestContext = RequestContext(),
        asOf instant: Date = Date(), decisionID: () -> String = { DecisionID.next() }
    ) throws -> [SubjectFeatures] {
        let plan = point.plan
        let rows = try store.online(entities: subjects.map(\.id), features: features, asOf: instant)
        // The latest row of each (subject, feature), by position in the request.
        let featureIndex = Dictionary(features.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let subjectIndex = Dictionary(subjects.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        var latest = [FeatureRow?](repeating: nil, count: subjects.count * features.count)
        for row in rows {
            guard let s = subjectIndex[row.entity], let f = featureIndex[row.feature] else { continue }
            let slot = s * features.count + f
            if latest[slot].map({ $0.eventTime < row.eventTime }) ?? true { latest[slot] = row }
        }
        var entries: [AuditEntry] = []
        entries.reserveCapacity(subjects.count)
        for subject in subjects {
            let s = subjectIndex[subject.id]!
            let request = DecisionRequest(
                actor: actor, subject: subject, purpose: purpose, action: "read_online",
                // A feature with no value is decided as if a fresh one were read, so that it comes back
                // NOT_FOUND where a value would be permitted, not DENIED for an unknown age.
                resources: features.indices.map { f in
                    ResourceReference(
                        feature: features[f],
                        collectedAt: latest[s * features.count + (featureIndex[features[f]] ?? f)]?.eventTime ?? instant)
                },
                context: context, consent: inlineConsent)
            let decision = point.judge(request, asOf: instant, plan: plan)
            entries.append(AuditEntry(decision: decision, request: request, decisionID: decisionID(), instant: instant))
        }
        // Recorded before anything is served: a read the trail cannot hold is a read that does not happen.
        let records = try point.record(entries)
        var result: [SubjectFeatures] = []
        result.reserveCapacity(entries.count)
        for (entry, record) in zip(entries, records) {
            let s = subjectIndex[entry.request.subject.id]!
            var values: [ServedValue] = []
            values.reserveCapacity(features.count)
            for (f, resource) in entry.decision.resources.enumerated() {
                let feature = features[f]
                guard resource.effect == .permit else {
                    values.append(
                        ServedValue(
                            feature: feature, status: .denied, value: nil, eventTime: nil, mask: nil, reasons: resource.reasons,
                            obligations: Obligations()))
                    continue
                }
                guard let row = latest[s * features.count + (featureIndex[feature] ?? f)] else {
                    values.append(
                        ServedValue(
                            feature: feature, status: .notFound, value: nil, eventTime: nil, mask: nil, reasons: resource.reasons,
                            obligations: resource.obligations))
                    continue
                }
                values.append(
                    ServedValue(
                        feature: feature, status: .present, value: Self.masked(row.value, resource.obligations.mask),
                        eventTime: row.eventTime, mask: resource.obligations.mask, reasons: resource.reasons,
                        obligations: resource.obligations))
            }
            result.append(
                SubjectFeatures(
                    subject: entry.request.subject.id, decisionID: record.decisionID, effect: entry.decision.effect,
                    values: values))
        }
        return result
    }
}
