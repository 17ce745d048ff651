/// The untyped syntax tree of a condition, straight from the parser.
indirect enum ConditionSyntax: Sendable {
    case boolean(Bool, offset: Int)
    case integer(Int64, offset: Int)
    case double(Double, offset: Int)
    case string(String, offset: Int)
    case duration(PolicyDuration, offset: Int)
    case list([ConditionSyntax], offset: Int)
    case path([String], offset: Int, length: Int)
    case call(String, [ConditionSyntax], offset: Int, length: Int)
    case not(ConditionSyntax, offset: Int)
    case negate(ConditionSyntax, offset: Int)
    case binary(String, ConditionSyntax, ConditionSyntax, offset: Int, length: Int)

    var offset: Int {
        switch self {
        case .boolean(_, let o), .integer(_, let o), .double(_, let o), .string(_, let o), .duration(_, let o),
            .list(_, let o), .path(_, let o, _), .call(_, _, let o, _), .not(_, let o), .negate(_, let o),
            .binary(_, _, _, let o, _):
            o
        }
    }
}

/// A recursive-descent parser. Precedence, loosest first: `||`, `&&`, comparisons and `in`
/// (non-associative), unary `!` and `-`, primaries.
struct ConditionParser {
    static let maxDepth = 32
    static let maxLength = 4_096

    private var tokens: [ConditionToken]
    private var position = 0
    private var depth = 0

    static func parse(_ text: String) throws(ConditionError) -> ConditionSyntax {
        guard text.unicodeScalars.count <= maxLength else {
            throw ConditionError(code: .conditionTooComplex, message: "condition longer than \(maxLength) characters", offset: 0)
        }
        var parser = ConditionParser(tokens: try ConditionLexer.tokenize(text))
        if case .end = parser.peek.kind {
            throw ConditionError(code: .conditionSyntax, message: "empty condition", offset: 0)
        }
        let expression = try parser.parseOr()
        guard case .end = parser.peek.kind else {
            throw parser.unexpected("expected an operator or the end of the condition")
        }
        return expression
    }

    private init(tokens: [ConditionToken]) { self.tokens = tokens }

    private var peek: ConditionToken { tokens[position] }

