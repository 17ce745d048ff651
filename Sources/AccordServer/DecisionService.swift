import AccordCore
import AccordRuntime
import AccordStore
import Foundation

/// What the server serves from: the policy folder (reloadable; a set that fails validation is refused and the
/// running one keeps serving), the stores — through their protocols, so any backend's `Stores` will do — and
/// the decision point that every decision and every gate read goes through.
public final class DecisionService: Sendable {
    public let policies: String
    public let stores: Stores
    /// Aggregates under a budgeted `differential_privacy` obligation spend from `stores.budgets`, as
    /// `accord eval --budgets` does, unless `spendBudgets: false`.
    public let spendsBudgets: Bool
    /// The one decision point (see `DecisionPoint`): consent, evaluation, budgets, recording, failing closed.
    public let point: DecisionPoint
    /// The gate in front of the feature store, deciding through `point`.
    public let gate: FeatureGate

    /// Serves from the SQLite stores in `database`.
    public convenience init(
        policies: String, database: StoreDatabase, spendBudgets: Bool = true, observer: (any FailClosedObserver)? = nil
    ) throws {
        try self.init(policies: policies, stores: try Stores.sqlite(database), spendBudgets: spendBudgets, observer: observer)
    }

    public init(policies: String, stores: Stores, spendBudgets: Bool = true, observer: (any FailClosedObserver)? = nil) throws {
        self.policies = policies
        self.stores = stores
        spendsBudgets = spendBudgets
        let plan: DecisionPlan
        switch Self.load(policies) {
        case .success(let loaded): plan = loaded
        case .failure(let problem): throw problem
        }
        // Consent reads and budget spends run on NIO's blocking pool (the configuration's default), off the
        // event loops and the cooperative pool.
        point = DecisionPoint(
            plan: plan,
            configuration: DecisionPoint.Configuration(
                consent: stores.consent, budgets: spendBudgets ? stores.budgets : nil, trail: stores.trail, observer: observer))
        gate = FeatureGate(point: point, store: stores.features)
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
