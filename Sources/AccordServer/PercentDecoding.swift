import Hummingbird

/// Percent-decoding of URL parts (RFC 3986 §2.1): every `%XX` becomes the byte it names, exactly once, and the
/// bytes must then be UTF-8. `+` is a plus sign, not a space (that is HTML form encoding, not RFC 3986), so
/// `u+1` names the subject `u+1`.
enum PercentDecoding {
    enum Problem: Error, Equatable {
        /// A `%` not followed by two hexadecimal digits.
        case malformedEscape
        /// The decoded bytes are not UTF-8.
        case notUTF8
    }

    static func decode(_ text: Substring) throws(Problem) -> String {
        let utf8 = text.utf8
        guard utf8.contains(UInt8(ascii: "%")) else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                index = utf8.index(after: index)
                continue
            }
            let high = utf8.index(after: index)
            guard high != utf8.endIndex, let upper = hexValue(utf8[high]) else { throw .malformedEscape }
            let low = utf8.index(after: high)
            guard low != utf8.endIndex, let lower = hexValue(utf8[low]) else { throw .malformedEscape }
            bytes.append(upper << 4 | lower)
            index = utf8.index(after: low)
        }
        guard let string = String(validating: bytes, as: UTF8.self) else { throw .notUTF8 }
        return string
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The query string's parameters, names and values each decoded once; a malformed or non-UTF-8 one is an error
    /// rather than a value taken raw (Hummingbird's own map falls back to the undecoded text).
    static func query(_ query: String?) throws(Problem) -> [String: String] {
        guard let query, !query.isEmpty else { return [:] }
        var parameters: [String: String] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try decode(parts[0])
            let value = parts.count > 1 ? try decode(parts[1]) : ""
            // The first occurrence wins, as documented; a repeated parameter is not merged.
            if parameters[name] == nil { parameters[name] = value }
        }
        return parameters
    }
}

extension AccordHTTPServer {
    /// A path parameter (`:subject`), percent-decoded once; 400 `request.invalid_path` when it cannot be.
    func pathParameter(_ name: String, _ context: BasicRequestContext) throws -> String {
        guard let raw = context.parameters.get(name) else {
            throw Failure(.requestInvalidPath, "the path has no '\(name)'")
        }
        let value: String
        do {
            value = try PercentDecoding.decode(Substring(raw))
        } catch {
            throw Failure(
                .requestInvalidPath,
                error == .notUTF8
                    ? "the \(name) in the path is not UTF-8 once percent-decoded"
                    : "the \(name) in the path has a '%' not followed by two hexadecimal digits")
        }
        guard !value.isEmpty else { throw Failure(.requestInvalidPath, "the \(name) in the path is empty") }
        return value
    }

    /// The query parameters, each decoded once; 400 `request.invalid_query` when one cannot be.
    func queryParameters(_ request: Request) throws -> [String: String] {
        do {
            return try PercentDecoding.query(request.uri.query)
        } catch {
            throw Failure(
                .requestInvalidQuery,
                error == .notUTF8
                    ? "a query parameter is not UTF-8 once percent-decoded"
                    : "a query parameter has a '%' not followed by two hexadecimal digits")
        }
    }
}
