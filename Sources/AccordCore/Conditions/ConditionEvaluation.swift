/// What a condition sees besides the request: the resource being decided and the instant. The request
/// itself is passed alongside, borrowed, so evaluating a condition never copies it.
struct ConditionInput {
    let jurisdiction: String
    let feature: String?
    let category: String
    let entity: String?
    let region: String?
    let ageSeconds: Int64?
    let now: Int64
    /// Where entity data is found; owned by the plan (or the caller of `Condition.holds`), which outlives the input.
    unowned(unsafe) let entities: EntitySource

    func entityValue(type: String?, id: String, _ name: String) -> ConditionValue? { entities.value(type: type, id: id, name) }

    func value(of attribute: ConditionAttribute, in request: DecisionRequest, _ resource: ResourceReference) -> ConditionValue {
        switch attribute {
        case .subjectID: .string(request.subject.id)
        case .subjectType: (request.subject.type ?? entities.dataSubjectType).map { .string($0) } ?? .error
        case .resourceType: .string(resource.type ?? (resource.feature != nil ? "feature" : "category"))
        case .resourceID: .string(resource.id ?? resource.feature ?? category)
        case .subjectAge: request.subject.age.map { .int(Int64($0)) } ?? .error
        case .subjectJurisdiction: .string(jurisdiction)
        case .actorID: .string(request.actor.id)
        case .actorRoles:
            // Sent with the request, else the actor's entity data (`roles`, a set).
            if request.actor.roles.isEmpty, let roles = entityValue(type: request.actor.type, id: request.actor.id, "roles") {
                roles
            } else {
                .list(request.actor.roles.map { .string($0) })
            }
        case .actorType: request.actor.type.map { .string($0) } ?? .error
        case .resourceFeature: feature.map { .string($0) } ?? .error
        case .resourceCategory: .string(category)
        case .resourceEntity: entity.map { .string($0) } ?? .error
        case .resourceRegion: region.map { .string($0) } ?? .error
        case .resourceAge: ageSeconds.map { .duration($0) } ?? .error
        case .contextPurpose: .string(request.purpose)
        case .contextAction: .string(request.action)
        case .contextProcessingRegion: request.context.processingRegion.map { .string($0) } ?? .error
        case .contextTime: .timestamp(now)
        case .contextGPC: .bool(request.context.gpc)
        case .contextEnvironment: request.context.environment.map { .string($0) } ?? .error
        }
    }
}

extension ConditionInput {
    /// A declared attribute: the value the request sends (an error when it is not of the declared type), else the
    /// entity's data, found by type and id; an error when neither has it.
    func property(
        _ root: EntityRoot, _ name: String, _ type: AttributeType, in request: DecisionRequest, _ resource: ResourceReference
    ) -> ConditionValue {
        let sent: [String: AttributeValue]
        let entityType: String?, id: String?
        switch root {
        case .subject:
            (sent, entityType, id) = (
                request.subject.properties, request.subject.type ?? entities.dataSubjectType, request.subject.id
            )
        case .actor: (sent, entityType, id) = (request.actor.properties, request.actor.type, request.actor.id)
        case .resource: (sent, entityType, id) = (resource.properties, resource.type, resource.id)
        }
        if let value = sent[name] { return value.typed(as: type) ?? .error }
        if let id, let value = entityValue(type: entityType, id: id, name) { return value }
        return .error
    }
}

