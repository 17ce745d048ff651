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
    /// Actions a taxonomy declares (with the ancestors their dotted names imply); the built-in six are always known.
    public var actions: [String: DeclaredAction] = [:]
    /// Declared entity types and their attributes.
    public var entityTypes: [String: EntityType] = [:]
    /// Entity data (`kind: Entities`), keyed by type and id.
    public var entities: [String: Entity] = [:]
    /// The `PolicyTest` documents (not part of the policy: they do not change the revision).
    public var tests: [PolicyTestSuite] = []
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

    /// A content hash of the policy text (first 16 bytes of SHA-256 over each file's name and text, in
    /// name order): the same files give the same revision, and `DecisionPlan.revision` is this value.
    public var revision: String {
        var hasher = SHA256()
        for path in sources.keys.sorted() {
            hasher.update(path.utf8)
            hasher.update([0])
            hasher.update(sources[path]!.utf8)
            hasher.update([0])
        }
        return hasher.finalize().prefix(16).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// Whether `rule` names `category` (a pattern matches it and no exception does).
    public func rule(_ rule: Rule, grants category: String) -> Bool {
        let sensitive = isSensitive(category: category)
        return rule.categories.contains { $0.matches(category, isSensitive: sensitive) }
            && !rule.except.contains { $0.matches(category, isSensitive: sensitive) }
    }

    /// Every action a rule or request may name: the built-in ones and the declared ones, sorted.
    public var allActions: [Action] {
        Array(Set(Action.builtIn).union(actions.keys.map { Action($0) })).sorted()
    }

    /// Every declared attribute with its type (an attribute name has one type across entity types).
    public var attributes: [String: AttributeType] {
        var all: [String: AttributeType] = [:]
        for type in entityTypes.values { all.merge(type.attributes) { first, _ in first } }
        return all
    }

    /// An entity's data, by type and id.
    public func entity(type: String, id: String) -> Entity? { entities[Entity.key(type: type, id: id)] }

    /// The entity type a subject sent without a type is of.
    public var dataSubjectType: String? { entityTypes.values.first(where: \.dataSubject)?.name }

    /// The purpose a request that names none is taken to have: the action's `default_purpose` (or its nearest
    /// ancestor's), else the resource type's; nil when neither says.
    public func defaultPurpose(action: String, resourceType: String?) -> String? {
        for name in [action] + Names.ancestors(of: action).reversed() {
            if let purpose = actions[name]?.defaultPurpose { return purpose }
        }
        return resourceType.flatMap { entityTypes[$0]?.defaultPurpose }
    }

    /// The jurisdiction marked as fallback.
    public var fallbackJurisdiction: String? {
        jurisdictions.values.filter(\.fallback).map(\.id).sorted().first
    }
}
