import Foundation

/// The `PolicyTest` documents of a policy set: cases (a request, an instant, what must come of it) and
/// properties (what must hold for every request of the finite decision space). Run by `accord test`.
public struct PolicyTestSuite: Sendable {
    public var name: String
    public var source: SourceRange
    public var cases: [PolicyTestCase]
    public var properties: [PolicyProperty]
}

/// One case: a request decided at an instant, and what must come of it.
public struct PolicyTestCase: Sendable {
    public var name: String
    /// Where the case is written (its `name`), for failures.
    public var source: SourceRange
    public var request: DecisionRequest
    public var asOf: Date
    /// The overall effect expected, if stated.
    public var effect: DecisionEffect?
    public var resources: [ResourceExpectation]
}

/// What one resource of a case must get: an effect, and reason codes and rule ids that must be among its
/// reasons (a subset, in any order).
public struct ResourceExpectation: Sendable {
    public var resource: String
    public var effect: ResourceEffect?
    public var reasons: [String]
    public var rules: [String]
    public var source: SourceRange
}

/// A statement about every request of the finite decision space (see `DecisionSpace`): the points its
/// filter selects must never be permitted.
public struct PolicyProperty: Sendable {
    public var name: String
    public var source: SourceRange
    public var filter: SpaceFilter
}

/// A selection of points of the decision space. Every field left out selects everything.
public struct SpaceFilter: Sendable {
    public enum ConsentFilter: String, Sendable, CaseIterable {
        /// The request carries no grant at all.
        case none
        /// Every scope granted by the subject.
        case granted
        /// Every scope granted by a guardian.
        case guardian
    }

    public var purposes: [NamePattern] = []
    public var categories: [NamePattern] = []
    public var actions: Set<Action>?
    public var jurisdictions: [String]?
    public var consent: ConsentFilter?
    /// Only purposes whose legal basis in the point's jurisdiction is this one.
    public var legalBasis: LegalBasis?
    /// Only subjects of a known age below this.
    public var ageBelow: Int?
    /// Only processing regions outside this list (an unknown region included).
    public var regionsOutside: [String]?

    public init() {}
}

extension ValidationSession {
    static let caseKeys = ["name", "as_of", "request", "expect"]

    /// Reads a `PolicyTest` document (after every other kind, so names can be checked).
    mutating func readPolicyTest(_ header: FieldReader) {
        var suite = PolicyTestSuite(name: documentName(header), source: header.node.range, cases: [], properties: [])
        var defaults: [String: Any] = [:]
        var defaultInstant: Date?
        if let node = header["defaults"]?.value,
            let fields = FieldReader.open(node, what: "test defaults", allowed: ["as_of", "actor", "subject", "context"], into: &bag)
        {
            if let pair = fields["as_of"] { defaultInstant = instant(pair.value) }
            for key in ["actor", "subject", "context"] { if let pair = fields[key] { defaults[key] = Self.plain(pair.value) } }
        }
        var names: [String: SourceRange] = [:]
        for item in header.list("cases", into: &bag) ?? [] {
            if let testCase = readTestCase(item, defaults: defaults, defaultInstant: defaultInstant, names: &names) {
                suite.cases.append(testCase)
            }
        }
        for item in header.list("properties", into: &bag) ?? [] {
            if let property = readProperty(item) { suite.properties.append(property) }
        }
        set.tests.append(suite)
    }

