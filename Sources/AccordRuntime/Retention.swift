import AccordCore
import AccordStore
import Foundation

/// What the policies' retention rules mean for the data in the embedded feature store, and doing it.
public struct RetentionPlanner: Sendable {
    public let policies: PolicySet
    public let store: any FeatureStore

    public init(policies: PolicySet, store: any FeatureStore) {
        self.policies = policies
        self.store = store
    }

    /// One retention rule applied to one feature.
    public struct Item: Sendable {
        /// `policy:line` of the rule.
        public var rule: String
        public var feature: String
        public var category: String
        public var maxAge: PolicyDuration
        public var action: ExpiryAction
        /// The purposes the limit is for; empty for all — only such rules remove data.
        public var purposes: [String]
        public var rows: Int
        public var subjects: Int
        /// Whether a purge acts on it (a limit for some purposes only leaves the data for the others).
        public var purges: Bool { purposes.isEmpty }
    }

    /// Every (retention rule, catalog feature of a category it covers) with the rows older than its limit.
    public func plan(asOf instant: Date = Date()) throws -> [Item] {
        var items: [Item] = []
        for rule in policies.retention {
            for feature in policies.features.values.sorted(by: { $0.name < $1.name }) where covers(rule, feature.category) {
                let expired = try store.expired(feature: feature.name, before: instant.addingTimeInterval(-Double(rule.maxAge.seconds)))
                items.append(
                    Item(
                        rule: "\(rule.source.file):\(rule.source.start.line)", feature: feature.name, category: feature.category,
                        maxAge: rule.maxAge, action: rule.onExpiry, purposes: rule.purposes.map(\.description),
                        rows: expired.reduce(0) { $0 + $1.rows }, subjects: expired.count))
            }
        }
        return items
    }

    /// Carries out the rules that hold for every purpose: each expired value deleted (`delete`, `aggregate`:
    /// only aggregates may outlive it) or cut loose from its subject (`anonymise`). For each feature, every
    /// affected subject gets an audit record first (action `delete` or `anonymise`, reason `retention.expired`),
    /// then the rows go: a purge killed in between is finished by the next run, which records again only what
    /// is still there. Running it again right away finds nothing to do.
    public func purge(asOf instant: Date = Date(), trail: any AuditTrail, actor: String = "accord-retention") throws -> [Item] {
        var done: [Item] = []
        for var item in try plan(asOf: instant) where item.purges && item.rows > 0 {
            let cutoff = instant.addingTimeInterval(-Double(item.maxAge.seconds))
            let affected = try store.expired(feature: item.feature, before: cutoff)
            let action = item.action == .anonymise ? "anonymise" : "delete"
            let reason = Reason(.retentionExpired, detail: "\(item.rule): \(item.maxAge) then \(item.action.rawValue)")
            let entries = affected.map { entity, rows in
                let request = DecisionRequest(
                    actor: Actor(id: actor), subject: Subject(id: entity), purpose: AuditRecord.retentionPurpose, action: action,
                    resources: [ResourceReference(feature: item.feature)], consent: ConsentState())
                let decision = Decision(
                    effect: .deny, revision: policies.revision, purpose: AuditRecord.retentionPurpose, action: action, instant: instant,
                    resources: [
                        ResourceDecision(
                            resource: item.feature, category: item.category, effect: .deny,
                            reasons: [reason])
                    ])
                return AuditEntry(
                    decision: decision, request: request, decisionID: AuditRecord.retentionIDPrefix + DecisionID.next(),
                    instant: instant)
            }
            _ = try trail.record(batch: entries)
            item.rows = try store.purge(
                feature: item.feature, before: cutoff, entities: affected.map(\.entity),
                anonymise: item.action == .anonymise)
            done.append(item)
        }
        return done
    }

    private func covers(_ rule: RetentionRule, _ category: String) -> Bool {
        rule.categories.contains { $0.matches(category, isSensitive: policies.isSensitive(category: category)) }
    }
}
