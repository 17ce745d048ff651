/// Typed, strict access to the values of one YAML mapping: unknown keys, wrong types and YAML 1.1
/// spellings become diagnostics; nothing is coerced silently.
struct FieldReader {
    let node: SyntaxNode
    let pairs: [String: SyntaxPair]

    /// Checks `node` is a mapping with only `allowed` keys and every `required` key; nil if not a mapping.
    /// `misplaced` names keys that belong elsewhere, with where they belong.
    static func open(
        _ node: SyntaxNode, what: String, allowed: [String], required: [String] = [],
        misplaced: [String: String] = [:], into bag: inout DiagnosticBag
    ) -> FieldReader? {
        guard case .mapping(let list) = node.value else {
            bag.error(.wrongType, "\(what) must be a mapping, found \(node.kindDescription)", at: node.range)
            return nil
        }
        var pairs: [String: SyntaxPair] = [:]
        for pair in list {
            if let home = misplaced[pair.key] {
                bag.add(
                    Diagnostic(
                        .misplacedKey, "'\(pair.key)' does not belong in \(what)", at: keyRange(pair),
                        help: "move it to \(home); here it would be ignored"))
            } else if !allowed.contains(pair.key) {
                var help = Suggestion.help(for: pair.key, in: allowed) ?? "allowed keys: \(allowed.joined(separator: ", "))"
                if let near = Suggestion.closest(to: pair.key, in: misplaced.keys), Suggestion.closest(to: pair.key, in: allowed) == nil {
                    help = "did you mean '\(near)'? it belongs in \(misplaced[near]!)"
                }
                bag.error(.unknownKey, "unknown key '\(pair.key)' in \(what)", at: keyRange(pair), help: help)
            }
            pairs[pair.key] = pair
        }
        for key in required where pairs[key] == nil {
            bag.error(.missingKey, "\(what) is missing '\(key)'", at: node.range)
        }
        return FieldReader(node: node, pairs: pairs)
    }

    static func keyRange(_ pair: SyntaxPair) -> SourceRange {
        var range = pair.keyRange
        range.length = max(1, pair.key.count)
        return range
    }

    subscript(key: String) -> SyntaxPair? { pairs[key] }

    // MARK: - Scalars

    /// A string (plain or quoted); null and collections are wrong types.
    func string(_ key: String, into bag: inout DiagnosticBag) -> String? {
        guard let pair = pairs[key] else { return nil }
        return Self.string(pair.value, what: "'\(key)'", into: &bag)
    }

    static func string(_ node: SyntaxNode, what: String, into bag: inout DiagnosticBag) -> String? {
        guard case .scalar(let text, _) = node.value, !node.isNull else {
            bag.error(.wrongType, "\(what) must be a string, found \(node.kindDescription)", at: node.range)
            return nil
        }
        return text
    }

    /// A dotted lowercase name.
    func name(_ key: String, into bag: inout DiagnosticBag) -> String? {
        guard let pair = pairs[key] else { return nil }
        return Self.name(pair.value, what: "'\(key)'", into: &bag)
    }

    static func name(_ node: SyntaxNode, what: String, into bag: inout DiagnosticBag) -> String? {
        guard let text = string(node, what: what, into: &bag) else { return nil }
        guard Names.isValid(text) else {
            bag.error(
                .invalidName, "invalid name '\(text)'", at: node.range,
                help: "names are dotted lowercase words: letters, digits, '_' or '-', e.g. user.behavior.clicks")
            return nil
        }
        return text
    }

