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
        var judged = try judgeCohort(
            feature: feature, cohort: cohort, purpose: purpose, actor: actor, context: context, asOf: instant, id: id)
        var result = Aggregate(
            function: function, feature: feature, value: nil, refusals: [], cohort: judged.permitted.count, mechanism: nil,
            epsilonSpent: nil, decisionIDs: judged.entries.map(\.decisionID))
        let minimum = judged.obligations?.minCohort ?? 1
        guard judged.permitted.count >= max(minimum, 1) else {
            result.refusals = [Reason(.cohortTooSmall, detail: "fewer than \(minimum)")]
            result.cohort = judged.obligations?.differentialPrivacy == nil ? judged.permitted.count : nil
            return try judged.record(result, through: point)
        }
        guard let dp = judged.obligations?.differentialPrivacy else {
            result.value = Self.exact(function, judged.permitted.map(\.value))
            return try judged.record(result, through: point)
        }
        if let budget = dp.budget {
            if let refusal = try spend(
                dp.epsilon, from: budget, by: &judged.permitted, minimum: minimum, purpose: purpose, id: id, at: instant)
            {
                result.refusals = [refusal]
                return try judged.record(result, through: point)
            }
        }
        result.cohort = nil
        let clipped = judged.permitted.map { min(max($0.value, clip.lowerBound), clip.upperBound) }
        (result.value, result.mechanism) = Self.noisy(function, of: clipped, clip: clip, under: dp, &random)
        result.epsilonSpent = dp.epsilon
        return try judged.record(result, through: point, spentBy: judged.permitted.map(\.subject))
    }

    /// The cohort's decisions, one `aggregate` request per person, not yet recorded; and the values permitted.
    struct CohortJudgement {
        var entries: [AuditEntry] = []
        var permitted: [(subject: String, value: Double)] = []
        /// The permitted values' obligations, combined (the strictest of each).
        var obligations: Obligations?
        /// Where each permitted subject's decision is in `entries`.
        var permittedEntry: [String: Int] = [:]

        /// Folds the outcome into the decisions — a refusal denies the values that were permitted, a spend is
        /// noted on the values that paid it — and records them all before the result is returned.
        mutating func record(_ result: Aggregate, through point: DecisionPoint, spentBy subjects: [String] = []) throws -> Aggregate {
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
    }

    private func judgeCohort(
        feature: String, cohort: [Subject], purpose: String, actor: Actor, context: RequestContext, asOf instant: Date, id: String
    ) throws -> CohortJudgement {
        let plan = point.plan
        // Each person once: a repeated subject would count twice towards min_cohort and the sensitivity.
        let cohort = Self.distinct(cohort)
        let rows = try store.online(entities: cohort.map(\.id), features: [feature], asOf: instant)
        let values = Dictionary(rows.map { ($0.entity, $0) }, uniquingKeysWith: { first, _ in first })
        var judged = CohortJudgement()
        for subject in cohort {
            let request = DecisionRequest(
                actor: actor, subject: subject, purpose: purpose, action: "aggregate",
                resources: [ResourceReference(feature: feature, collectedAt: values[subject.id]?.eventTime)],
                context: context, consent: inlineConsent)
            // The budget is spent once for the query (per person for per-subject budgets), not per decision.
            let decision = point.judge(request, asOf: instant, plan: plan, spendingBudgets: false)
            judged.entries.append(
                AuditEntry(decision: decision, request: request, decisionID: "\(id)/\(judged.entries.count + 1)", instant: instant))
            guard let resource = decision.resources.first, resource.effect == .permit, let row = values[subject.id],
                let value = Self.masked(row.value, resource.obligations.mask), let number = Self.number(value)
            else { continue }
            judged.permitted.append((subject.id, number))
            judged.permittedEntry[subject.id] = judged.entries.count - 1
            judged.obligations = judged.obligations.map { $0.combined(with: resource.obligations) } ?? resource.obligations
        }
        return judged
    }

    /// Spends `epsilon` from the budget — the purpose's, or each person's own, leaving out those with none left —
    /// and returns why the aggregate is refused, if it is.
    private func spend(
        _ epsilon: Double, from budget: PrivacyBudget, by permitted: inout [(subject: String, value: Double)], minimum: Int,
        purpose: String, id: String, at instant: Date
    ) throws -> Reason? {
        guard let budgets = point.configuration.budgets else {
            return Reason(.budgetUnavailable, detail: "the obligation carries a budget and no ledger was given")
        }
        if budget.perSubject {
            permitted = try permitted.filter { item in
                try budgets.spend(epsilon: epsilon, from: budget, purpose: purpose, subject: item.subject, decisionID: id, at: instant)
            }
            guard permitted.count >= max(minimum, 1) else {
                return Reason(.budgetExhausted, detail: "too few people with budget left (fewer than \(minimum))")
            }
            return nil
        }
        guard try budgets.spend(epsilon: epsilon, from: budget, purpose: purpose, subject: "", decisionID: id, at: instant) else {
            return Reason(.budgetExhausted, detail: "epsilon \(epsilon) per query, \(budget.total) per \(budget.period)")
        }
        return nil
    }

    /// The statistic over values already clipped, with the noise `dp` calls for, and the mechanism's name.
    static func noisy<R: RandomNumberGenerator>(
        _ function: AggregateFunction, of clipped: [Double], clip: ClosedRange<Double>, under dp: DifferentialPrivacy, _ random: inout R
    ) -> (Double, String) {
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
        let value: Double
        switch function {
        case .count: value = noisy(Double(clipped.count), sensitivity: 1, epsilon: dp.epsilon)
        case .sum: value = noisy(clipped.reduce(0, +), sensitivity: bound, epsilon: dp.epsilon)
        case .mean:
            // Half the epsilon (and half the delta) on the sum, half on the count.
            let sum = noisy(clipped.reduce(0, +), sensitivity: bound, epsilon: dp.epsilon / 2, delta: dp.delta.map { $0 / 2 })
            let count = max(1, noisy(Double(clipped.count), sensitivity: 1, epsilon: dp.epsilon / 2, delta: dp.delta.map { $0 / 2 }))
            value = min(max(sum / count, clip.lowerBound), clip.upperBound)
        }
        return (value, gaussian ? "gaussian" : "laplace")
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
