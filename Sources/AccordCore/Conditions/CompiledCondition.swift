/// A type-checked condition in a form that evaluates without re-parsing.
indirect enum CompiledCondition: Sendable {
    case literal(ConditionValue)
    case attribute(ConditionAttribute)
    case has(ConditionAttribute)
    /// A declared attribute of the subject, actor or resource: what the request sends, else the entity's data.
    case property(EntityRoot, String, AttributeType)
    case hasProperty(EntityRoot, String, AttributeType)
    case not(CompiledCondition)
    case negate(CompiledCondition)
    case and(CompiledCondition, CompiledCondition)
    case or(CompiledCondition, CompiledCondition)
    case compare(ComparisonOperator, CompiledCondition, CompiledCondition)
    case contains(element: CompiledCondition, list: CompiledCondition)
    case size(CompiledCondition)
    case startsWith(CompiledCondition, CompiledCondition)
    /// `within(name, "a.b")`: a dotted name equal to or beneath another.
    case within(CompiledCondition, CompiledCondition)
}

extension CompiledCondition {
    /// Whether evaluating the condition may read `attribute`.
    func reads(_ wanted: ConditionAttribute) -> Bool {
        switch self {
        case .literal, .property, .hasProperty: false
        case .attribute(let attribute), .has(let attribute): attribute == wanted
        case .not(let inner), .negate(let inner), .size(let inner): inner.reads(wanted)
        case .and(let a, let b), .or(let a, let b), .compare(_, let a, let b), .contains(let a, let b), .startsWith(let a, let b),
            .within(let a, let b):
            a.reads(wanted) || b.reads(wanted)
        }
    }
}

extension CompiledCondition {
    /// Whether `attribute` is read anywhere other than compared with a literal (`==`, `!=`, ordering), tested
    /// against a literal list (`in`) or tested for presence (`has`): such a use (a prefix, a `within`, arithmetic)
    /// is not decided by trying the literals a condition names.
    func readsOpaquely(_ attribute: ConditionAttribute) -> Bool {
        switch self {
        case .literal, .has, .property, .hasProperty: return false
        case .attribute(let found): return found == attribute
        case .compare(_, let a, let b):
            if case .attribute = a, case .literal = b { return false }
            if case .literal = a, case .attribute = b { return false }
            return a.readsOpaquely(attribute) || b.readsOpaquely(attribute)
        case .contains(let element, let list):
            if case .attribute = element, case .literal = list { return false }
            return element.readsOpaquely(attribute) || list.readsOpaquely(attribute)
        case .not(let inner): return inner.readsOpaquely(attribute)
        case .negate(let inner), .size(let inner): return inner.reads(attribute)
        case .and(let a, let b), .or(let a, let b): return a.readsOpaquely(attribute) || b.readsOpaquely(attribute)
        case .startsWith(let a, let b), .within(let a, let b): return a.reads(attribute) || b.reads(attribute)
        }
    }
}

enum ComparisonOperator: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
}

/// A condition as written in a rule (`when:` or `unless:`), validated and compiled.
public struct Condition: Sendable {
    /// The text as written.
    public let text: String
    public let source: SourceRange
    let compiled: CompiledCondition

    /// Reads and type-checks condition text; problems are located within the file via `source`.
    /// `columnOffset` is where the text begins relative to `source` (1 for a quoted scalar).
    public static func read(_ text: String, at source: SourceRange, singleLine: Bool, columnOffset: Int) -> Result<Condition, Diagnostic> {
        read(text, at: source, schema: ConditionSchema()) { offset in
            singleLine ? SourceLocation(line: source.start.line, column: source.start.column + columnOffset + offset) : nil
        }
    }

    /// Reads and type-checks condition text. `locate` maps an offset in the text (in Unicode scalars) to
    /// where that character stands in the file, or nil, in which case problems are reported at `source`.
    static func read(
        _ text: String, at source: SourceRange, schema: ConditionSchema, locate: (Int) -> SourceLocation?
    ) -> Result<Condition, Diagnostic> {
        do {
            let syntax = try ConditionParser.parse(text)
            let (compiled, type) = try ConditionChecker(schema: schema).check(syntax)
            guard type == .bool else {
                throw ConditionError(
                    code: .conditionNotBoolean, message: "a condition must be boolean, this is \(type)", offset: 0,
                    length: text.unicodeScalars.count)
            }
            return .success(Condition(text: text, source: source, compiled: compiled))
        } catch let error as ConditionError {
            var range = source
            if let start = locate(error.offset) {
                range.start = start
                // Underline no further than the token's last character on the same line.
                var length = 1
                while length < error.length, let next = locate(error.offset + length), next.line == start.line { length += 1 }
                range.length = length
            }
            return .failure(Diagnostic(error.code, error.message, at: range, help: error.help))
        } catch {
            return .failure(Diagnostic(.conditionSyntax, "\(error)", at: source))
        }
    }
}

extension CompiledCondition {
    /// Whether evaluating the condition may read a declared attribute (of any entity).
    var readsProperties: Bool {
        switch self {
        case .literal, .attribute, .has: false
        case .property, .hasProperty: true
        case .not(let inner), .negate(let inner), .size(let inner): inner.readsProperties
        case .and(let a, let b), .or(let a, let b), .compare(_, let a, let b), .contains(let a, let b), .startsWith(let a, let b),
            .within(let a, let b):
            a.readsProperties || b.readsProperties
        }
    }
}
