/// The type of a declared attribute (`entity_types:` in a taxonomy).
public enum AttributeType: Hashable, Sendable, CustomStringConvertible {
    case string, int, bool, timestamp, duration
    /// A set of strings (`set`), read by `in` and `size()`.
    case stringSet
    /// The id of an entity of the named type; compared as a string.
    case reference(String)

    /// Reads a declared type: `string`, `int`, `bool`, `timestamp`, `duration`, `set` (or `set<string>`),
    /// `ref<type>`.
    public static func parse(_ text: String) -> AttributeType? {
        switch text {
        case "string": return .string
        case "int": return .int
        case "bool": return .bool
        case "timestamp": return .timestamp
        case "duration": return .duration
        case "set", "set<string>": return .stringSet
        default:
            guard text.hasPrefix("ref<"), text.hasSuffix(">"), text.count > 5 else { return nil }
            return .reference(String(text.dropFirst(4).dropLast()))
        }
    }

    public static let spellings = ["string", "int", "bool", "timestamp", "duration", "set", "ref<type>"]

    public var description: String {
        switch self {
        case .string: "string"
        case .int: "int"
        case .bool: "bool"
        case .timestamp: "timestamp"
        case .duration: "duration"
        case .stringSet: "set"
        case .reference(let type): "ref<\(type)>"
        }
    }

    /// The type a condition sees.
    var conditionType: ConditionType {
        switch self {
        case .string, .reference: .string
        case .int: .int
        case .bool: .bool
        case .timestamp: .timestamp
        case .duration: .duration
        case .stringSet: .list(.string)
        }
    }
}

/// An attribute value as a caller sends it (in `properties`) or entity data holds it, before it is read as its
/// declared type. Nested objects are kept as `other`: conditions cannot read them.
public enum AttributeValue: Hashable, Sendable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case list([AttributeValue])
    case other

    /// Reads a JSON value.
    public init(_ json: JSONValue) {
        switch json {
        case .string(let s): self = .string(s)
        case .int(let i): self = .int(Int64(i))
        case .double(let d): self = .double(d)
        case .bool(let b): self = .bool(b)
        case .array(let items): self = .list(items.map(AttributeValue.init))
        case .null, .object: self = .other
        }
    }

    var json: JSONValue {
        switch self {
        case .string(let s): .string(s)
        case .int(let i): .int(Int(i))
        case .double(let d): .double(d)
        case .bool(let b): .bool(b)
        case .list(let items): .array(items.map(\.json))
        case .other: .null
        }
    }

    /// The value as `type`, or nil when it is not one: a timestamp is RFC 3339 text, a duration text such as
    /// `30d`, a set a list of strings.
    func typed(as type: AttributeType) -> ConditionValue? {
        switch (type, self) {
        case (.string, .string(let s)), (.reference, .string(let s)): return .string(s)
        case (.int, .int(let i)): return .int(i)
        case (.int, .double(let d)) where d == d.rounded() && abs(d) < 9e15: return .int(Int64(d))
        case (.bool, .bool(let b)): return .bool(b)
        case (.timestamp, .string(let s)):
            return Timestamps.parse(s).map { .timestamp(Int64($0.timeIntervalSince1970.rounded(.down))) }
        case (.duration, .string(let s)): return (try? PolicyDuration.parse(s)).map { .duration($0.seconds) }
        case (.stringSet, .list(let items)):
            var values: [ConditionValue] = []
            values.reserveCapacity(items.count)
            for item in items {
                guard case .string(let s) = item else { return nil }
                values.append(.string(s))
            }
            return .list(values)
        default: return nil
        }
    }
}

/// A declared kind of entity: the people whose data is used, the principals who ask, and resources besides
/// catalog features (a `todo`, a `route`, a `dataset`), with their typed attributes.
public struct EntityType: Hashable, Sendable {
    public var name: String
    /// The data category a resource of this type holds; a type without one cannot be a resource.
    public var category: String?
    /// The purpose a request on a resource of this type is taken to have when it names none.
    public var defaultPurpose: String?
    /// Whether a subject sent without a type is of this type (at most one type says so).
    public var dataSubject: Bool
    public var attributes: [String: AttributeType]
    public var description: String?
    public var source: SourceRange
}

/// One entity's data (a `kind: Entities` document): attributes callers need not send. Identified by type and id.
public struct Entity: Hashable, Sendable {
    public var type: String
    public var id: String
    public var properties: [String: AttributeValue]
    public var source: SourceRange

    /// The key entity data is found under: the type and the id, which no id can forge (ids cannot hold U+0000).
    static func key(type: String, id: String) -> String { type + "\u{0}" + id }
}

/// The part of a request an attribute belongs to.
enum EntityRoot: String, Sendable, Hashable {
    case subject, actor, resource
}
