import Foundation

/// Type-checks a condition's syntax tree against the request schema and compiles it.
struct ConditionChecker {
    /// The declared attributes a condition may read.
    let schema: ConditionSchema

    static let functions = ["has", "size", "starts_with", "within", "duration", "timestamp"]

    func check(_ syntax: ConditionSyntax) throws(ConditionError) -> (CompiledCondition, ConditionType) {
        switch syntax {
        case .boolean(let v, _): return (.literal(.bool(v)), .bool)
        case .integer(let v, _): return (.literal(.int(v)), .int)
        case .double(let v, _): return (.literal(.double(v)), .double)
        case .string(let v, _): return (.literal(.string(v)), .string)
        case .duration(let d, _): return (.literal(.duration(d.seconds)), .duration)
        case .list(let items, _): return try checkList(items)
        case .path(let parts, let offset, let length):
            if let (root, name, type) = try property(parts, offset: offset, length: length) {
                return (.property(root, name, type), type.conditionType)
            }
            let attribute = try resolve(parts, offset: offset, length: length)
            return (.attribute(attribute), attribute.type)
        case .call(let name, let arguments, let offset, let length):
            return try checkCall(name, arguments, offset: offset, length: length)
        case .not(let inner, let offset):
            let (compiled, type) = try check(inner)
            guard type == .bool else {
                throw ConditionError(code: .conditionType, message: "'!' needs a bool, found \(type)", offset: offset)
            }
            return (.not(compiled), .bool)
        case .negate(let inner, let offset):
            let (compiled, type) = try check(inner)
            guard type == .int || type == .double || type == .duration else {
                throw ConditionError(code: .conditionType, message: "'-' needs a number or duration, found \(type)", offset: offset)
            }
            return (.negate(compiled), type)
        case .binary(let op, let lhs, let rhs, let offset, let length):
            return try checkBinary(op, lhs, rhs, offset: offset, length: length)
        }
    }

    /// A list literal: literals only (a negated number counts), no lists in lists, one element type (numbers mix).
    private func checkList(_ items: [ConditionSyntax]) throws(ConditionError) -> (CompiledCondition, ConditionType) {
        var values: [ConditionValue] = []
        var elementType: ConditionType = .any
        for item in items {
            var (compiled, type) = try check(item)
            // A negated number literal is still a literal.
            if case .negate(.literal(let value)) = compiled {
                switch value {
                case .int(let v) where v != .min: compiled = .literal(.int(-v))
                case .double(let v): compiled = .literal(.double(-v))
                case .duration(let v) where v != .min: compiled = .literal(.duration(-v))
                default: break
                }
            }
            guard case .literal(let value) = compiled else {
                throw ConditionError(code: .conditionType, message: "list elements must be literals", offset: item.offset)
            }
            if case .list = type {
                throw ConditionError(code: .conditionType, message: "lists cannot hold lists", offset: item.offset)
            }
            if elementType == .any {
                elementType = type
            } else if elementType != type && !(elementType.isNumeric && type.isNumeric) {
                throw ConditionError(code: .conditionType, message: "list mixes \(elementType) and \(type)", offset: item.offset)
            }
            values.append(value)
        }
        return (.literal(.list(values)), .list(elementType))
    }

    /// `&&`, `||` (bools), `in` (an element of the list's type) and comparisons (like types; numbers mix; only
    /// numbers, durations, strings and timestamps are ordered).
    private func checkBinary(
        _ op: String, _ lhs: ConditionSyntax, _ rhs: ConditionSyntax, offset: Int, length: Int
    ) throws(ConditionError) -> (CompiledCondition, ConditionType) {
        let (left, leftType) = try check(lhs)
        let (right, rightType) = try check(rhs)
        switch op {
        case "&&", "||":
            for (type, side) in [(leftType, lhs), (rightType, rhs)] where type != .bool {
                throw ConditionError(code: .conditionType, message: "'\(op)' needs bool operands, found \(type)", offset: side.offset)
            }
            return (op == "&&" ? .and(left, right) : .or(left, right), .bool)
        case "in":
            guard case .list(let element) = rightType else {
                throw ConditionError(
                    code: .conditionType, message: "'in' needs a list on its right, found \(rightType)",
                    offset: rhs.offset)
            }
            guard element == .any || element == leftType || (element.isNumeric && leftType.isNumeric) else {
                throw ConditionError(
                    code: .conditionType, message: "cannot look for a \(leftType) in a list<\(element)>",
                    offset: offset, length: length)
            }
            return (.contains(element: left, list: right), .bool)
        default:
            let comparable = leftType == rightType || (leftType.isNumeric && rightType.isNumeric)
            guard comparable else {
                let durationHint = (leftType == .duration && rightType.isNumeric) || (rightType == .duration && leftType.isNumeric)
                throw ConditionError(
                    code: .conditionType, message: "cannot compare \(leftType) with \(rightType)",
                    offset: offset, length: length,
                    help: durationHint ? "write the number with a unit, e.g. 30d" : nil)
            }
            let ordered = ["<", "<=", ">", ">="].contains(op)
            if ordered,
                leftType == .bool
                    || {
                        if case .list = leftType { return true }; return false
                    }()
            {
                throw ConditionError(
                    code: .conditionType, message: "'\(op)' cannot order \(leftType) values",
                    offset: offset, length: length)
            }
            if case .list = leftType {
                throw ConditionError(
                    code: .conditionType, message: "lists cannot be compared; use 'in'", offset: offset, length: length)
            }
            return (.compare(ComparisonOperator(rawValue: op)!, left, right), .bool)
        }
    }

