import Foundation

extension JSONValue {
    /// The value under `key`, when this is an object holding it.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first { $0.0 == key }?.1
    }

    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// A whole number, written as one (`3`) or as a double with nothing after the point (`3.0`).
    public var intValue: Int? {
        switch self {
        case .int(let value): return value
        case .double(let value): return value == value.rounded() ? Int(exactly: value) : nil
        default: return nil
        }
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// A list of strings (empty included); nil if this is not a list or holds anything else.
    public var stringsValue: [String]? {
        guard case .array(let items) = self else { return nil }
        var texts: [String] = []
        texts.reserveCapacity(items.count)
        for item in items {
            guard case .string(let text) = item else { return nil }
            texts.append(text)
        }
        return texts
    }

    public var objectValue: [(String, JSONValue)]? {
        if case .object(let pairs) = self { return pairs }
        return nil
    }

    /// The JSON value of what `JSONSerialization` or the YAML reader produced; nil if it holds anything else.
    public init?(any: Any) {
        switch any {
        case is NSNull: self = .null
        case let text as String: self = .string(text)
        case let number as NSNumber:
            if String(cString: number.objCType) == "c" {
                self = .bool(number.boolValue)
            } else if let int = Int(exactly: number.doubleValue), number.doubleValue == number.doubleValue.rounded(),
                !["f", "d"].contains(String(cString: number.objCType))
            {
                self = .int(int)
            } else {
                self = .double(number.doubleValue)
            }
        case let list as [Any]:
            var items: [JSONValue] = []
            for item in list {
                guard let value = JSONValue(any: item) else { return nil }
                items.append(value)
            }
            self = .array(items)
        case let map as [String: Any]:
            var pairs: [(String, JSONValue)] = []
            for key in map.keys.sorted() {
                guard let value = JSONValue(any: map[key]!) else { return nil }
                pairs.append((key, value))
            }
            self = .object(pairs)
        default:
            return nil
        }
    }

    /// The value as `JSONSerialization` would give it (`NSNull`, `Bool`, `Int`, `Double`, `String`, `[Any]`,
    /// `[String: Any]`), for code written against that.
    public var any: Any {
        switch self {
        case .null: NSNull()
        case .bool(let value): value
        case .int(let value): value
        case .double(let value): value
        case .string(let value): value
        case .array(let items): items.map(\.any)
        case .object(let pairs): Dictionary(pairs.map { ($0.0, $0.1.any) }, uniquingKeysWith: { first, _ in first })
        }
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}
