/// Finds a key repeated within one JSON object. `JSONSerialization` keeps the last of two equal keys
/// silently, so a request could carry `"age": 12, "age": 30` and be read differently by a gateway that
/// keeps the first; Accord refuses such requests instead. Syntax is left to the real parser: this only
/// tracks objects, arrays and strings.
public enum JSONDuplicateKeys {
    /// The first repeated key, with the path of the object holding it (`subject`, `resources[0]`), if any.
    public static func find(in bytes: [UInt8]) -> (key: String, path: String)? {
        struct Container {
            var isObject: Bool
            var expectingKey: Bool
            var keys: Set<String> = []
            var name: String
            var index = 0
            var lastKey = ""
        }
        var stack: [Container] = []
        var i = 0
        func path() -> String {
            stack.dropFirst().enumerated().map { offset, container in
                let parent = stack[offset]
                return parent.isObject ? (offset == 0 ? parent.lastKey : "." + parent.lastKey) : "[\(parent.index)]"
            }.joined()
        }
        while i < bytes.count {
            let byte = bytes[i]
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                stack.append(Container(isObject: byte == UInt8(ascii: "{"), expectingKey: byte == UInt8(ascii: "{"), name: ""))
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = stack.popLast()
                i += 1
            case UInt8(ascii: ":"):
                if !stack.isEmpty { stack[stack.count - 1].expectingKey = false }
                i += 1
            case UInt8(ascii: ","):
                if !stack.isEmpty {
                    if stack[stack.count - 1].isObject { stack[stack.count - 1].expectingKey = true } else { stack[stack.count - 1].index += 1 }
                }
                i += 1
            case UInt8(ascii: "\""):
                guard let top = stack.last, top.isObject, top.expectingKey else {
                    // A value: only its end matters.
                    guard let end = stringEnd(bytes, from: i) else { return nil }
                    i = end
                    continue
                }
                guard let (text, end) = readString(bytes, from: i) else { return nil }
                i = end
                do {
                    if top.keys.contains(text) { return (text, path()) }
                    stack[stack.count - 1].keys.insert(text)
                    stack[stack.count - 1].lastKey = text
                }
            default:
                i += 1
            }
        }
        return nil
    }

    /// The index after a string's closing quote; nil if it never closes.
    private static func stringEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var i = start + 1
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "\\"): i += 2
            case UInt8(ascii: "\""): return i + 1
            default: i += 1
            }
        }
        return nil
    }

    /// A string's decoded text and the index after its closing quote; nil if it never closes.
    private static func readString(_ bytes: [UInt8], from start: Int) -> (String, Int)? {
        // Most keys have no escapes: their bytes are their text.
        if let end = stringEnd(bytes, from: start), !bytes[(start + 1)..<(end - 1)].contains(UInt8(ascii: "\\")) {
            return (String(decoding: bytes[(start + 1)..<(end - 1)], as: UTF8.self), end)
        }
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []
        var i = start + 1
        func flush() {
            if !raw.isEmpty { scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars); raw.removeAll() }
        }
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "\"") { flush(); return (String(scalars), i + 1) }
            if byte == UInt8(ascii: "\\"), i + 1 < bytes.count {
                flush()
                let escape = bytes[i + 1]
                if escape == UInt8(ascii: "u"), i + 5 < bytes.count,
                   let value = UInt32(String(decoding: bytes[(i + 2)...(i + 5)], as: UTF8.self), radix: 16) {
                    scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
                    i += 6
                    continue
                }
                let decoded: Unicode.Scalar = switch escape {
                case UInt8(ascii: "n"): "\n"
                case UInt8(ascii: "t"): "\t"
                case UInt8(ascii: "r"): "\r"
                case UInt8(ascii: "b"): "\u{08}"
                case UInt8(ascii: "f"): "\u{0C}"
                default: Unicode.Scalar(escape)
                }
                scalars.append(decoded)
                i += 2
                continue
            }
            raw.append(byte)
            i += 1
        }
        return nil
    }
}
