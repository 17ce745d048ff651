import Foundation

/// Obligations applied to a value, the one definition the gate, the server's callers and the Python package share
/// (`Tests/Corpus/obligations/cases.jsonl` holds the cases both test against).
extension Obligations {
    /// What the caller may use of a permitted `value`, or nil when nothing may be used. `drop` removes fields of an
    /// object (a path `a.b` reaches into nested objects). `mask` then transforms what is left, an object or list
    /// field by field:
    /// - `redact` removes the value;
    /// - `hash` replaces a value with `sha256:` and the hex SHA-256 of its text — a string as it is, a number as
    ///   Swift writes it (`12`, `1.5`, `1e-05`), `true`/`false` — stable, so it still joins and counts;
    /// - `truncate` keeps a string's first four characters (a string of four or fewer is removed, as it would stay
    ///   whole) and a number's two leading digits (`1234` → `1200`, `0.0456` → `0.045`); a boolean stays.
    ///
    /// A null stays null. A field or element a mask removes is left out of its object or list.
    public func apply(to value: JSONValue) -> JSONValue? {
        var value = value
        for path in drop { value = Self.dropping(path.split(separator: ".").map(String.init), from: value) }
        return Self.masked(value, mask)
    }

    private static func dropping(_ path: [String], from value: JSONValue) -> JSONValue {
        guard let first = path.first, case .object(let pairs) = value else { return value }
        if path.count == 1 { return .object(pairs.filter { $0.0 != first }) }
        return .object(pairs.map { $0.0 == first ? ($0.0, dropping(Array(path.dropFirst()), from: $0.1)) : $0 })
    }

    /// One value under a mask (nil: removed).
    public static func masked(_ value: JSONValue, _ mask: MaskStrategy?) -> JSONValue? {
        guard let mask else { return value }
        switch value {
        case .null: return .null
        case .object(let pairs): return .object(pairs.compactMap { key, field in masked(field, mask).map { (key, $0) } })
        case .array(let items): return .array(items.compactMap { masked($0, mask) })
        case .string, .int, .double, .bool: break
        }
        switch mask {
        case .redact: return nil
        case .hash:
            var hasher = SHA256()
            hasher.update(text(of: value).utf8)
            return .string("sha256:" + hasher.finalize().map { String($0, radix: 16).leftPadded(to: 2) }.joined())
        case .truncate:
            switch value {
            case .string(let text): return text.count <= 4 ? nil : .string(String(text.prefix(4)))
            case .int(let number): return .int(Int(twoDigits(Int64(number))))
            case .double(let number):
                guard number != 0, number.isFinite else { return value }
                // The C library's log10 and pow, as Python's math module calls them: the same digits either side.
                let scale = Foundation.pow(10, (Foundation.log10(abs(number))).rounded(.down) - 1)
                return .double((number / scale).rounded(.towardZero) * scale)
            default: return value
            }
        }
    }

    /// The text a value is hashed by.
    public static func text(of value: JSONValue) -> String {
        switch value {
        case .string(let s): s
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .bool(let b): String(b)
        case .null: "null"
        case .array, .object: value.serialized()
        }
    }

    /// A number cut to its two leading digits, towards zero.
    public static func twoDigits(_ number: Int64) -> Int64 {
        var scale: Int64 = 1
        while (number / scale).magnitude >= 100 { scale *= 10 }
        return number / scale * scale
    }
}
