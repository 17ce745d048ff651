import Foundation

/// A strict JSON reader (RFC 8259) straight into `JSONValue`, for requests that arrive over the wire.
///
/// It refuses what a lenient parser would quietly settle: a key repeated within one object (a gateway that keeps
/// the first and Accord keeping the last would read one request two ways), bytes that are not UTF-8, a `\u`
/// escape that is half a surrogate pair, control characters inside strings, trailing commas, comments, leading
/// zeros, numbers too large for a double, and nesting deeper than `maximumDepth`. Every error says where, as a
/// line and column and as the path of the value it was in.
public struct JSONReader {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public enum Kind: Sendable, Equatable {
            case syntax
            /// A key repeated within one object; `key` names it, `path` the object holding it.
            case duplicateKey(String)
            case tooDeep
        }
        public var kind: Kind
        public var message: String
        /// Where in the value the problem is: `subject`, `resources[2]` ("" at the top).
        public var path: String
        public var line: Int
        public var column: Int

        public var description: String { "\(line):\(column): \(message)" + (path.isEmpty ? "" : " (at \(path))") }
    }

    /// Nesting deeper than this is refused: no legitimate request comes near it, and recursion stays bounded.
    public static let maximumDepth = 64

    /// Reads exactly one JSON value (whitespace around it allowed, nothing else).
    public static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(Failure) -> JSONValue in
            var reader = JSONReader(buffer)
            reader.skipWhitespace()
            let value = try reader.value(depth: 0)
            reader.skipWhitespace()
            guard reader.position == buffer.count else { throw reader.failure("unexpected characters after the JSON value") }
            return value
        }
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    /// The keys and indices leading to the value being read, for errors. A key is kept as where it starts
    /// (its opening quote) and read again only when an error names it: no string is retained per value read.
    private var path: [PathStep] = []

    private enum PathStep {
        case key(at: Int)
        case index(Int)
    }

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    // MARK: - Values

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        guard position < bytes.count else { throw failure("unexpected end of input; a value was expected") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw failure("unexpected character \(Self.describe(bytes[position])); a value was expected")
        }
    }

    private mutating func object(depth: Int) throws(Failure) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw failure("nested deeper than \(Self.maximumDepth) levels", kind: .tooDeep) }
        position += 1
        var pairs: [(String, JSONValue)] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(pairs)
        }
        // Small objects (nearly all) are checked for repeated keys by comparison; larger ones by a set.
        var seen: Set<String>?
        while true {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw failure("a key (a string in double quotes) was expected")
            }
            let keyStart = position
            let key = try string()
            let repeated: Bool
            if pairs.count < 12 {
                repeated = pairs.contains { $0.0 == key }
            } else {
                if seen == nil { seen = Set(pairs.map(\.0)) }
                repeated = !seen!.insert(key).inserted
            }
            if repeated {
                position = keyStart
                throw failure("duplicate key '\(key)'; a request must say each thing once", kind: .duplicateKey(key))
            }
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw failure("':' was expected after the key") }
            position += 1
            skipWhitespace()
            path.append(.key(at: keyStart))
            let value = try value(depth: depth)
            path.removeLast()
            pairs.append((key, value))
            skipWhitespace()
            guard position < bytes.count else { throw failure("unexpected end of input; ',' or '}' was expected") }
            switch bytes[position] {
            case UInt8(ascii: ","):
                position += 1
                skipWhitespace()
            case UInt8(ascii: "}"):
                position += 1
                return .object(pairs)
            default:
                throw failure("',' or '}' was expected")
            }
        }
    }

    private mutating func array(depth: Int) throws(Failure) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw failure("nested deeper than \(Self.maximumDepth) levels", kind: .tooDeep) }
        position += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(items)
        }
        while true {
            path.append(.index(items.count))
            items.append(try value(depth: depth))
            path.removeLast()
            skipWhitespace()
            guard position < bytes.count else { throw failure("unexpected end of input; ',' or ']' was expected") }
            switch bytes[position] {
            case UInt8(ascii: ","):
                position += 1
                skipWhitespace()
            case UInt8(ascii: "]"):
                position += 1
                return .array(items)
            default:
                throw failure("',' or ']' was expected")
            }
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count,
            (0..<count).allSatisfy({ bytes[position + $0] == word.utf8Start[$0] })
        else { throw failure("unexpected characters; a value was expected") }
        position += count
    }

    private mutating func number() throws(Failure) -> JSONValue {
        let start = position
        var integral = true
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < bytes.count, Self.isDigit(bytes[position]) else { throw failure("a digit was expected") }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if position < bytes.count, Self.isDigit(bytes[position]) { throw failure("numbers do not start with 0") }
        } else {
            while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            integral = false
            position += 1
            guard position < bytes.count, Self.isDigit(bytes[position]) else { throw failure("a digit was expected after '.'") }
            while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            integral = false
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard position < bytes.count, Self.isDigit(bytes[position]) else { throw failure("a digit was expected in the exponent") }
            while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        if integral, let int = Int(text) { return .int(int) }
        guard let double = Double(text), double.isFinite else {
            position = start
            throw failure("the number \(text.prefix(40)) is out of range")
        }
        return .double(double)
    }

    // MARK: - Strings

    private mutating func string() throws(Failure) -> String {
        position += 1
        let start = position
        var ascii = true
        // Most strings have no escapes: their bytes are their text.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: bytes[start..<position])
                position += 1
                if ascii { return String(decoding: raw, as: UTF8.self) }
                guard let text = String(validating: raw, as: UTF8.self) else {
                    position = start
                    throw failure("the string is not valid UTF-8")
                }
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw failure("control character \(Self.describe(byte)) inside a string; escape it") }
            if byte >= 0x80 { ascii = false }
            position += 1
        }
        guard position < bytes.count else { throw failure("unexpected end of input inside a string") }
        // Escapes: decode from the start of the string.
        var utf8 = Array(UnsafeBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let text = String(validating: utf8, as: UTF8.self) else {
                    position = start
                    throw failure("the string is not valid UTF-8")
                }
                return text
            case UInt8(ascii: "\\"):
                position += 1
                guard position < bytes.count else { break }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hexQuad()
                    if (0xD800...0xDBFF).contains(scalar) {
                        // A high surrogate must be followed by an escaped low one; together they are one scalar.
                        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
                        else {
                            throw failure("\\u\(String(scalar, radix: 16)) is half a surrogate pair")
                        }
                        position += 2
                        let low = try hexQuad()
                        guard (0xDC00...0xDFFF).contains(low) else {
                            throw failure("\\u\(String(scalar, radix: 16)) is half a surrogate pair")
                        }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw failure("\\u\(String(scalar, radix: 16)) is half a surrogate pair")
                    }
                    utf8.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
                default:
                    position -= 1
                    throw failure("unknown escape \\\(Self.describe(escape))")
                }
            default:
                if byte < 0x20 { throw failure("control character \(Self.describe(byte)) inside a string; escape it") }
                utf8.append(byte)
                position += 1
            }
        }
        throw failure("unexpected end of input inside a string")
    }

    private mutating func hexQuad() throws(Failure) -> UInt32 {
        guard position + 4 <= bytes.count else { throw failure("\\u needs four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("\\u needs four hex digits")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    // MARK: - Helpers

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): position += 1
            default: return
            }
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func describe(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "0x" + String(byte, radix: 16, uppercase: true)
    }

    /// A failure at the current position: its line and column (in characters: a column counts UTF-8 sequences,
    /// not bytes) and the path of the value being read.
    private func failure(_ message: String, kind: Failure.Kind = .syntax) -> Failure {
        var line = 1, column = 1
        for index in 0..<min(position, bytes.count) {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        var text = ""
        for step in path {
            switch step {
            case .key(let start):
                // The key was read once already, so it reads again.
                var reader = self
                reader.position = start
                reader.path = []
                let key = (try? reader.string()) ?? "?"
                text += text.isEmpty ? key : ".\(key)"
            case .index(let index): text += "[\(index)]"
            }
        }
        return Failure(kind: kind, message: message, path: text, line: line, column: column)
    }
}
