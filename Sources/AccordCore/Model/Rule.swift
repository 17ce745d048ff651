/// Whether a rule grants or refuses.
public enum Effect: String, Sendable, Codable, Hashable {
    case permit, forbid
}

/// How a masked value is transformed, strictest last.
public enum MaskStrategy: String, Sendable, Codable, Hashable, Comparable, CaseIterable {
    case truncate, hash, redact

    public static func < (lhs: MaskStrategy, rhs: MaskStrategy) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Differential-privacy parameters an aggregate must meet, and the privacy budget it spends from.
public struct DifferentialPrivacy: Hashable, Sendable {
    /// Spent by each aggregate (the privacy loss of one query).
    public var epsilon: Double
    public var delta: Double?
    public var budget: PrivacyBudget?

    public init(epsilon: Double, delta: Double? = nil, budget: PrivacyBudget? = nil) {
        self.epsilon = epsilon
        self.delta = delta
        self.budget = budget
    }
}

/// A cap on the total epsilon spent by aggregates for one purpose (or one purpose and one subject) within
/// any window of `period`.
public struct PrivacyBudget: Hashable, Sendable {
    public var total: Double
    public var period: PolicyDuration
    /// Each subject has a budget of their own (else one budget for the purpose).
    public var perSubject: Bool

    public init(total: Double, period: PolicyDuration, perSubject: Bool = false) {
        self.total = total
        self.period = period
        self.perSubject = perSubject
    }

    /// Of two budgets, the one that lets less through: the smaller total, then the longer period, then per purpose.
    public func stricterThan(_ other: PrivacyBudget) -> Bool {
        (total, -period.seconds, perSubject ? 1 : 0) < (other.total, -other.period.seconds, other.perSubject ? 1 : 0)
    }
}

/// What the caller must do with permitted data. Combined across rules, the strictest value wins.
public struct Obligations: Hashable, Sendable {
    public var mask: MaskStrategy?
    /// Fields removed from the value before use.
    public var drop: [String] = []
    /// Aggregates must cover at least this many subjects.
    public var minCohort: Int?
    public var differentialPrivacy: DifferentialPrivacy?
    /// Data derived from this use must be deleted within this long.
    public var deleteAfter: PolicyDuration?

    public init() {}

    public var isEmpty: Bool {
        mask == nil && drop.isEmpty && minCohort == nil && differentialPrivacy == nil && deleteAfter == nil
    }

    /// The stricter of two: strongest mask, union of drops, largest k, smallest epsilon and delta,
    /// earliest deletion.
    public func combined(with other: Obligations) -> Obligations {
        var result = self
        if let mask = other.mask { result.mask = max(result.mask ?? mask, mask) }
        if !other.drop.isEmpty { result.drop = Array(Set(result.drop).union(other.drop)).sorted() }
        if let k = other.minCohort { result.minCohort = max(result.minCohort ?? k, k) }
        if let dp = other.differentialPrivacy {
            if let mine = result.differentialPrivacy {
                // No delta (pure epsilon-DP) is stricter than any delta: one rule asking for it wins.
                let delta: Double? =
                    switch (mine.delta, dp.delta) {
                    case let (a?, b?): min(a, b)
                    default: nil
                    }
                let budget: PrivacyBudget? =
                    switch (mine.budget, dp.budget) {
                    case let (a?, b?): a.stricterThan(b) ? a : b
                    case let (a?, nil): a
                    case let (nil, b): b
                    }
                result.differentialPrivacy = DifferentialPrivacy(epsilon: min(mine.epsilon, dp.epsilon), delta: delta, budget: budget)
            } else {
                result.differentialPrivacy = dp
            }
        }
        if let after = other.deleteAfter { result.deleteAfter = min(result.deleteAfter ?? after, after) }
        return result
    }
}

/// A permit or forbid over purposes, actions, categories and jurisdictions.
public struct Rule: Sendable {
    public var id: String
    public var policy: String
    public var effect: Effect
    public var description: String?
    public var purposes: [NamePattern]
    /// nil means every action.
    public var actions: Set<Action>?
    public var categories: [NamePattern]
    public var except: [NamePattern]
    /// nil means every jurisdiction.
    public var jurisdictions: [String]?
    public var when: Condition?
    public var unless: Condition?
    public var obligations: Obligations
    public var source: SourceRange
}

/// What happens to data past its retention period.
public enum ExpiryAction: String, Sendable, Codable, Hashable {
    case delete, anonymise, aggregate
}

/// The maximum age of data in some categories, optionally only for some purposes.
public struct RetentionRule: Sendable, Hashable {
    public var categories: [NamePattern]
    /// Empty means every purpose.
    public var purposes: [NamePattern]
    public var maxAge: PolicyDuration
    public var onExpiry: ExpiryAction
    public var policy: String
    public var source: SourceRange
}