    private mutating func advance() -> ConditionToken {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private func isSymbol(_ symbol: String) -> Bool {
        if case .symbol(let s) = peek.kind { return s == symbol }
        return false
    }

    private func isKeyword(_ word: String) -> Bool {
        if case .identifier(let s) = peek.kind { return s == word }
        return false
    }

    private func unexpected(_ expectation: String) -> ConditionError {
        let token = peek
        let found: String
        switch token.kind {
        case .end: found = "end of condition"
        case .identifier(let s): found = "'\(s)'"
        case .symbol(let s): found = "'\(s)'"
        case .string(let s): found = "string \"\(s)\""
        case .integer(let v): found = "\(v)"
        case .double(let v): found = "\(v)"
        case .duration(let d): found = "\(d)"
        }
        var help: String?
        if case .identifier(let word) = token.kind, ["and", "or", "not"].contains(word) {
            help = "use '&&', '||' and '!'"
        }
        return ConditionError(
            code: .conditionSyntax, message: "\(expectation), found \(found)", offset: token.offset,
            length: token.length, help: help)
    }

    private mutating func enter() throws(ConditionError) {
        depth += 1
        if depth > ConditionParser.maxDepth {
            throw ConditionError(
                code: .conditionTooComplex, message: "condition nested deeper than \(ConditionParser.maxDepth) levels",
                offset: peek.offset, length: peek.length)
        }
    }

    private mutating func parseOr() throws(ConditionError) -> ConditionSyntax {
        var left = try parseAnd()
        while isSymbol("||") {
            let op = advance()
            let right = try parseAnd()
            left = .binary("||", left, right, offset: op.offset, length: 2)
        }
        return left
    }

    private mutating func parseAnd() throws(ConditionError) -> ConditionSyntax {
        var left = try parseRelation()
        while isSymbol("&&") {
            let op = advance()
            let right = try parseRelation()
            left = .binary("&&", left, right, offset: op.offset, length: 2)
        }
        return left
    }

    private mutating func parseRelation() throws(ConditionError) -> ConditionSyntax {
        let left = try parseUnary()
        for op in ["==", "!=", "<=", ">=", "<", ">"] where isSymbol(op) {
            let token = advance()
            let right = try parseUnary()
            try refuseChainedComparison()
            return .binary(op, left, right, offset: token.offset, length: token.length)
        }
        if isKeyword("in") {
            let token = advance()
            let right = try parseUnary()
            try refuseChainedComparison()
            return .binary("in", left, right, offset: token.offset, length: 2)
        }
        return left
    }

    private func refuseChainedComparison() throws(ConditionError) {
        for op in ["==", "!=", "<=", ">=", "<", ">"] where isSymbol(op) {
            throw ConditionError(
                code: .conditionSyntax, message: "comparisons cannot be chained", offset: peek.offset,
                length: peek.length, help: "join them with '&&'")
        }
        if isKeyword("in") {
            throw ConditionError(code: .conditionSyntax, message: "comparisons cannot be chained", offset: peek.offset, length: 2)
        }
    }

    private mutating func parseUnary() throws(ConditionError) -> ConditionSyntax {
        if isSymbol("!") {
            let token = advance()
            try enter(); defer { depth -= 1 }
            return .not(try parseUnary(), offset: token.offset)
        }
        if isSymbol("-") {
            let token = advance()
            try enter(); defer { depth -= 1 }
            return .negate(try parseUnary(), offset: token.offset)
        }
        return try parsePrimary()
    }

    private mutating func parsePrimary() throws(ConditionError) -> ConditionSyntax {
        let token = peek
        switch token.kind {
        case .integer(let v): _ = advance(); return .integer(v, offset: token.offset)
        case .double(let v): _ = advance(); return .double(v, offset: token.offset)
        case .string(let s): _ = advance(); return .string(s, offset: token.offset)
        case .duration(let d): _ = advance(); return .duration(d, offset: token.offset)
        case .symbol("("):
            try enter(); defer { depth -= 1 }
            _ = advance()
            let inner = try parseOr()
            guard isSymbol(")") else { throw unexpected("expected ')'") }
            _ = advance()
            return inner
        case .symbol("["):
            try enter(); defer { depth -= 1 }
            _ = advance()
            var items: [ConditionSyntax] = []
            if !isSymbol("]") {
                while true {
                    items.append(try parseUnary())
                    if isSymbol(",") { _ = advance(); if isSymbol("]") { break }; continue }
                    break
                }
            }
            guard isSymbol("]") else { throw unexpected("expected ',' or ']' in list") }
            _ = advance()
            return .list(items, offset: token.offset)
        case .identifier(let name):
            _ = advance()
            if name == "true" { return .boolean(true, offset: token.offset) }
            if name == "false" { return .boolean(false, offset: token.offset) }
            if ["and", "or", "not"].contains(name), !isSymbol("("), !isSymbol(".") {
                throw ConditionError(
                    code: .conditionSyntax, message: "'\(name)' is not an operator here", offset: token.offset,
                    length: token.length, help: "use '&&', '||' and '!'")
            }
            if isSymbol("(") {
                try enter(); defer { depth -= 1 }
                _ = advance()
                var arguments: [ConditionSyntax] = []
                if !isSymbol(")") {
                    while true {
                        arguments.append(try parseOr())
                        if isSymbol(",") { _ = advance(); continue }
                        break
                    }
                }
                guard isSymbol(")") else { throw unexpected("expected ',' or ')' after argument") }
                _ = advance()
                return .call(name, arguments, offset: token.offset, length: token.length)
            }
            var parts = [name]
            var end = token.offset + token.length
            while isSymbol(".") {
                _ = advance()
                guard case .identifier(let member) = peek.kind else { throw unexpected("expected a field name after '.'") }
                let memberToken = advance()
                parts.append(member)
                end = memberToken.offset + memberToken.length
            }
            return .path(parts, offset: token.offset, length: end - token.offset)
        default:
            throw unexpected("expected a value")
        }
    }
}
