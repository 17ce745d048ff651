import AccordCore
import Foundation

/// Decides and records in one call. A request that does not carry its own consent state gets the subject's
/// from the consent store, if one is given, as of the decision's instant. A decision that cannot be recorded
/// is returned as a deny with reason `audit.unavailable`, one whose consent cannot be read as a deny with
/// `consent.unavailable`: never an unrecorded permit, never a permit on consent no one could check.
public struct RecordingDecider: Sendable {
    public let plan: DecisionPlan
    public let trail: any AuditTrail
    public let consent: ConsentStore?
    /// Aggregates under a budgeted `differential_privacy` obligation spend from it (and are denied with
    /// `budget.exhausted` when it has too little left); the spend is part of the recorded decision.
    public let budgets: PrivacyBudgetLedger?

    public init(plan: DecisionPlan, trail: any AuditTrail, consent: ConsentStore? = nil, budgets: PrivacyBudgetLedger? = nil) {
        self.plan = plan
        self.trail = trail
        self.consent = consent
        self.budgets = budgets
    }

    /// The decision and its record; `record` is nil when the trail could not be written (and then the decision denies).
    public func decide(
        _ request: DecisionRequest, asOf instant: Date, decisionID: String, options: EvaluationOptions = EvaluationOptions()
    ) -> (decision: Decision, record: AuditRecord?) {
        decide(batch: [(request, decisionID)], asOf: instant, options: options)[0]
    }

    /// Decides every request and records them all in one commit (group commit). If the commit fails, every
    /// decision of the batch is a deny with `audit.unavailable`.
    public func decide(
        batch requests: [(request: DecisionRequest, decisionID: String)], asOf instant: Date, options: EvaluationOptions = EvaluationOptions()
    ) -> [(decision: Decision, record: AuditRecord?)] {
        let entries = requests.map { request, id in
            var decision = decideWithConsent(request, asOf: instant, options: options)
            if let budgets { decision = budgets.spend(decision, for: request, decisionID: id) }
            return AuditEntry(decision: decision, request: request, decisionID: id, instant: Date())
        }
        do {
            let records = try trail.record(batch: entries)
            return zip(entries, records).map { ($0.decision, $1) }
        } catch {
            let refusal = Reason(.auditUnavailable, detail: "\(error)")
            return entries.map { ($0.decision.denyingEverything(because: refusal), nil) }
        }
    }

    /// The plan's decision, on the stored consent when the request brings none.
    private func decideWithConsent(_ request: DecisionRequest, asOf instant: Date, options: EvaluationOptions) -> Decision {
        guard let consent else { return plan.evaluate(request, asOf: instant, options: options) }
        return consent.decide(request, with: plan, asOf: instant, options: options)
    }
}
