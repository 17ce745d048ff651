import AccordCore
import AccordTestSupport
import Foundation
import Testing

/// Declared actions, entity types with typed attributes, and entity data: validated with located errors, compiled,
/// and decided as the language reference says.
struct OpenVocabularyTests {
    static let taxonomy = """
        apiVersion: accord/v1
        kind: Taxonomy
        categories: [{ name: app.docs }, { name: app.account }]
        purposes: [{ name: service }, { name: analytics }]
        actions:
          - { name: data.read.online, default_purpose: service }
          - data.read.offline
          - { name: data.write }
        entity_types:
          - name: person
            data_subject: true
            category: app.account
            attributes: { email: string, roles: set, age: int, jurisdiction: string, joined: timestamp, tier: string }
          - name: doc
            category: app.docs
            default_purpose: analytics
            attributes: { owner: string, level: int, locked: bool, author: ref<person> }
        """
    static let rest = """
        apiVersion: accord/v1
        kind: Jurisdiction
        id: EU
        fallback: true
        age_of_consent: 16
        legal_bases: [{ purposes: ["*"], basis: contract }]
        ---
        apiVersion: accord/v1
        kind: Jurisdiction
        id: US
        legal_bases: [{ purposes: ["*"], basis: contract }]
        """
    static let policy = """
        apiVersion: accord/v1
        kind: Policy
        metadata: { name: docs }
        rules:
          - id: read
            effect: permit
            purposes: [service]
            actions: [data.read]
            categories: [app]
          - id: write-own
            effect: permit
            purposes: [service]
            actions: [data.write]
            categories: [app.docs]
            when: 'resource.properties.owner == actor.properties.email || "admin" in actor.roles'
          - id: locked
            effect: forbid
            purposes: ["*"]
            actions: [data.read.offline, data.write]
            categories: [app.docs]
            when: 'resource.properties.locked'
        """
    static let entities = """
        apiVersion: accord/v1
        kind: Entities
        entities:
          - { type: person, id: ann, properties: { email: ann@x.org, roles: [admin], age: 15, jurisdiction: US } }
          - { type: person, id: bob, properties: { email: bob@x.org, roles: [], joined: "2026-01-01T00:00:00Z" } }
          - { type: doc, id: d1, properties: { owner: bob@x.org, locked: false, author: bob } }
          - { type: doc, id: d2, properties: { owner: ann@x.org, locked: true } }
        """

    static func validate(_ files: [String: String]) -> ValidationResult {
        PolicySetValidator.validate(files: files.sorted { $0.key < $1.key }.map { ($0.key, Array($0.value.utf8)) })
    }

