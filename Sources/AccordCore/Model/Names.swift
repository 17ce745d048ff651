/// Dotted hierarchical names (`user.behavior.clicks`) and the patterns that select them.
public enum Names {
    /// Whether `name` is `a.b.c` with each part lowercase letters, digits or `_`, starting with a letter.
    public static func isValid(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 200 else { return false }
        for part in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard let first = part.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else { return false }
            for byte in part.utf8 {
                let ok =
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
                if !ok { return false }
            }
        }
        return true
    }

    /// Whether `name` is `ancestor` or lies beneath it.
    public static func isWithin(_ name: String, _ ancestor: String) -> Bool {
        name == ancestor
            || (name.hasPrefix(ancestor) && name.utf8.count > ancestor.utf8.count
                && name.utf8[name.utf8.index(name.utf8.startIndex, offsetBy: ancestor.utf8.count)] == UInt8(ascii: "."))
    }

    /// Every proper ancestor of a name, nearest last: `a.b.c` → `a`, `a.b`.
    public static func ancestors(of name: String) -> [String] {
        let parts = name.split(separator: ".")
        guard parts.count > 1 else { return [] }
        return (1..<parts.count).map { parts[0..<$0].joined(separator: ".") }
    }
}

/// A selector over dotted names, as written in rules: `a.b` (a.b and everything under it), `a.b.*`
/// (everything strictly under a.b), `*` (everything), and for categories `sensitive` (every category
/// marked sensitive, with its children).
public enum NamePattern: Hashable, Sendable, CustomStringConvertible {
    case all
    case subtree(String)
    case descendants(String)
    case sensitive

    public static func parse(_ text: String, allowSensitive: Bool) -> NamePattern? {
        if text == "*" { return .all }
        if allowSensitive, text == "sensitive" { return .sensitive }
        if text.hasSuffix(".*") {
            let base = String(text.dropLast(2))
            return Names.isValid(base) ? .descendants(base) : nil
        }
        return Names.isValid(text) ? .subtree(text) : nil
    }

    /// The name the pattern is rooted at, for reference checks.
    public var base: String? {
        switch self {
        case .subtree(let name), .descendants(let name): name
        case .all, .sensitive: nil
        }
    }

    /// Whether the pattern selects `name`; `isSensitive` tells whether that name is sensitive.
    public func matches(_ name: String, isSensitive: Bool = false) -> Bool {
        switch self {
        case .all: true
        case .sensitive: isSensitive
        case .subtree(let base): Names.isWithin(name, base)
        case .descendants(let base): name != base && Names.isWithin(name, base)
        }
    }

    public var description: String {
        switch self {
        case .all: "*"
        case .sensitive: "sensitive"
        case .subtree(let base): base
        case .descendants(let base): base + ".*"
        }
    }

    /// How specific a match is: deeper bases are more specific; `*` is least.
    var specificity: Int {
        switch self {
        case .all, .sensitive: 0
        case .subtree(let base): base.split(separator: ".").count * 2
        case .descendants(let base): base.split(separator: ".").count * 2 + 1
        }
    }
}
