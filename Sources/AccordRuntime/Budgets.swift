import AccordCore
import AccordStore
import Foundation

extension BudgetLedger {
    /// The budget step of a decision on an `aggregate` request: for each budget its permitted resources'
    /// obligations name, one query's epsilon (the smallest the obligations allow) is charged, all in one
    /// transaction. A budget with too little left in the window ending at `instant` denies its resources with
    /// `budget.exhausted` and spends nothing; a ledger that cannot be used denies them with `budget.unavailable`
    /// (fail closed). Other decisions pass through unchanged.
    public func spend(_ decision: Decision, for request: DecisionRequest, decisionID: String?, at instant: Date = Date()) -> Decision {
        guard decision.action == "aggregate" else { return decision }
        // One charge per budget: its purpose, and with `per: subject` its subject.
        var wanted: [String: (charge: BudgetCharge, resources: [Int])] = [:]
        for (i, resource) in decision.resources.enumerated() where resource.effect == .permit {
            guard let dp = resource.obligations.differentialPrivacy, let budget = dp.budget else { continue }
            let key = budget.perSubject ? "\(decision.purpose)#\(request.subject.id)" : decision.purpose
            var entry =
                wanted[key]
                ?? (BudgetCharge(budget: budget, purpose: decision.purpose, subject: request.subject.id, epsilon: dp.epsilon), [])
            entry.charge.epsilon = min(entry.charge.epsilon, dp.epsilon)
            if budget.stricterThan(entry.charge.budget) { entry.charge.budget = budget }
            entry.resources.append(i)
            wanted[key] = entry
        }
        guard !wanted.isEmpty else { return decision }
        let keys = wanted.keys.sorted()
        do {
            let left = try spend(keys.map { wanted[$0]!.charge }, decisionID: decisionID, at: instant)
            var result = decision
            for (key, left) in zip(keys, left) {
                let (charge, resources) = wanted[key]!
                guard let left else {
                    for i in resources { result.resources[i].epsilonSpent = charge.epsilon }
                    continue
                }
                result = result.denying(
                    Set(resources),
                    because: Reason(
                        .budgetExhausted,
                        detail: "epsilon \(charge.epsilon) asked, \(left) left of \(charge.budget.total) per \(charge.budget.period)"))
            }
            return result
        } catch {
            return decision.denying(Set(wanted.values.flatMap(\.resources)), because: Reason(.budgetUnavailable, detail: "\(error)"))
        }
    }
}