    /// One case: a request (with the suite's defaults filled in), an instant, and what it expects — at least
    /// one thing, or the case could not fail. Nil when the case cannot be read (its errors are in the bag).
    private mutating func readTestCase(
        _ item: SyntaxNode, defaults: [String: Any], defaultInstant: Date?, names: inout [String: SourceRange]
    ) -> PolicyTestCase? {
        guard
            let fields = FieldReader.open(item, what: "a test case", allowed: Self.caseKeys, required: ["name", "request"], into: &bag),
            let name = fields.string("name", into: &bag)
        else { return nil }
        let at = fields["name"]!.value.range
        if let first = names[name] {
            bag.add(Diagnostic(.duplicateDefinition, "test case '\(name)' is defined twice", at: at, notes: ["first defined at \(first)"]))
        }
        names[name] = at
        guard let requestNode = fields["request"]?.value else { return nil }
        var object = (Self.plain(requestNode) as? [String: Any]) ?? [:]
        for (key, value) in defaults where object[key] == nil { object[key] = value }
        let request: DecisionRequest
        do {
            request = try DecisionRequest.decode(object: object)
        } catch {
            bag.error(
                .invalidTestRequest, "the request cannot be read: \(error)", at: requestNode.range,
                help: "a request as `accord eval` reads it (docs/requests.md); `defaults` fill actor, subject and context")
            return nil
        }
        guard let asOf = fields["as_of"].flatMap({ instant($0.value) }) ?? defaultInstant else {
            bag.error(.missingKey, "test case '\(name)' has no instant", at: at, help: "add as_of: here or under defaults")
            return nil
        }
        var testCase = PolicyTestCase(name: name, source: at, request: request, asOf: asOf, effect: nil, resources: [])
        if let expect = fields["expect"]?.value,
            let expectation = FieldReader.open(expect, what: "an expectation", allowed: ["effect", "resources"], into: &bag)
        {
            testCase.effect = expectation.oneOf("effect", ["permit", "partial", "deny"], into: &bag).flatMap(DecisionEffect.init(rawValue:))
            if let resources = expectation["resources"]?.value {
                guard let expected = readResourceExpectations(resources, for: request) else { return nil }
                testCase.resources = expected
            }
        }
        if testCase.effect == nil && testCase.resources.allSatisfy({ $0.effect == nil && $0.reasons.isEmpty && $0.rules.isEmpty }) {
            bag.error(
                .caseExpectsNothing, "test case '\(name)' expects nothing, so it cannot fail", at: at,
                help: "add expect: with an effect, or resources with their effect, reasons or rules")
            return nil
        }
        return testCase
    }

    /// `resources: {name: {effect, reasons, rules}}`, each name a resource of the request, each reason a known code
    /// and each rule an id in the set. Nil when it is not a mapping.
    private mutating func readResourceExpectations(_ resources: SyntaxNode, for request: DecisionRequest) -> [ResourceExpectation]? {
        guard case .mapping(let pairs) = resources.value else {
            bag.error(.wrongType, "expected resources must be a mapping of resource name to expectation", at: resources.range)
            return nil
        }
        var expected: [ResourceExpectation] = []
        for pair in pairs {
            guard
                let wanted = FieldReader.open(
                    pair.value, what: "a resource expectation", allowed: ["effect", "reasons", "rules"], into: &bag)
            else { continue }
            let effect = wanted.oneOf("effect", ["permit", "deny"], into: &bag).flatMap(ResourceEffect.init(rawValue:))
            let reasons = wanted.strings("reasons", into: &bag) ?? []
            for (code, node) in reasons where ReasonCode(rawValue: code) == nil {
                bag.error(
                    .invalidValue, "unknown reason code '\(code)'", at: node.range,
                    help: Suggestion.help(for: code, in: ReasonCode.allCases.map(\.rawValue)) ?? "see docs/decisions.md")
            }
            let rules = wanted.strings("rules", into: &bag) ?? []
            for (id, node) in rules where !set.rules.contains(where: { $0.id == id }) {
                bag.error(
                    .invalidValue, "no rule has the id '\(id)'", at: node.range, help: Suggestion.help(for: id, in: set.rules.map(\.id)))
            }
            if !request.resources.contains(where: { $0.name == pair.key }) {
                bag.error(
                    .invalidValue, "the request has no resource '\(pair.key)'", at: FieldReader.keyRange(pair),
                    help: Suggestion.help(for: pair.key, in: request.resources.map(\.name)))
            }
            expected.append(
                ResourceExpectation(
                    resource: pair.key, effect: effect, reasons: reasons.map(\.0), rules: rules.map(\.0), source: FieldReader.keyRange(pair)
                ))
        }
        return expected
    }

