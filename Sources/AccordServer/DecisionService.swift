import AccordCore
import AccordGate
import AccordStore
import Foundation

/// What the server decides with: the current policies (reloadable; a set that fails validation is refused and
/// the running one keeps serving), the store database, and group commit for the audit trail. Every decision
/// is recorded before it is answered; one that cannot be recorded is a deny.
public final class DecisionService: @unchecked Sendable {
    public let policies: String
    public let database: StoreDatabase
    public let trail: SQLiteAuditTrail
    public let consent: ConsentStore
    /// Group commit for the gate's synchronous reads and training sets; decisions go through `recorder`.
    let writer: AuditWriter
    let recorder: AsyncRecorder
    public let features: SQLiteFeatureStore
    public let lineage: LineageStore
    /// Aggregates under a budgeted `differential_privacy` obligation spend from it, as `accord eval --budgets` does
    /// (nil: budgets not kept — `spendBudgets: false`).
    public let budgets: PrivacyBudgetLedger?
    private let lock = NSLock()
    private var current: DecisionPlan
    /// Told of every decision that failed closed (the server's logs, metrics and readiness).
    let monitor: FailClosedMonitor?

    public convenience init(policies: String, database: StoreDatabase, spendBudgets: Bool = true) throws {
        try self.init(policies: policies, database: database, spendBudgets: spendBudgets, monitor: nil)
    }

    init(policies: String, database: StoreDatabase, spendBudgets: Bool, monitor: FailClosedMonitor?) throws {
        self.monitor = monitor
        self.policies = policies
        self.database = database
        trail = try SQLiteAuditTrail(database: database)
        consent = try ConsentStore(database: database)
        writer = AuditWriter(trail: trail)
        recorder = AsyncRecorder(trail: trail)
        features = SQLiteFeatureStore(database: database)
        lineage = LineageStore(database: database)
        budgets = spendBudgets ? PrivacyBudgetLedger(database: database) : nil
        switch Self.load(policies) {
        case .success(let plan): current = plan
        case .failure(let problem): throw problem
        }
    }

    public var plan: DecisionPlan {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    public struct PolicyProblem: Error, CustomStringConvertible {
        public var diagnostics: [Diagnostic]
        public var description: String { diagnostics.filter { $0.severity == .error }.map { "\($0.range): \($0.code.rawValue): \($0.message)" }.joined(separator: "\n") }
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
        switch Self.load(policies) {
        case .success(let plan):
            lock.lock()
            current = plan
            lock.unlock()
            return .success(plan.revision)
        case .failure(let problem):
            return .failure(problem)
        }
    }

    /// Decides `requests` (consent from the store when a request brings none) and records them all in one commit,
    /// shared with whatever other requests are waiting; the caller suspends rather than holding a thread while it
    /// happens. If the trail cannot record them, every one is a deny.
    public func decide(_ requests: [DecisionRequest], asOf instant: Date = Date()) async -> [(decision: Decision, id: String)] {
        let plan = self.plan
        let consent = self.consent, budgets = self.budgets
        let decide = { @Sendable in
            requests.map { request in
                let id = DecisionID.next(at: instant)
                var decision = consent.decide(request, with: plan, asOf: instant)
                // An aggregate under a budgeted obligation spends before it is recorded (or is denied with
                // budget.exhausted), exactly as `accord eval --budgets` does.
                if let budgets { decision = budgets.spend(decision, for: request, decisionID: id, at: instant) }
                return (request, decision, id)
            }
        }
        // Consent read from the store and budget spends are database work: off the async threads. Consent in the
        // request and decisions that spend nothing are not.
        let stays = requests.allSatisfy { $0.consentIsInline && ($0.action != "aggregate" || budgets == nil) }
        let decided = stays ? decide() : await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: decide()) }
        }
        do {
            try await recorder.record(decided.map { AuditEntry(decision: $0.1, request: $0.0, decisionID: $0.2, instant: instant) })
            monitor?.observe(decided.map(\.1), recorded: true)
            return decided.map { ($0.1, $0.2) }
        } catch {
            let denied = decided.map { ($0.1.denyingEverything(because: Reason(.auditUnavailable, detail: "\(error)")), $0.2) }
            monitor?.observe(denied.map(\.0), recorded: false)
            return denied
        }
    }

    /// The gate in front of the embedded feature store, with the policies in force and the server's shared commits.
    public var gate: FeatureGate { FeatureGate(plan: plan, store: features, writer: writer, consent: consent) }
}
