import AccordCore
import AccordRuntime
import AccordStore
import Foundation
import NIOPosix

/// What the server serves from: the policy folder (reloadable; a set that fails validation is refused and the
/// running one keeps serving), the stores in one database, and the decision point that every decision and
/// every gate read goes through.
public final class DecisionService: Sendable {
    public let policies: String
    public let database: StoreDatabase
    public let trail: SQLiteAuditTrail
    public let consent: SQLiteConsentStore
    public let features: SQLiteFeatureStore
    public let lineage: SQLiteLineageStore
    /// Aggregates under a budgeted `differential_privacy` obligation spend from it, as `accord eval --budgets`
    /// does (nil: budgets not kept — `spendBudgets: false`).
    public let budgets: SQLiteBudgetLedger?
    /// The one decision point (see `DecisionPoint`): consent, evaluation, budgets, recording, failing closed.
    public let point: DecisionPoint
    /// The gate in front of the embedded feature store, deciding through `point`.
    public let gate: FeatureGate

    public convenience init(policies: String, database: StoreDatabase, spendBudgets: Bool = true) throws {
        try self.init(policies: policies, database: database, spendBudgets: spendBudgets, observer: nil)
    }

    init(policies: String, database: StoreDatabase, spendBudgets: Bool, observer: (any FailClosedObserver)?) throws {
        self.policies = policies
        self.database = database
        trail = try SQLiteAuditTrail(database: database)
        consent = try SQLiteConsentStore(database: database)
        features = SQLiteFeatureStore(database: database)
        lineage = SQLiteLineageStore(database: database)
        budgets = spendBudgets ? SQLiteBudgetLedger(database: database) : nil
        let plan: DecisionPlan
        switch Self.load(policies) {
        case .success(let loaded): plan = loaded
        case .failure(let problem): throw problem
        }
        point = DecisionPoint(
            plan: plan,
            configuration: DecisionPoint.Configuration(
                consent: consent, budgets: budgets, trail: trail, observer: observer,
                // Consent reads and budget spends are SQLite work: on NIO's blocking pool, off the event loops and
                // the cooperative pool.
                offload: { work in NIOThreadPool.singleton.submit { _ in work() } }))
        gate = FeatureGate(point: point, store: features)
    }

    public var plan: DecisionPlan { point.plan }

    public struct PolicyProblem: Error, CustomStringConvertible {
        public var diagnostics: [Diagnostic]
        public var description: String {
            diagnostics.filter { $0.severity == .error }.map { "\($0.range): \($0.code.rawValue): \($0.message)" }.joined(separator: "\n")
        }
    }

    static func load(_ path: String) -> Result<DecisionPlan, PolicyProblem> {
        let result = PolicySetValidator.validate(paths: [path])
        guard let set = result.policySet else { return .failure(PolicyProblem(diagnostics: result.diagnostics)) }
        return .success(DecisionPlan.compile(set))
    }

    /// Reads the policies again; a valid set replaces the running one, an invalid one is refused and the
    /// running one keeps serving. Returns the revision in force.
    @discardableResult
    public func reload() -> Result<String, PolicyProblem> {
        Self.load(policies).map { plan in
            point.replace(plan)
            return plan.revision
        }
    }

    /// Decides and records `requests` through the decision point (a deny for each when the trail cannot hold them).
    public func decide(_ requests: [DecisionRequest], asOf instant: Date? = nil) async -> [DecisionPoint.Decided] {
        await point.decide(requests, asOf: instant)
    }
}
