/// The type of a condition expression.
indirect enum ConditionType: Equatable, Sendable, CustomStringConvertible {
    case bool, int, double, string, duration, timestamp
    case list(ConditionType)
    /// The element type of an empty list literal.
    case any

    var description: String {
        switch self {
        case .bool: "bool"
        case .int: "int"
        case .double: "double"
        case .string: "string"
        case .duration: "duration"
        case .timestamp: "timestamp"
        case .list(let element): "list<\(element)>"
        case .any: "any"
        }
    }

    var isNumeric: Bool { self == .int || self == .double }
}

/// The request attributes a condition may read: the request schema, fixed at validation time.
public enum ConditionAttribute: String, CaseIterable, Sendable {
    case subjectID = "subject.id"
    case subjectAge = "subject.age"
    case subjectJurisdiction = "subject.jurisdiction"
    case subjectType = "subject.type"
    case actorID = "actor.id"
    case actorRoles = "actor.roles"
    case actorType = "actor.type"
    case resourceType = "resource.type"
    case resourceID = "resource.id"
    case resourceFeature = "resource.feature"
    case resourceCategory = "resource.category"
    case resourceEntity = "resource.entity"
    case resourceRegion = "resource.region"
    case resourceAge = "resource.age"
    case contextPurpose = "context.purpose"
    case contextAction = "context.action"
    case contextProcessingRegion = "context.processing_region"
    case contextTime = "context.time"
    case contextGPC = "context.gpc"
    case contextEnvironment = "context.environment"

    var type: ConditionType {
        switch self {
        case .subjectAge: .int
        case .actorRoles: .list(.string)
        case .resourceAge: .duration
        case .contextTime: .timestamp
        case .contextGPC: .bool
        default: .string
        }
    }

    /// Whether a request may leave it out; reading an absent attribute is an error value, which
    /// makes a permit not apply and a forbid apply (fail closed). `has()` tests for presence.
    var isOptional: Bool {
        switch self {
        case .subjectAge, .subjectType, .actorType, .resourceFeature, .resourceEntity, .resourceRegion, .resourceAge,
            .contextProcessingRegion, .contextEnvironment:
            true
        default: false
        }
    }

    static let roots = ["subject", "actor", "resource", "context"]
}

/// What conditions may read besides the fixed attributes: the declared attributes of entity types, by name, read
/// as `subject.properties.<name>`, `actor.properties.<name>` and `resource.properties.<name>`.
struct ConditionSchema: Sendable {
    var attributes: [String: AttributeType] = [:]
}
