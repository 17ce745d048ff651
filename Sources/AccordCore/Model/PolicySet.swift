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

    /// Whether a category is sensitive: marked so itself or beneath a category marked so. (A resource of
    /// a parent category also holds its children's data; the plan checks every sensitive category below it.)
    public func isSensitive(category name: String) -> Bool {
        if categories[name]?.sensitive == true { return true }
        return Names.ancestors(of: name).contains { categories[$0]?.sensitive == true }
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