    /// Only plain `true` and `false` are booleans; `yes`, `no`, `on`, `off` are refused (YAML 1.1).
    func bool(_ key: String, into bag: inout DiagnosticBag) -> Bool? {
        guard let pair = pairs[key] else { return nil }
        let node = pair.value
        if case .scalar(let text, .plain) = node.value {
            if text == "true" { return true }
            if text == "false" { return false }
            if [
                "yes", "no", "on", "off", "y", "n", "Yes", "No", "On", "Off", "YES", "NO", "ON", "OFF", "Y", "N", "True", "False", "TRUE",
                "FALSE",
            ].contains(text) {
                let meant = ["yes", "on", "y", "true"].contains(text.lowercased()) ? "true" : "false"
                bag.error(
                    .yaml11Boolean, "'\(text)' is not a boolean in Accord", at: node.range,
                    help: "write \(meant); only true and false are booleans")
                return nil
            }
        }
        bag.error(.wrongType, "'\(key)' must be true or false, found \(node.kindDescription)", at: node.range)
        return nil
    }

    /// A decimal integer within `range`; YAML 1.1 spellings (`1_000`, `010`, `0o10`, `0x1F`, `1:30`) are refused.
    func int(_ key: String, in range: ClosedRange<Int>, into bag: inout DiagnosticBag) -> Int? {
        guard let pair = pairs[key] else { return nil }
        return Self.integer(pair.value, key: key, in: range, into: &bag)
    }

    /// A list of decimal integers, each within `range`.
    func ints(_ key: String, in range: ClosedRange<Int>, into bag: inout DiagnosticBag) -> [Int]? {
        guard let items = list(key, into: &bag) else { return nil }
        return items.compactMap { Self.integer($0, key: "an item of '\(key)'", in: range, into: &bag) }
    }

    private static func integer(_ node: SyntaxNode, key: String, in range: ClosedRange<Int>, into bag: inout DiagnosticBag) -> Int? {
        let key = key.hasPrefix("an item") ? key : "'\(key)'"
        guard case .scalar(let text, .plain) = node.value, !node.isNull else {
            bag.error(.wrongType, "\(key) must be a whole number, found \(node.kindDescription)", at: node.range)
            return nil
        }
        if let problem = Self.yaml11NumberProblem(text) {
            bag.error(
                .yaml11Number, "'\(text)' is \(problem), not a number Accord reads", at: node.range,
                help: "write a plain decimal number")
            return nil
        }
        guard let value = Int(text) else {
            bag.error(.wrongType, "\(key) must be a whole number, found \(node.kindDescription)", at: node.range)
            return nil
        }
        guard range.contains(value) else {
            bag.error(
                .numberOutOfRange, "\(key) must be between \(range.lowerBound) and \(range.upperBound), found \(value)", at: node.range)
            return nil
        }
        return value
    }