    /// `subject|actor|resource.properties.<name>`: a declared attribute (nil for any other path).
    private func property(_ parts: [String], offset: Int, length: Int) throws(ConditionError) -> (EntityRoot, String, AttributeType)? {
        guard parts.count >= 2, parts[1] == "properties", let root = EntityRoot(rawValue: parts[0]) else { return nil }
        guard parts.count == 3 else {
            throw ConditionError(
                code: .conditionUnknownAttribute, message: "'\(parts.joined(separator: "."))' names no attribute", offset: offset,
                length: length, help: "write \(parts[0]).properties.<attribute>")
        }
        guard let type = schema.attributes[parts[2]] else {
            let declared = schema.attributes.keys.sorted()
            throw ConditionError(
                code: .conditionUnknownAttribute, message: "undeclared attribute '\(parts[2])'", offset: offset, length: length,
                help: Suggestion.help(for: parts[2], in: declared)
                    ?? (declared.isEmpty
                        ? "declare it under an entity type's attributes: in a Taxonomy"
                        : "declared attributes: \(declared.joined(separator: ", "))"))
        }
        return (root, parts[2], type)
    }

    private func resolve(_ parts: [String], offset: Int, length: Int) throws(ConditionError) -> ConditionAttribute {
        let name = parts.joined(separator: ".")
        if let attribute = ConditionAttribute(rawValue: name) { return attribute }
        let all = ConditionAttribute.allCases.map(\.rawValue)
        if !ConditionAttribute.roots.contains(parts[0]) {
            let suggestion = Suggestion.closest(to: parts[0], in: ConditionAttribute.roots)
            if parts.count == 1 && suggestion == nil {
                throw ConditionError(
                    code: .conditionUnknownAttribute, message: "unknown name '\(parts[0])'", offset: offset,
                    length: parts[0].unicodeScalars.count,
                    help: "to compare with text, quote it: \"\(parts[0])\"")
            }
            throw ConditionError(
                code: .conditionUnknownAttribute, message: "unknown name '\(parts[0])'", offset: offset,
                length: parts[0].unicodeScalars.count,
                help: suggestion.map { "did you mean '\($0)'?" } ?? "conditions read subject, actor, resource and context")
        }
        throw ConditionError(
            code: .conditionUnknownAttribute, message: "unknown attribute '\(name)'", offset: offset, length: length,
            help: Suggestion.help(for: name, in: all)
                ?? "known attributes: \(all.filter { $0.hasPrefix(parts[0] + ".") }.joined(separator: ", "))")
    }

    private func checkCall(_ name: String, _ arguments: [ConditionSyntax], offset: Int, length: Int) throws(ConditionError) -> (
        CompiledCondition, ConditionType
    ) {
        func arity(_ n: Int) throws(ConditionError) {
            guard arguments.count == n else {
                throw ConditionError(
                    code: .conditionFunction, message: "\(name)() takes \(n) argument\(n == 1 ? "" : "s"), found \(arguments.count)",
                    offset: offset, length: length)
            }
        }
        func literalString(_ syntax: ConditionSyntax) throws(ConditionError) -> String {
            guard case .string(let text, _) = syntax else {
                throw ConditionError(code: .conditionType, message: "\(name)() takes a string literal", offset: syntax.offset)
            }
            return text
        }
        switch name {
        case "has":
            try arity(1)
            guard case .path(let parts, let o, let l) = arguments[0] else {
                throw ConditionError(
                    code: .conditionType, message: "has() takes an attribute such as subject.age", offset: arguments[0].offset)
            }
            if let (root, name, type) = try property(parts, offset: o, length: l) { return (.hasProperty(root, name, type), .bool) }
            return (.has(try resolve(parts, offset: o, length: l)), .bool)
        case "size":
            try arity(1)
            let (compiled, type) = try check(arguments[0])
            guard case .list = type else {
                if type == .string { return (.size(compiled), .int) }
                throw ConditionError(
                    code: .conditionType, message: "size() takes a list or string, found \(type)", offset: arguments[0].offset)
            }
            return (.size(compiled), .int)
        case "starts_with", "within":
            try arity(2)
            let (a, aType) = try check(arguments[0])
            let (b, bType) = try check(arguments[1])
            for (type, syntax) in [(aType, arguments[0]), (bType, arguments[1])] where type != .string {
                throw ConditionError(code: .conditionType, message: "\(name)() takes strings, found \(type)", offset: syntax.offset)
            }
            return (name == "within" ? .within(a, b) : .startsWith(a, b), .bool)
        case "duration":
            try arity(1)
            let text = try literalString(arguments[0])
            do {
                return (.literal(.duration(try PolicyDuration.parse(text).seconds)), .duration)
            } catch {
                throw ConditionError(
                    code: error == .missingUnit ? .durationWithoutUnit : (error == .outOfRange ? .durationOutOfRange : .malformedDuration),
                    message: "invalid duration \"\(text)\"", offset: arguments[0].offset,
                    help: "a duration is a whole number and one unit: s, m, h, d, w or y (e.g. \"30d\")")
            }
        case "timestamp":
            try arity(1)
            let text = try literalString(arguments[0])
            guard let date = Timestamps.parse(text) else {
                throw ConditionError(
                    code: .conditionType, message: "invalid timestamp \"\(text)\"", offset: arguments[0].offset,
                    help: "use RFC 3339, e.g. \"2026-01-31T00:00:00Z\"")
            }
            return (.literal(.timestamp(Int64(date.timeIntervalSince1970.rounded(.down)))), .timestamp)
        default:
            throw ConditionError(
                code: .conditionFunction, message: "unknown function '\(name)'", offset: offset, length: length,
                help: Suggestion.help(for: name, in: Self.functions) ?? "functions: \(Self.functions.joined(separator: ", "))")
        }
    }
}