    static func plan() throws -> DecisionPlan {
        let result = validate(["a.yaml": taxonomy, "b.yaml": rest, "c.yaml": policy, "d.yaml": entities])
        #expect(!result.hasErrors, "\(result.diagnostics)")
        return DecisionPlan.compile(try #require(result.policySet))
    }

    static func decide(
        _ plan: DecisionPlan, actor: Actor, action: String, _ resources: [ResourceReference], subject: Subject = Subject(id: "bob"),
        purpose: String = "service"
    ) -> Decision {
        plan.evaluate(
            DecisionRequest(actor: actor, subject: subject, purpose: purpose, action: action, resources: resources),
            asOf: Date(timeIntervalSince1970: 1_790_000_000))
    }

    static func codes(_ decision: Decision, _ i: Int = 0) -> [String] { decision.resources[i].reasons.map(\.code.rawValue) }

    // MARK: - Actions

    @Test func declaredActionsFormAHierarchy() throws {
        let plan = try Self.plan()
        let bob = Actor(id: "bob", type: "person")
        // `data.read` covers `data.read.online`; built-in actions are still known but no rule names them here.
        #expect(Self.decide(plan, actor: bob, action: "data.read.online", [ResourceReference(type: "doc", id: "d1")]).effect == .permit)
        let builtIn = Self.decide(plan, actor: bob, action: "read_online", [ResourceReference(type: "doc", id: "d1")])
        #expect(Self.codes(builtIn) == ["minimisation.not_granted"])
        // A request for `data.read` stands for its subtree: the forbid on `data.read.offline` applies to d2 (locked).
        let parent = Self.decide(plan, actor: bob, action: "data.read", [ResourceReference(type: "doc", id: "d2")])
        #expect(Self.codes(parent).contains("rule.forbid"))
        let unknown = Self.decide(plan, actor: bob, action: "data.delete", [ResourceReference(type: "doc", id: "d1")])
        #expect(Self.codes(unknown) == ["request.unknown_action"])
    }

    @Test func anUnknownActionInARuleIsALocatedErrorWithASuggestion() {
        let broken = Self.policy.replacingOccurrences(of: "actions: [data.write]", with: "actions: [data.writ]")
        let result = Self.validate(["a.yaml": Self.taxonomy, "b.yaml": Self.rest, "c.yaml": broken])
        let diagnostic = result.diagnostics.first { $0.code == .unknownAction }
        #expect(diagnostic?.range.file == "c.yaml")
        #expect(diagnostic?.range.start.line == 13)
        #expect(diagnostic?.help?.contains("did you mean 'data.write'") == true, "\(String(describing: diagnostic?.help))")
    }

    @Test(arguments: [
        ("actions: [\"bad name\"]", DiagnosticCode.invalidName),
        ("actions: [train, train]", .duplicateDefinition),
        ("actions: [{ name: go, default_purpose: nowhere }]", .unknownPurpose),
    ])
    func badActionDeclarationsAreRefused(_ line: String, _ code: DiagnosticCode) {
        let taxonomy = Self.taxonomy.replacingOccurrences(of: "actions:\n", with: "\(line)\nactions_unused:\n")
        let minimal = """
            apiVersion: accord/v1
            kind: Taxonomy
            categories: [{ name: app.docs }]
            purposes: [{ name: service }]
            \(line)
            """
        _ = taxonomy
        let result = Self.validate(["a.yaml": minimal, "b.yaml": Self.rest])
        #expect(result.diagnostics.map(\.code).contains(code), "\(result.diagnostics)")
        #expect(result.diagnostics.allSatisfy { $0.range.file == "a.yaml" && $0.range.start.line == 5 })
    }

    // MARK: - Attributes in conditions

    @Test(arguments: [
        ("resource.properties.ownr == \"x\"", DiagnosticCode.conditionUnknownAttribute, "did you mean 'owner'"),
        ("resource.properties.owner > 3", .conditionType, "cannot compare string with int"),
        ("\"x\" in subject.properties.email", .conditionType, "'in' needs a list"),
        ("resource.properties == \"x\"", .conditionUnknownAttribute, "names no attribute"),
        ("subject.properties.joined < timestamp(\"2026-01-01T00:00:00Z\") && actor.properties.level", .conditionNotBoolean, ""),
    ])
    func conditionsOnDeclaredAttributesAreTypeChecked(_ condition: String, _ code: DiagnosticCode, _ text: String) {
        let policy = Self.policy.replacingOccurrences(of: "when: 'resource.properties.locked'", with: "when: '\(condition)'")
        let result = Self.validate(["a.yaml": Self.taxonomy, "b.yaml": Self.rest, "c.yaml": policy])
        let found = result.diagnostics.filter { $0.severity == .error }
        #expect(found.count == 1, "\(found)")
        if code == .conditionNotBoolean {
            // `&&` of a timestamp comparison and an int is refused as a type error before the result's type is read.
            #expect(found.first?.code == .conditionType)
            return
        }
        #expect(found.first?.code == code, "\(found)")
        #expect(found.first?.range.file == "c.yaml" && found.first?.range.start.line == 21)
        #expect("\(found.first?.message ?? "") \(found.first?.help ?? "")".contains(text), "\(found)")
    }

    @Test func attributeDeclarationsAreChecked() {
        let conflicting = Self.taxonomy.replacingOccurrences(of: "owner: string, level: int", with: "owner: string, level: int, tier: int")
        var result = Self.validate(["a.yaml": conflicting, "b.yaml": Self.rest])
        #expect(result.diagnostics.map(\.code) == [.attributeTypeConflict], "\(result.diagnostics)")
        #expect(result.diagnostics.first?.notes.first?.contains("a.yaml:") == true)
        let badType = Self.taxonomy.replacingOccurrences(of: "level: int", with: "level: integer")
        result = Self.validate(["a.yaml": badType, "b.yaml": Self.rest])
        #expect(result.diagnostics.map(\.code) == [.invalidValue] && result.diagnostics.first?.help?.contains("int") == true)
        let badReference = Self.taxonomy.replacingOccurrences(of: "ref<person>", with: "ref<persn>")
        result = Self.validate(["a.yaml": badReference, "b.yaml": Self.rest])
        #expect(result.diagnostics.map(\.code) == [.unknownEntityType] && result.diagnostics.first?.help?.contains("'person'") == true)
        let badCategory = Self.taxonomy.replacingOccurrences(of: "category: app.docs", with: "category: app.doc")
        result = Self.validate(["a.yaml": badCategory, "b.yaml": Self.rest])
        #expect(result.diagnostics.map(\.code) == [.unknownCategory])
    }

    // MARK: - Entity data

    @Test(arguments: [
        ("- { type: persn, id: x }", DiagnosticCode.unknownEntityType, "did you mean 'person'"),
        ("- { type: person, id: x, properties: { emial: a } }", .unknownAttribute, "did you mean 'email'"),
        ("- { type: person, id: x, properties: { age: twelve } }", .wrongType, "must be a int"),
        ("- { type: person, id: x, properties: { roles: admin } }", .wrongType, "a list of strings"),
        ("- { type: person, id: x, properties: { joined: yesterday } }", .wrongType, "RFC 3339"),
        ("- { type: person, id: ann }", .duplicateDefinition, "defined twice"),
        ("- { type: person, id: \"\" }", .invalidValue, "non-empty"),
    ])
    func badEntityDataIsALocatedError(_ line: String, _ code: DiagnosticCode, _ text: String) {
        let entities = Self.entities + "\n  " + line
        let result = Self.validate(["a.yaml": Self.taxonomy, "b.yaml": Self.rest, "d.yaml": entities])
        let found = result.diagnostics.filter { $0.severity == .error }
        #expect(found.map(\.code) == [code], "\(found)")
        #expect(found.first?.range.file == "d.yaml" && found.first?.range.start.line == 8)
        #expect("\(found.first?.message ?? "") \(found.first?.help ?? "")".contains(text), "\(found)")
    }

    @Test func entityDataFillsWhatTheRequestLeavesOut() throws {
        let plan = try Self.plan()
        // Bob's email from entity data: he owns d1, not d2 (and d2 is locked).
        let bob = Actor(id: "bob", type: "person")
        let bobs = Self.decide(
            plan, actor: bob, action: "data.write", [ResourceReference(type: "doc", id: "d1"), ResourceReference(type: "doc", id: "d2")])
        #expect(bobs.resources.map(\.effect) == [.permit, .deny])
        #expect(Self.codes(bobs, 1).contains("rule.forbid"))
        // Ann is an admin by entity data (`actor.roles` falls back to the `roles` attribute).
        let ann = Self.decide(
            plan, actor: Actor(id: "ann", type: "person"), action: "data.write", [ResourceReference(type: "doc", id: "d1")])
        #expect(ann.effect == .permit)
        // The same id under another type has no data: identities are scoped by type.
        let stranger = Self.decide(
            plan, actor: Actor(id: "ann", type: "robot"), action: "data.write", [ResourceReference(type: "doc", id: "d1")])
        #expect(Self.codes(stranger) == ["minimisation.not_granted", "condition.error"])
        // What the request sends wins over entity data. d3 has no entity data: unless the request says it is not
        // locked, the forbid that reads `locked` cannot be evaluated, and applies (fail closed).
        let claimsAnn = Actor(id: "bob", type: "person", properties: ["email": .string("ann@x.org")])
        let unknownLock = Self.decide(
            plan, actor: claimsAnn, action: "data.write",
            [ResourceReference(type: "doc", id: "d3", properties: ["owner": .string("ann@x.org")])])
        #expect(Self.codes(unknownLock) == ["rule.forbid", "condition.error"])
        let sent = Self.decide(
            plan, actor: claimsAnn, action: "data.write",
            [ResourceReference(type: "doc", id: "d3", properties: ["owner": .string("ann@x.org"), "locked": .bool(false)])])
        #expect(sent.effect == .permit)
        let mistyped = Self.decide(
            plan, actor: bob, action: "data.write", [ResourceReference(type: "doc", id: "d1", properties: ["owner": .int(7)])])
        #expect(Self.codes(mistyped) == ["minimisation.not_granted", "condition.error"])
        // The subject's jurisdiction and age come from entity data when the request leaves them out.
        let subject = Self.decide(
            plan, actor: bob, action: "data.read.online", [ResourceReference(type: "doc", id: "d1")], subject: Subject(id: "ann"))
        #expect(subject.jurisdiction == "US")
        let told = Self.decide(
            plan, actor: bob, action: "data.read.online", [ResourceReference(type: "doc", id: "d1")],
            subject: Subject(id: "ann", jurisdiction: "EU"))
        #expect(told.jurisdiction == "EU")
        // A resource type without a category, or undeclared, cannot be decided.
        let undeclared = Self.decide(plan, actor: bob, action: "data.read.online", [ResourceReference(type: "folder", id: "f")])
        #expect(Self.codes(undeclared) == ["request.unknown_resource_type"])
        #expect(undeclared.resources[0].resource == "folder:f")
    }

    @Test func aPurposeIsDerivedFromTheActionThenTheResourceType() throws {
        let plan = try Self.plan()
        #expect(plan.defaultPurpose(action: "data.read.online", resourceType: "doc") == "service")
        #expect(plan.defaultPurpose(action: "data.write", resourceType: "doc") == "analytics")
        #expect(plan.defaultPurpose(action: "data.write", resourceType: "person") == nil)
        #expect(plan.defaultPurpose(action: "data.write", resourceType: nil) == nil)
    }

    @Test func theNativeRequestCarriesTypesIdsAndProperties() throws {
        let json = """
            {"actor":{"id":"bob","type":"person","properties":{"tier":"gold"}},"subject":{"id":"ann","type":"person",
            "properties":{"groups":["a"]}},"purpose":"service","action":"data.write",
            "resources":[{"type":"doc","id":"d1","properties":{"owner":"bob@x.org","level":3}}]}
            """
        let request = try DecisionRequest.decode(json: Array(json.utf8))
        #expect(request.actor.properties["tier"] == .string("gold"))
        #expect(request.subject.type == "person" && request.subject.properties["groups"] == .list([.string("a")]))
        #expect(request.resources[0].type == "doc" && request.resources[0].properties["level"] == .int(3))
        for (bad, message) in [
            (#"{"type":"doc"}"#, "required with 'type'"), (#"{"feature":"f","type":"doc","id":"x"}"#, "names no feature"),
            (#"{"feature":"f","properties":{}}"#, "needs 'type'"), (#"{"type":"doc","id":"x","properties":[]}"#, "must be an object"),
        ] {
            let text = #"{"actor":{"id":"a"},"subject":{"id":"s"},"purpose":"p","action":"x","resources":["# + bad + "]}"
            #expect(throws: RequestError.self) { try DecisionRequest.decode(json: Array(text.utf8)) }
            do { _ = try DecisionRequest.decode(json: Array(text.utf8)) } catch { #expect("\(error)".contains(message), "\(error)") }
        }
    }
}
