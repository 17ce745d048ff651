import AccordCore
import AccordStore
import Foundation
import NIOPosix

/// The one place where Accord decides: every caller — `accord eval`, the gate in front of the feature store
/// and the trainer, the HTTP server — goes through a decision point, and this file is the only one that
/// assembles the steps of a decision:
///
/// 1. **consent**: a request that brings no consent of its own gets the subject's from the consent source, as
///    of the decision's instant (a source that cannot be read denies everything with `consent.unavailable`);
/// 2. **evaluate**: the compiled plan in force decides each resource (pure);
/// 3. **budgets**: an aggregate under a budgeted differential-privacy obligation spends from the ledger, or is
///    denied with `budget.exhausted` / `budget.unavailable`;
/// 4. **record**: the decisions are committed to the audit trail (group commit) before anyone sees them; a
///    decision that cannot be recorded is answered as a deny with `audit.unavailable`, and the observer is told.
///
/// What differs between callers is `Configuration`, nothing else. The plan can be replaced while deciding
/// (`replace(_:)`, a policy reload); each decision uses one plan throughout. Safe from any thread.
public final class DecisionPoint: Sendable {
    /// The parts a decision point decides with. A part left out switches its step off, visibly:
    ///
    /// | part | nil means | `accord eval` | gate | `accord serve` |
    /// | --- | --- | --- | --- | --- |
    /// | `consent` | requests without `consent` are decided as having none | `--consent-store` | always | always |
    /// | `budgets` | aggregates are decided without spending | `--budgets` | always (per query) | unless `--no-budgets` |
    /// | `trail` | nothing is recorded | `--record` | always (required) | always |
    /// | `observer` | failing closed is only in the answer | stderr, exit 3 | server's monitor | logs, metrics, `/readyz` |
    ///
    /// Durability is the trail's own setting (`StoreDatabase(durability:)`): `full`, `normal` or `off`.
    public struct Configuration: Sendable {
        public var consent: (any ConsentSource)?
        public var budgets: (any BudgetLedger)?
        public var trail: (any AuditTrail)?
        public var observer: (any FailClosedObserver)?
        /// The decision instant when a caller gives none, and the time records are stamped with.
        public var clock: @Sendable () -> Date
        /// Where budget spends run for task callers, off the cooperative pool and the event loops: NIO's shared
        /// blocking pool unless a caller brings its own. (Consent reads, point reads, run on the caller's thread.)
        public var offload: NIOThreadPool

        public init(
            consent: (any ConsentSource)? = nil, budgets: (any BudgetLedger)? = nil, trail: (any AuditTrail)? = nil,
            observer: (any FailClosedObserver)? = nil, clock: @escaping @Sendable () -> Date = { Date() },
            offload: NIOThreadPool = .singleton
        ) {
            self.consent = consent
            self.budgets = budgets
            self.trail = trail
            self.observer = observer
            self.clock = clock
            self.offload = offload
        }
    }

    /// A decision as answered, with its id and — when recorded — its audit record.
    public struct Decided: Sendable {
        public var decision: Decision
        public var id: String
        /// Nil when the point records nothing, or when the commit failed (and then the decision denies).
        public var record: AuditRecord?
    }

    public let configuration: Configuration
    /// Group commit for the trail (nil when nothing is recorded).
    public let recorder: AuditRecorder?
    private let current: PlanSlot

    public init(plan: DecisionPlan, configuration: Configuration = Configuration()) {
        self.configuration = configuration
        recorder = configuration.trail.map(AuditRecorder.init(trail:))
        current = PlanSlot(plan)
    }

    /// A point with the given parts (see `Configuration`).
    public convenience init(
        plan: DecisionPlan, consent: (any ConsentSource)? = nil, budgets: (any BudgetLedger)? = nil,
        trail: (any AuditTrail)? = nil, observer: (any FailClosedObserver)? = nil
    ) {
        self.init(plan: plan, configuration: Configuration(consent: consent, budgets: budgets, trail: trail, observer: observer))
    }

    /// The plan in force.
    public var plan: DecisionPlan { current.value }

    /// Puts `plan` in force for every decision that starts from now on (one already running keeps its own).
    public func replace(_ plan: DecisionPlan) { current.value = plan }

    // MARK: - The steps

    /// Steps 1–3 for one request (consent, evaluation, budget), not recorded. `spendingBudgets: false` is for the
    /// gate's aggregates, which spend once per query over the whole cohort instead of once per person.
    public func judge(
        _ request: DecisionRequest, id: String? = nil, asOf instant: Date, plan: DecisionPlan? = nil,
        options: EvaluationOptions = EvaluationOptions(), spendingBudgets: Bool = true
    ) -> Decision {
        let plan = plan ?? self.plan
        var decision: Decision
        if let consent = configuration.consent, !request.consentIsInline {
            do {
                decision = plan.evaluate(try consent.filling(request, asOf: instant), asOf: instant, options: options)
            } catch {
                decision = plan.evaluate(request, asOf: instant, options: options)
                    .denyingEverything(because: Reason(.consentUnavailable, detail: "\(error)"))
            }
        } else {
            decision = plan.evaluate(request, asOf: instant, options: options)
        }
        if spendingBudgets, let budgets = configuration.budgets {
            decision = budgets.spend(decision, for: request, decisionID: id, at: instant)
        }
        return decision
    }