    /// A decimal number within `range`.
    func double(_ key: String, in range: ClosedRange<Double>, openLower: Bool = false, into bag: inout DiagnosticBag) -> Double? {
        guard let pair = pairs[key] else { return nil }
        let node = pair.value
        guard case .scalar(let text, .plain) = node.value, !node.isNull else {
            bag.error(.wrongType, "'\(key)' must be a number, found \(node.kindDescription)", at: node.range)
            return nil
        }
        if let problem = Self.yaml11NumberProblem(text) {
            bag.error(
                .yaml11Number, "'\(text)' is \(problem), not a number Accord reads", at: node.range, help: "write a plain decimal number")
            return nil
        }
        let isDecimal = text.allSatisfy { $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) } && text.contains(where: \.isNumber)
        guard isDecimal, let value = Double(text), value.isFinite else {
            bag.error(.wrongType, "'\(key)' must be a number, found \(node.kindDescription)", at: node.range)
            return nil
        }
        guard range.contains(value), !(openLower && value == range.lowerBound) else {
            let low = openLower ? "greater than \(range.lowerBound)" : "at least \(range.lowerBound)"
            bag.error(.numberOutOfRange, "'\(key)' must be \(low) and at most \(range.upperBound), found \(text)", at: node.range)
            return nil
        }
        return value
    }

    /// What YAML 1.1 would have made of a plain scalar that YAML 1.2 and Accord read differently.
    static func yaml11NumberProblem(_ text: String) -> String? {
        let body = text.hasPrefix("-") || text.hasPrefix("+") ? String(text.dropFirst()) : text
        if body.contains("_"), body.contains(where: \.isNumber) { return "a YAML 1.1 number with '_' separators" }
        if body.hasPrefix("0o") || body.hasPrefix("0O") { return "a YAML 1.1 octal number" }
        if body.hasPrefix("0x") || body.hasPrefix("0X") { return "a hexadecimal number" }
        if body.hasPrefix("0b") { return "a YAML 1.1 binary number" }
        if body.count > 1, body.hasPrefix("0"), body.allSatisfy({ $0.isASCII && $0.isNumber }) { return "a YAML 1.1 octal number" }
        if body.contains(":"),
            body.split(separator: ":").allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") } })
        {
            return "a YAML 1.1 sexagesimal number"
        }
        if [".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"].contains(body) { return "an infinite or NaN value" }
        return nil
    }

    /// A duration with a unit (`30d`).
    func duration(_ key: String, into bag: inout DiagnosticBag) -> PolicyDuration? {
        guard let pair = pairs[key] else { return nil }
        let node = pair.value
        guard case .scalar(let text, _) = node.value, !node.isNull else {
            bag.error(.wrongType, "'\(key)' must be a duration such as 30d, found \(node.kindDescription)", at: node.range)
            return nil
        }
        do {
            return try PolicyDuration.parse(text)
        } catch .missingUnit {
            bag.error(
                .durationWithoutUnit, "duration '\(text)' has no unit", at: node.range,
                help: "add a unit: s, m, h, d, w or y (e.g. \(text)d)")
        } catch .outOfRange {
            bag.error(
                .durationOutOfRange, "duration '\(text)' is out of range", at: node.range,
                help: "a duration is more than zero and at most 100y")
        } catch {
            bag.error(
                .malformedDuration, "'\(text)' is not a duration", at: node.range,
                help: "a duration is a whole number and one unit: s, m, h, d, w or y (e.g. 90d)")
        }
        return nil
    }

    /// One of a fixed set of values.
    func oneOf(_ key: String, _ values: [String], into bag: inout DiagnosticBag) -> String? {
        guard let pair = pairs[key], let text = string(key, into: &bag) else { return nil }
        guard values.contains(text) else {
            bag.error(
                .invalidValue, "'\(text)' is not a valid \(key)", at: pair.value.range,
                help: Suggestion.help(for: text, in: values) ?? "one of: \(values.joined(separator: ", "))")
            return nil
        }
        return text
    }

    // MARK: - Collections

    /// A list's items; a scalar where a list belongs is refused with a hint.
    func list(_ key: String, nonEmpty: Bool = false, into bag: inout DiagnosticBag) -> [SyntaxNode]? {
        guard let pair = pairs[key] else { return nil }
        let node = pair.value
        guard case .sequence(let items) = node.value else {
            var help: String?
            if case .scalar(let text, _) = node.value, !node.isNull {
                // `*` must be quoted in a flow list, or YAML reads it as an alias.
                help = text.hasPrefix("*") ? "write a list: [\"\(text)\"]" : "write a list: [\(text)]"
            }
            bag.error(.wrongType, "'\(key)' must be a list, found \(node.kindDescription)", at: node.range, help: help)
            return nil
        }
        if nonEmpty && items.isEmpty {
            bag.error(.emptyList, "'\(key)' must not be empty", at: node.range)
            return nil
        }
        return items
    }

    /// A list of strings, each with its node for locating later problems.
    func strings(_ key: String, nonEmpty: Bool = false, into bag: inout DiagnosticBag) -> [(String, SyntaxNode)]? {
        guard let items = list(key, nonEmpty: nonEmpty, into: &bag) else { return nil }
        var result: [(String, SyntaxNode)] = []
        for item in items {
            if let text = Self.string(item, what: "an item of '\(key)'", into: &bag) { result.append((text, item)) }
        }
        return result
    }
}
