/// A validated policy set: every document of a folder, cross-checked. Produced by `PolicySetValidator`,
/// consumed by `DecisionPlan.compile`.
public struct PolicySet: Sendable {
    public var categories: [String: DataCategory] = [:]
    public var purposes: [String: Purpose] = [:]
    public var features: [String: Feature] = [:]
    public var scopes: [String: ConsentScope] = [:]
    public var jurisdictions: [String: Jurisdiction] = [:]
    public var rules: [Rule] = []
    public var retention: [RetentionRule] = []
    /// The normalised text of every file, hashed into the plan's revision.
    public var sources: [String: String] = [:]

    public init() {}

    /// Whether a category is sensitive: marked so itself, under a sensitive ancestor, or holding a
    /// sensitive child (data requested at a parent's level may include the child's, so it is treated as
    /// sensitive: fail closed).
    public func isSensitive(category name: String) -> Bool {
        if categories[name]?.sensitive == true { return true }
        if Names.ancestors(of: name).contains(where: { categories[$0]?.sensitive == true }) { return true }
        return categories.values.contains { $0.sensitive && Names.isWithin($0.name, name) }
    }

    /// A purpose's flag, inherited from its ancestors.
    public func purposeFlag(_ name: String, _ flag: KeyPath<Purpose, Bool>) -> Bool {
        if purposes[name]?[keyPath: flag] == true { return true }
        return Names.ancestors(of: name).contains { purposes[$0]?[keyPath: flag] == true }
    }

    /// The jurisdiction marked as fallback.
    public var fallbackJurisdiction: String? {
        jurisdictions.values.filter(\.fallback).map(\.id).sorted().first
    }
}
