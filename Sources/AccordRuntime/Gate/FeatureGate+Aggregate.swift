import AccordCore
import AccordStore
import Crypto
import Foundation

// MARK: - Aggregates

extension FeatureGate {
    public enum AggregateFunction: String, Sendable, CaseIterable {
        case count, sum, mean
    }

    /// An aggregate over a cohort, or why it was refused.
    public struct Aggregate: Sendable {
        public var function: AggregateFunction
        public var feature: String
        /// The statistic (with noise when differential privacy applies); nil when refused.
        public var value: Double?
        /// Why it was refused (`cohort.too_small`, `budget.exhausted`, …); empty when computed.
        public var refusals: [Reason]
        /// Subjects whose value was permitted and counted — exact only without differential privacy (under it,
        /// nil: the exact size would undo the noise of a count).
        public var cohort: Int?
        /// The noise added: `laplace` or `gaussian`, with the epsilon spent; nil without differential privacy.
        public var mechanism: String?
        public var epsilonSpent: Double?
        public var decisionIDs: [String]
    }

    /// `count`, `sum` or `mean` of a numeric feature's latest values over a cohort, as of `instant`. Each
    /// subject's value is decided as an `aggregate` use for `purpose`; only permitted values count. The
    /// strictest `min_cohort` of the permitted values must be met, or the aggregate is refused. Under a
    /// `differential_privacy` obligation, values are clipped to `clip`, the epsilon is spent from the budget
    /// (if any; refused when exhausted) and calibrated noise is added — Laplace, or Gaussian when `delta` is
    /// given (the mean spends half its epsilon on the sum and half on the count). Decisions are recorded first.
    public func aggregate<R: RandomNumberGenerator>(
        _ function: AggregateFunction, of feature: String, cohort: [Subject], purpose: String, actor: Actor,
        context: RequestContext = RequestContext(), clip: ClosedRange<Double> = 0...1,
        asOf instant: Date = Date(), random: inout R, id: String = DecisionID.next()
    ) throws -> Aggregate {
        let plan = point.plan, budgets = point.configuration.budgets
        // Each person once: a repeated subject would count twice towards min_cohort and the sensitivity.
        let cohort = Self.distinct(cohort)
        let rows = try store.online(entities: cohort.map(\.id), features: [feature], asOf: instant)
        let values = Dictionary(rows.map { ($0.entity, $0) }, uniquingKeysWith: { first, _ in first })
        var entries: [AuditEntry] = []
        var permitted: [(subject: String, value: Double)] = []
        var obligations: Obligations?
        var permittedEntry: [String: Int] = [:]
        for subject in cohort {
            let request = DecisionRequest(
                actor: actor, subject: subject, purpose: purpose, action: "aggregate",
                resources: [ResourceReference(feature: feature, collectedAt: values[subject.id]?.eventTime)],
                context: context, consent: inlineConsent)
            // The budget is spent once for the query below (per person for per-subject budgets), not per decision.
            let decision = point.judge(request, asOf: instant, plan: plan, spendingBudgets: false)
            entries.append(AuditEntry(decision: decision, request: request, decisionID: "\(id)/\(entries.count + 1)", instant: instant))
            guard let resource = decision.resources.first, resource.effect == .permit, let row = values[subject.id],
                let value = Self.masked(row.value, resource.obligations.mask), let number = Self.number(value)
            else { continue }
            permitted.append((subject.id, number))
            permittedEntry[subject.id] = entries.count - 1
            obligations = obligations.map { $0.combined(with: resource.obligations) } ?? resource.obligations
        }
        /// Folds the outcome into the decisions — a refusal denies the values that were permitted, a spend is
        /// noted on the values that paid it — and records them all before the result is returned.
        func recorded(_ result: Aggregate, spentBy subjects: [String] = []) throws -> Aggregate {
            if let refusal = result.refusals.first {
                for index in permittedEntry.values { entries[index].decision = entries[index].decision.denying([0], because: refusal) }
            } else if let epsilon = result.epsilonSpent {
                for subject in subjects {
                    if let index = permittedEntry[subject] { entries[index].decision.resources[0].epsilonSpent = epsilon }
                }
            }
            _ = try point.record(entries)
            return result
        }
        var result = Aggregate(
            function: function, feature: feature, value: nil, refusals: [], cohort: permitted.count, mechanism: nil,
            epsilonSpent: nil, decisionIDs: entries.map(\.decisionID))
        let minimum = obligations?.minCohort ?? 1
        guard permitted.count >= max(minimum, 1) else {
            result.refusals = [Reason(.cohortTooSmall, detail: "fewer than \(minimum)")]
            result.cohort = obligations?.differentialPrivacy == nil ? permitted.count : nil
            return try recorded(result)
        }
        guard let dp = obligations?.differentialPrivacy else {
            result.value = Self.exact(function, permitted.map(\.value))
            return try recorded(result)
        }
        if let budget = dp.budget {
            guard let budgets else {
                result.refusals = [Reason(.budgetUnavailable, detail: "the obligation carries a budget and no ledger was given")]
                return try recorded(result)
            }
            if budget.perSubject {
                // Each person's own budget: those who have none left are left out, and the cohort checked again.
                permitted = try permitted.filter { item in
                    try budgets.spend(
                        epsilon: dp.epsilon, from: budget, purpose: purpose, subject: item.subject, decisionID: id, at: instant)
                }
                guard permitted.count >= max(minimum, 1) else {
                    result.refusals = [Reason(.budgetExhausted, detail: "too few people with budget left (fewer than \(minimum))")]
                    return try recorded(result)
                }
            } else {
                guard try budgets.spend(epsilon: dp.epsilon, from: budget, purpose: purpose, subject: "", decisionID: id, at: instant)
                else {
                    result.refusals = [
                        Reason(.budgetExhausted, detail: "epsilon \(dp.epsilon) per query, \(budget.total) per \(budget.period)")
                    ]
                    return try recorded(result)
                }
            }
        }
        result.cohort = nil
        let clipped = permitted.map { min(max($0.value, clip.lowerBound), clip.upperBound) }
        let bound = max(abs(clip.lowerBound), abs(clip.upperBound))
        // The classic Gaussian calibration holds only for epsilon below 1; above, Laplace (pure epsilon-DP) is used.
        let gaussian = (dp.delta ?? 0) > 0 && dp.epsilon < 1
        func noisy(_ exact: Double, sensitivity: Double, epsilon: Double, delta: Double? = dp.delta) -> Double {
            if gaussian, let delta {
                let sigma = sensitivity * (2 * log(1.25 / delta)).squareRoot() / epsilon
                return exact + Self.gaussian(sigma: sigma, &random)
            }
            return exact + Self.laplace(scale: sensitivity / epsilon, &random)
        }
        switch function {
        case .count: result.value = noisy(Double(clipped.count), sensitivity: 1, epsilon: dp.epsilon)
        case .sum: result.value = noisy(clipped.reduce(0, +), sensitivity: bound, epsilon: dp.epsilon)
        case .mean:
            // Half the epsilon (and half the delta) on the sum, half on the count.
            let sum = noisy(clipped.reduce(0, +), sensitivity: bound, epsilon: dp.epsilon / 2, delta: dp.delta.map { $0 / 2 })
            let count = max(1, noisy(Double(clipped.count), sensitivity: 1, epsilon: dp.epsilon / 2, delta: dp.delta.map { $0 / 2 }))
            result.value = min(max(sum / count, clip.lowerBound), clip.upperBound)
        }
        result.mechanism = gaussian ? "gaussian" : "laplace"
        result.epsilonSpent = dp.epsilon
        return try recorded(result, spentBy: permitted.map(\.subject))
    }