    /// Step 4 for decisions already judged: commits them (shared with other callers' commits) and returns
    /// their records; throws `GateError.notRecorded` — after telling the observer — when the trail cannot
    /// hold them, or when this point has no trail. For callers that serve data only once it is recorded.
    public func record(_ entries: [AuditEntry]) throws -> [AuditRecord] {
        guard let recorder else { throw GateError.notRecorded("no audit trail is configured") }
        do {
            let records = try recorder.record(batch: entries)
            configuration.observer?.observe(entries.map(\.decision), recorded: true)
            return records
        } catch {
            let refusal = Reason(.auditUnavailable, detail: "\(error)")
            configuration.observer?.observe(entries.map { $0.decision.denyingEverything(because: refusal) }, recorded: false)
            throw GateError.notRecorded("\(error)")
        }
    }

    // MARK: - Whole decisions

    /// Decides `requests` as of `instant` (default: the clock) and records them all in one commit when the
    /// point records. If the commit fails, every decision is a deny with `audit.unavailable`. Blocks.
    public func decide(
        _ requests: [DecisionRequest], asOf instant: Date? = nil,
        options: EvaluationOptions = EvaluationOptions()
    ) -> [Decided] {
        let judged = judgeAll(requests, asOf: instant ?? configuration.clock(), options: options)
        guard let recorder else { return finish(judged, records: nil) }
        return finish(judged, records: Result { try recorder.record(batch: entries(judged)) })
    }

    /// The same for task callers: budget spends run through `offload`; the record is committed on the task's
    /// own thread when the recorder is idle, else the task suspends (no thread held) while the commit it shares
    /// with other callers is written.
    public func decide(
        _ requests: [DecisionRequest], asOf instant: Date? = nil,
        options: EvaluationOptions = EvaluationOptions()
    ) async -> [Decided] {
        let instant = instant ?? configuration.clock()
        // Budget spends are commits of their own, run off this thread. A consent read is one point read of
        // the store (~10 µs), cheaper than the two thread switches offloading it would cost: it is done here.
        let blocking = requests.contains { request in configuration.budgets != nil && request.action == "aggregate" }
        let judged: [(DecisionRequest, Decision, String)]
        if blocking {
            judged = await withCheckedContinuation { continuation in
                // Judged whether or not the pool is still active: an answer is owed either way.
                configuration.offload.submit { _ in continuation.resume(returning: self.judgeAll(requests, asOf: instant, options: options))
                }
            }
        } else {
            judged = judgeAll(requests, asOf: instant, options: options)
        }
        guard let recorder else { return finish(judged, records: nil) }
        let entries = entries(judged)
        do {
            return finish(judged, records: .success(try await recorder.record(batch: entries)))
        } catch {
            return finish(judged, records: .failure(error))
        }
    }

    private func judgeAll(
        _ requests: [DecisionRequest], asOf instant: Date,
        options: EvaluationOptions
    ) -> [(DecisionRequest, Decision, String)] {
        let plan = self.plan
        // Ids are ordered by when they were made, not by the instant decided at (which `--as-of` may set).
        let now = configuration.clock()
        return requests.map { request in
            let id = DecisionID.next(at: now)
            return (request, judge(request, id: id, asOf: instant, plan: plan, options: options), id)
        }
    }

    private func entries(_ judged: [(DecisionRequest, Decision, String)]) -> [AuditEntry] {
        let stamped = configuration.clock()
        return judged.map { AuditEntry(decision: $0.1, request: $0.0, decisionID: $0.2, instant: stamped) }
    }

    /// The answers: as judged when recorded (or not recording), denies naming the cause when the commit failed.
    private func finish(_ judged: [(DecisionRequest, Decision, String)], records: Result<[AuditRecord], Error>?) -> [Decided] {
        switch records {
        case nil:
            configuration.observer?.observe(judged.map(\.1), recorded: true)
            return judged.map { Decided(decision: $0.1, id: $0.2, record: nil) }
        case .success(let records)?:
            configuration.observer?.observe(judged.map(\.1), recorded: true)
            return zip(judged, records).map { Decided(decision: $0.1, id: $0.2, record: $1) }
        case .failure(let error)?:
            let refusal = Reason(.auditUnavailable, detail: "\(error)")
            let denied = judged.map { Decided(decision: $0.1.denyingEverything(because: refusal), id: $0.2, record: nil) }
            configuration.observer?.observe(denied.map(\.decision), recorded: false)
            return denied
        }
    }
}

/// The plan in force, swapped whole under a lock (a reference read costs a few nanoseconds).
private final class PlanSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var plan: DecisionPlan

    init(_ plan: DecisionPlan) { self.plan = plan }

    var value: DecisionPlan {
        get { lock.lock(); defer { lock.unlock() }; return plan }
        set { lock.lock(); plan = newValue; lock.unlock() }
    }
}
