import AccordCore
import Foundation

/// Decides and records in one call. A decision that cannot be recorded is returned as a deny with
/// reason `audit.unavailable`: never an unrecorded permit.
public struct RecordingDecider: Sendable {
    public let plan: DecisionPlan
    public let trail: SQLiteAuditTrail

    public init(plan: DecisionPlan, trail: SQLiteAuditTrail) {
        self.plan = plan
        self.trail = trail
    }

    /// The decision and its record; `record` is nil when the trail could not be written (and then the decision denies).
    public func decide(
        _ request: DecisionRequest, asOf instant: Date, decisionID: String, options: EvaluationOptions = EvaluationOptions()
    ) -> (decision: Decision, record: AuditRecord?) {
        let decision = plan.evaluate(request, asOf: instant, options: options)
        do {
            let record = try trail.record(decision, for: request, decisionID: decisionID, at: Date())
            return (decision, record)
        } catch {
            return (decision.denyingEverything(because: Reason(.auditUnavailable, detail: "\(error)")), nil)
        }
    }
}