    private mutating func readProperty(_ item: SyntaxNode) -> PolicyProperty? {
        guard
            let fields = FieldReader.open(
                item, what: "a property", allowed: ["name", "never_permitted"], required: ["name", "never_permitted"], into: &bag),
            let name = fields.string("name", into: &bag), let node = fields["never_permitted"]?.value,
            let filterFields = FieldReader.open(
                node, what: "a never_permitted selection",
                allowed: [
                    "purposes", "categories", "actions", "jurisdictions", "consent", "legal_basis", "age_below", "regions_outside",
                ], into: &bag)
        else { return nil }
        var filter = SpaceFilter()
        filter.purposes = purposePatterns(filterFields.strings("purposes", nonEmpty: true, into: &bag) ?? [])
        filter.categories = categoryPatterns(filterFields.strings("categories", nonEmpty: true, into: &bag) ?? [])
        if let list = filterFields.strings("actions", nonEmpty: true, into: &bag) {
            filter.actions = Set(
                list.compactMap { text, node in
                    if set.allActions.contains(Action(text)) { return Action(text) }
                    bag.error(
                        .unknownAction, "unknown action '\(text)'", at: node.range,
                        help: Suggestion.help(for: text, in: set.allActions.map(\.rawValue)))
                    return nil
                })
        }
        if let list = filterFields.strings("jurisdictions", nonEmpty: true, into: &bag) {
            for (text, node) in list where set.jurisdictions[text] == nil {
                bag.error(
                    .unknownJurisdiction, "unknown jurisdiction '\(text)'", at: node.range,
                    help: Suggestion.help(for: text, in: set.jurisdictions.keys))
            }
            filter.jurisdictions = list.map(\.0)
        }
        filter.consent = filterFields.oneOf("consent", SpaceFilter.ConsentFilter.allCases.map(\.rawValue), into: &bag)
            .flatMap(SpaceFilter.ConsentFilter.init(rawValue:))
        filter.legalBasis = filterFields.oneOf("legal_basis", LegalBasis.allCases.map(\.rawValue), into: &bag).flatMap(
            LegalBasis.init(rawValue:))
        filter.ageBelow = filterFields.int("age_below", in: 1...150, into: &bag)
        filter.regionsOutside = filterFields.strings("regions_outside", nonEmpty: true, into: &bag)?.map(\.0)
        return PolicyProperty(name: name, source: fields["name"]!.value.range, filter: filter)
    }

    private mutating func instant(_ node: SyntaxNode) -> Date? {
        guard let text = FieldReader.string(node, what: "an instant", into: &bag) else { return nil }
        guard let date = Timestamps.parse(text) else {
            bag.error(.invalidValue, "'\(text)' is not an RFC 3339 instant", at: node.range, help: "write e.g. 2026-06-01T00:00:00Z")
            return nil
        }
        return date
    }

    /// A YAML node as `JSONSerialization` would give it: plain scalars that read as booleans or numbers become
    /// those (quoted ones stay strings), null becomes `NSNull`.
    static func plain(_ node: SyntaxNode) -> Any {
        switch node.value {
        case .mapping(let pairs): return Dictionary(pairs.map { ($0.key, plain($0.value)) }, uniquingKeysWith: { first, _ in first })
        case .sequence(let items): return items.map(plain)
        case .scalar(let text, .plain):
            if node.isNull { return NSNull() }
            if text == "true" || text == "false" { return NSNumber(value: text == "true") }
            if let number = Int(text) { return NSNumber(value: number) }
            if let number = Double(text) { return NSNumber(value: number) }
            return text
        case .scalar(let text, _): return text
        }
    }
}