    /// The subjects in order, each once (by id).
    static func distinct(_ subjects: [Subject]) -> [Subject] {
        var seen: Set<String> = []
        return subjects.filter { seen.insert($0.id).inserted }
    }

    static func number(_ value: FeatureValue) -> Double? {
        switch value {
        case .int(let number): Double(number)
        case .double(let number): number.isFinite ? number : nil
        case .bool(let flag): flag ? 1 : 0
        case .string: nil
        }
    }

    static func exact(_ function: AggregateFunction, _ values: [Double]) -> Double {
        switch function {
        case .count: Double(values.count)
        case .sum: values.reduce(0, +)
        case .mean: values.reduce(0, +) / Double(values.count)
        }
    }

    /// Laplace(0, scale) by inverse transform. (Textbook floating-point sampling: see docs/gate.md.)
    static func laplace<R: RandomNumberGenerator>(scale: Double, _ random: inout R) -> Double {
        var u = 0.0
        repeat { u = Double.random(in: -0.5..<0.5, using: &random) } while u == -0.5
        return -scale * (u < 0 ? -1 : 1) * log(1 - 2 * abs(u))
    }

    /// Normal(0, sigma) by the Box–Muller transform.
    static func gaussian<R: RandomNumberGenerator>(sigma: Double, _ random: inout R) -> Double {
        var u1 = 0.0
        repeat { u1 = Double.random(in: 0..<1, using: &random) } while u1 == 0
        let u2 = Double.random(in: 0..<1, using: &random)
        return sigma * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}
