/// A token of the condition language, with its 0-based offset (in Unicode scalars) in the condition text.
struct ConditionToken: Equatable, Sendable {
    enum Kind: Equatable, Sendable {
        case identifier(String)
        case integer(Int64)
        case double(Double)
        case string(String)
        case duration(PolicyDuration)
        case symbol(String)
        case end
    }

    var kind: Kind
    var offset: Int
    var length: Int
}

/// A problem in a condition, at an offset within its text.
struct ConditionError: Error, Sendable {
    var code: DiagnosticCode
    var message: String
    var offset: Int
    var length: Int = 1
    var help: String?
}

/// Splits condition text into tokens.
struct ConditionLexer {
    static let symbols = ["&&", "||", "==", "!=", "<=", ">=", "!", "<", ">", "(", ")", "[", "]", ",", ".", "-"]

    static func tokenize(_ text: String) throws(ConditionError) -> [ConditionToken] {
        let scalars = Array(text.unicodeScalars)
        var tokens: [ConditionToken] = []
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if c == " " || c == "\t" || c == "\n" || c == "\r" { i += 1; continue }
            let start = i
            if isIdentStart(c) {
                while i < scalars.count, isIdentStart(scalars[i]) || isDigit(scalars[i]) { i += 1 }
                tokens.append(
                    ConditionToken(
                        kind: .identifier(String(String.UnicodeScalarView(scalars[start..<i]))), offset: start, length: i - start))
            } else if isDigit(c) {
                tokens.append(try number(scalars, at: &i))
            } else if c == "\"" || c == "'" {
                tokens.append(try string(scalars, at: &i))
            } else {
                var matched: String?
                for symbol in symbols where i + symbol.unicodeScalars.count <= scalars.count {
                    if String(String.UnicodeScalarView(scalars[i..<(i + symbol.unicodeScalars.count)])) == symbol {
                        matched = symbol
                        break
                    }
                }
                guard let symbol = matched else {
                    var help: String?
                    if c == "&" || c == "|" { help = "use '\(c)\(c)'" }
                    if c == "=" {
                        help = i + 1 < scalars.count && scalars[i + 1] == ">" ? "did you mean '>='?" : "use '==' to compare"
                    }
                    throw ConditionError(code: .conditionSyntax, message: "unexpected character '\(c)'", offset: i, help: help)
                }
                i += symbol.unicodeScalars.count
                tokens.append(ConditionToken(kind: .symbol(symbol), offset: start, length: symbol.unicodeScalars.count))
            }
        }
        tokens.append(ConditionToken(kind: .end, offset: scalars.count, length: 1))
        return tokens
    }

    private static func isDigit(_ s: Unicode.Scalar) -> Bool { ("0"..."9").contains(s) }
    private static func isIdentStart(_ s: Unicode.Scalar) -> Bool { ("a"..."z").contains(s) || ("A"..."Z").contains(s) || s == "_" }

    /// An integer, a double (digits, a dot, digits) or a duration (digits and a unit letter) starting at `i`.
    private static func number(_ scalars: [Unicode.Scalar], at i: inout Int) throws(ConditionError) -> ConditionToken {
        let start = i
        while i < scalars.count, isDigit(scalars[i]) { i += 1 }
        var isDouble = false
        if i + 1 < scalars.count, scalars[i] == ".", isDigit(scalars[i + 1]) {
            isDouble = true
            i += 1
            while i < scalars.count, isDigit(scalars[i]) { i += 1 }
        }
        let digits = String(String.UnicodeScalarView(scalars[start..<i]))
        if !isDouble, i < scalars.count, isIdentStart(scalars[i]) {
            // A duration literal: digits immediately followed by a unit letter.
            var end = i
            while end < scalars.count, isIdentStart(scalars[end]) || isDigit(scalars[end]) { end += 1 }
            let word = String(String.UnicodeScalarView(scalars[start..<end]))
            let token: ConditionToken
            do {
                token = ConditionToken(kind: .duration(try PolicyDuration.parse(word)), offset: start, length: end - start)
            } catch {
                throw ConditionError(
                    code: error == .outOfRange ? .durationOutOfRange : .malformedDuration,
                    message: "invalid duration '\(word)'", offset: start, length: end - start,
                    help: "a duration is a whole number and one unit: s, m, h, d, w or y (e.g. 30d)")
            }
            i = end
            return token
        }
        if isDouble {
            guard let value = Double(digits) else {
                throw ConditionError(
                    code: .conditionSyntax, message: "invalid number '\(digits)'", offset: start, length: i - start)
            }
            return ConditionToken(kind: .double(value), offset: start, length: i - start)
        } else {
            guard let value = Int64(digits) else {
                throw ConditionError(
                    code: .numberOutOfRange, message: "integer '\(digits)' is too large", offset: start, length: i - start)
            }
            return ConditionToken(kind: .integer(value), offset: start, length: i - start)
        }
    }

    /// A quoted string starting at `i` (either quote; escapes \\, \", \', \n and \t).
    private static func string(_ scalars: [Unicode.Scalar], at i: inout Int) throws(ConditionError) -> ConditionToken {
        let start = i
        let c = scalars[i]
        i += 1
        var value = String.UnicodeScalarView()
        var closed = false
        while i < scalars.count {
            let s = scalars[i]
            if s == c { closed = true; i += 1; break }
            if s == "\\" {
                guard i + 1 < scalars.count else { break }
                let next = scalars[i + 1]
                switch next {
                case "\\", "\"", "'": value.append(next)
                case "n": value.append("\n")
                case "t": value.append("\t")
                default:
                    throw ConditionError(code: .conditionSyntax, message: "unknown escape '\\\(next)'", offset: i, length: 2)
                }
                i += 2
                continue
            }
            value.append(s)
            i += 1
        }
        guard closed else {
            throw ConditionError(code: .conditionSyntax, message: "unterminated string", offset: start, length: i - start)
        }
        return ConditionToken(kind: .string(String(value)), offset: start, length: i - start)
    }
}
