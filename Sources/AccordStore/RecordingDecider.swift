import AccordCore
import Foundation

/// Decides and records in one call. A decision that cannot be recorded is returned as a deny with
/// reason `audit.unavailable`: never an unrecorded permit.
public struct RecordingDecider: Sendable {
    public let plan: DecisionPlan
    public let trail: any AuditTrail

    public init(plan: DecisionPlan, trail: any AuditTrail) {
        self.plan = plan
        self.trail = trail
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
            AuditEntry(decision: plan.evaluate(request, asOf: instant, options: options), request: request, decisionID: id, instant: Date())
        }
        do {
            let records = try trail.record(batch: entries)
            return zip(entries, records).map { ($0.decision, $1) }
        } catch {
            let refusal = Reason(.auditUnavailable, detail: "\(error)")
            return entries.map { ($0.decision.denyingEverything(because: refusal), nil) }
        }
    }
}