extension CompiledCondition {
    /// Evaluates with three-valued logic; absent attributes give `.error`.
    func evaluate(_ input: ConditionInput, _ request: DecisionRequest, _ resource: ResourceReference) -> ConditionValue {
        switch self {
        case .literal(let value): return value
        case .attribute(let attribute): return input.value(of: attribute, in: request, resource)
        case .has(let attribute): return .bool(input.value(of: attribute, in: request, resource) != .error)
        case .property(let root, let name, let type): return input.property(root, name, type, in: request, resource)
        case .hasProperty(let root, let name, let type): return .bool(input.property(root, name, type, in: request, resource) != .error)
        case .not(let inner):
            if case .bool(let b) = inner.evaluate(input, request, resource) { return .bool(!b) }
            return .error
        case .negate(let inner):
            switch inner.evaluate(input, request, resource) {
            case .int(let v): return v == .min ? .error : .int(-v)
            case .double(let v): return .double(-v)
            case .duration(let v): return v == .min ? .error : .duration(-v)
            default: return .error
            }
        case .and(let lhs, let rhs):
            let left = lhs.evaluate(input, request, resource)
            if left == .bool(false) { return .bool(false) }
            let right = rhs.evaluate(input, request, resource)
            if right == .bool(false) { return .bool(false) }
            return left == .bool(true) && right == .bool(true) ? .bool(true) : .error
        case .or(let lhs, let rhs):
            let left = lhs.evaluate(input, request, resource)
            if left == .bool(true) { return .bool(true) }
            let right = rhs.evaluate(input, request, resource)
            if right == .bool(true) { return .bool(true) }
            return left == .bool(false) && right == .bool(false) ? .bool(false) : .error
        case .compare(let op, let lhs, let rhs):
            let left = lhs.evaluate(input, request, resource), right = rhs.evaluate(input, request, resource)
            guard let order = Self.order(left, right) else { return .error }
            switch op {
            case .equal: return .bool(order == 0)
            case .notEqual: return .bool(order != 0)
            case .less: return .bool(order < 0)
            case .lessOrEqual: return .bool(order <= 0)
            case .greater: return .bool(order > 0)
            case .greaterOrEqual: return .bool(order >= 0)
            }
        case .contains(let element, let list):
            let needle = element.evaluate(input, request, resource)
            guard needle != .error, case .list(let items) = list.evaluate(input, request, resource) else { return .error }
            return .bool(items.contains { Self.order(needle, $0) == 0 })
        case .size(let inner):
            switch inner.evaluate(input, request, resource) {
            case .list(let items): return .int(Int64(items.count))
            case .string(let s): return .int(Int64(s.count))
            default: return .error
            }
        case .startsWith(let a, let b):
            guard case .string(let s) = a.evaluate(input, request, resource),
                case .string(let prefix) = b.evaluate(input, request, resource)
            else {
                return .error
            }
            return .bool(s.hasPrefix(prefix))
        case .within(let a, let b):
            guard case .string(let s) = a.evaluate(input, request, resource),
                case .string(let ancestor) = b.evaluate(input, request, resource)
            else {
                return .error
            }
            return .bool(Names.isWithin(s, ancestor))
        }
    }

    /// -1, 0 or 1 for comparable values; nil for errors or mismatched kinds.
    static func order(_ a: ConditionValue, _ b: ConditionValue) -> Int? {
        func cmp<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : (x == y ? 0 : 1) }
        switch (a, b) {
        case let (.bool(x), .bool(y)): return x == y ? 0 : (x ? 1 : -1)
        case let (.int(x), .int(y)): return cmp(x, y)
        case let (.double(x), .double(y)): return x.isNaN || y.isNaN ? nil : cmp(x, y)
        case let (.int(x), .double(y)): return y.isNaN ? nil : cmp(Double(x), y)
        case let (.double(x), .int(y)): return x.isNaN ? nil : cmp(x, Double(y))
        case let (.string(x), .string(y)): return cmp(x, y)
        case let (.duration(x), .duration(y)): return cmp(x, y)
        case let (.timestamp(x), .timestamp(y)): return cmp(x, y)
        default: return nil
        }
    }
}

extension Condition {
    /// What the condition says for `request` and one resource: true, false, or nil when it cannot be evaluated
    /// (an attribute the request or resource lacks). The compiled plan evaluates it the same way; this entry
    /// point is for tools that walk the validated model themselves, such as the tests' reference evaluator.
    public func holds(
        for request: DecisionRequest, jurisdiction: String, feature: String?, category: String, entity: String?, region: String?,
        ageSeconds: Int64?, now: Int64, resource: ResourceReference? = nil, entities set: PolicySet? = nil
    ) -> Bool? {
        let source = EntitySource(set: set ?? PolicySet())
        return withExtendedLifetime(source) {
            let input = ConditionInput(
                jurisdiction: jurisdiction, feature: feature, category: category, entity: entity, region: region,
                ageSeconds: ageSeconds, now: now, entities: source)
            let resource = resource ?? ResourceReference(feature: feature, category: feature == nil ? category : nil)
            if case .bool(let value) = compiled.evaluate(input, request, resource) { return value }
            return nil
        }
    }
}

/// Entity data as conditions read it: the compiled plan's tables, or — for tools that walk the validated model, such
/// as the tests' reference evaluator — the validated set, each value read as its declared type on the way.
final class EntitySource: Sendable {
    let index: NameTable
    let data: [[String: ConditionValue]]
    let set: PolicySet?
    let dataSubjectType: String?

    init(index: NameTable, data: [[String: ConditionValue]], dataSubjectType: String?) {
        (self.index, self.data, self.set, self.dataSubjectType) = (index, data, nil, dataSubjectType)
    }

    init(set: PolicySet) {
        (self.index, self.data, self.set, self.dataSubjectType) = (NameTable([]), [], set, set.dataSubjectType)
    }

    /// An entity's data, by type and id.
    func entity(type: String?, id: String) -> [String: ConditionValue]? {
        guard let type, !data.isEmpty, let slot = index[Entity.key(type: type, id: id)] else { return nil }
        return data[slot]
    }

    func value(type: String?, id: String, _ name: String) -> ConditionValue? {
        guard let set else { return entity(type: type, id: id)?[name] }
        guard let type, let entity = set.entity(type: type, id: id), let value = entity.properties[name],
            let declared = set.entityTypes[type]?.attributes[name]
        else { return nil }
        return value.typed(as: declared)
    }
}
