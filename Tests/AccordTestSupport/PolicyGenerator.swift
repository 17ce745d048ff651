import AccordCore
import Foundation

/// Generates random but valid policy sets as YAML text, and random requests against them.
public struct PolicyGenerator {
    public var random: SeededGenerator

    public init(random: SeededGenerator) { self.random = random }

    public static let categoryLeaves = [
        "user.a.x", "user.a.y", "user.b.z", "user.c", "dev.id", "dev.tel", "health.hr", "health.sleep", "bio.face",
    ]
    public static let purposeLeaves = ["p.a.one", "p.a.two", "p.b", "q.x", "q.y", "r"]
    public static let regions = ["R1", "R2", "R3"]
    public static let conditions = [
        "subject.age >= 18", "has(subject.age)", "context.processing_region in [\"R1\", \"R2\"]", "resource.age < 20d",
        "\"admin\" in actor.roles", "context.gpc", "subject.jurisdiction == \"J2\"", "within(resource.category, \"user\")",
        "resource.region == \"R1\"", "!(subject.age < 13) && context.environment == \"prod\"", "has(resource.age) || subject.age > 30",
        // Declared attributes: sent with the request or read from entity data.
        "subject.properties.tier == \"gold\"", "resource.properties.owner == subject.id", "\"g1\" in subject.properties.groups",
        "resource.properties.level <= subject.properties.score", "has(resource.properties.owner)", "actor.properties.tier != \"gold\"",
        "resource.type == \"doc\" && resource.id != \"d2\"", "subject.type == \"person\"",
    ]
    /// Declared actions (a dotted family) besides the built-in ones.
    public static let declaredActions = ["data.read.online", "data.read.offline", "data.write"]
    public static let actionNames = Action.builtIn.map(\.rawValue) + ["data", "data.read"] + declaredActions

    public mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &random) < p }
    public mutating func pick<T>(_ items: [T]) -> T { items.randomElement(using: &random)! }
    public mutating func subset<T>(_ items: [T], min: Int = 1) -> [T] {
        var chosen = items.indices.filter { _ in chance(0.4) }
        while chosen.count < min {
            let index = Int.random(in: items.indices, using: &random)
            if !chosen.contains(index) { chosen.append(index) }
        }
        return chosen.sorted().map { items[$0] }
    }

    public func allNames(_ leaves: [String]) -> [String] {
        Array(Set(leaves + leaves.flatMap(Names.ancestors(of:)))).sorted()
    }

    public func hasChildren(_ name: String, _ names: [String]) -> Bool { names.contains { $0 != name && Names.isWithin($0, name) } }

    public mutating func patterns(_ names: [String], sensitive: Bool) -> String {
        var options = names.map { $0 } + ["*"] + names.filter { hasChildren($0, names) }.map { $0 + ".*" }
        if sensitive { options.append("sensitive") }
        let list = subset(options)
        return "[" + list.map { $0 == "*" ? "\"*\"" : $0 }.joined(separator: ", ") + "]"
    }

    /// A policy set in one YAML file, with its feature names.
    public mutating func policySet() -> (yaml: String, features: [String], categories: [String], purposes: [String]) {
        let categoryLeaves = subset(Self.categoryLeaves, min: 3)
        let purposeLeaves = subset(Self.purposeLeaves, min: 2)
        let categories = allNames(categoryLeaves), purposes = allNames(purposeLeaves)
        var y = "apiVersion: accord/v1\nkind: Taxonomy\ncategories:\n"
        for leaf in categoryLeaves {
            y += "  - { name: \(leaf), sensitive: \(leaf.hasPrefix("health") || leaf.hasPrefix("bio") ? chance(0.8) : chance(0.1)) }\n"
        }
        y += "purposes:\n"
        for leaf in purposeLeaves { y += "  - { name: \(leaf), profiling: \(chance(0.3)), sale_or_share: \(chance(0.3)) }\n" }
        y += "actions: [\(Self.declaredActions.joined(separator: ", "))]\n"
        y += "entity_types:\n"
        y +=
            "  - { name: person, data_subject: true, attributes: { tier: string, score: int, groups: set, age: int, jurisdiction: string } }\n"
        y += "  - { name: doc, category: \(pick(categoryLeaves)), attributes: { owner: string, level: int } }\n"
        var entities = ""
        for id in ["s", "p1", "svc"] where chance(0.7) {
            var properties = ["tier: \(pick(["gold", "basic"]))", "score: \(Int.random(in: 0...5, using: &random))"]
            if chance(0.5) { properties.append("groups: [\(subset(["g1", "g2"]).joined(separator: ", "))]") }
            if chance(0.5) { properties.append("age: \(Int.random(in: 10...40, using: &random))") }
            if chance(0.5) { properties.append("jurisdiction: \(pick(["J1", "J2", "J9"]))") }
            entities += "  - { type: person, id: \(id), properties: { \(properties.joined(separator: ", ")) } }\n"
        }
        for id in ["d1", "d2"] where chance(0.7) {
            entities +=
                "  - { type: doc, id: \(id), properties: { owner: \(pick(["s", "p1"])), level: \(Int.random(in: 0...5, using: &random)) } }\n"
        }
        y += "---\napiVersion: accord/v1\nkind: Entities\nentities:" + (entities.isEmpty ? " []\n" : "\n" + entities)

        y += "---\napiVersion: accord/v1\nkind: Catalog\nfeatures:\n"
        var features: [String] = []
        for i in 0..<6 {
            let name = "f\(i)"
            features.append(name)
            y += "  - { name: \(name), category: \(pick(categories))\(chance(0.6) ? ", region: \(pick(Self.regions + ["R4"]))" : "") }\n"
        }

        y += "---\napiVersion: accord/v1\nkind: ConsentScopes\nscopes:\n"
        // Now and then more than 16 scopes, past the plan's packed consent states.
        let scopeCount = chance(0.1) ? 18 : Int.random(in: 1...3, using: &random)
        let scopes = (0..<scopeCount).map { "s\($0)" }
        for scope in scopes {
            let version = Int.random(in: 1...3, using: &random)
            y += "  - id: \(scope)\n    version: \(version)\n    minimum_version: \(Int.random(in: 1...version, using: &random))\n"
            y += "    purposes: \(patterns(purposes, sensitive: false))\n"
            if chance(0.5) { y += "    explicit_categories: \(patterns(categories, sensitive: true))\n" }
            if chance(0.5) { y += "    expires_after: \(pick(["10d", "30d", "1y"]))\n" }
        }

        let jurisdictions = ["J1", "J2", "J3"]
        let fallback = pick(jurisdictions)
        for (index, id) in jurisdictions.enumerated() {
            y += "---\napiVersion: accord/v1\nkind: Jurisdiction\nid: \(id)\n"
            if id == fallback { y += "fallback: true\n" }
            if index > 0 && chance(0.5) { y += "extends: \(jurisdictions[index - 1])\n" }
            if chance(0.5) { y += "age_of_consent: \(pick([13, 16]))\n" }
            if chance(0.4) { y += "minors: { under: \(pick([16, 18])), refuse: \(patterns(purposes, sensitive: false)) }\n" }
            if chance(0.8) {
                y += "legal_bases:\n"
                for _ in 0..<Int.random(in: 1...3, using: &random) {
                    let basis = pick(LegalBasis.allCases.map(\.rawValue))
                    y += "  - { purposes: \(patterns(purposes, sensitive: false)), basis: \(basis)"
                    if basis == "consent" && chance(0.3) { y += ", scopes: [\(pick(scopes)), \(scopes.last!)]" }
                    y += " }\n"
                }
            }
            if chance(0.4) {
                y +=
                    "opt_out: { purposes: \(chance(0.5) ? patterns(purposes, sensitive: false) : "[]"), flags: \(chance(0.5) ? "[sale_or_share]" : "[profiling]"), signals: \(chance(0.6) ? "[gpc]" : "[]") }\n"
            }
            if chance(0.35) { y += "allowed_regions: [\(subset(Self.regions).joined(separator: ", "))]\n" }
        }

        y += "---\napiVersion: accord/v1\nkind: Policy\nmetadata: { name: generated }\nrules:\n"
        // Now and then more than 64 rules, past one word of the plan's bitsets.
        for r in 0..<(chance(0.08) ? 70 : Int.random(in: 2...12, using: &random)) {
            y += "  - id: rule-\(r)\n    effect: \(chance(0.7) ? "permit" : "forbid")\n"
            y += "    purposes: \(patterns(purposes, sensitive: false))\n"
            y += "    categories: \(patterns(categories, sensitive: true))\n"
            if chance(0.2) { y += "    except: \(patterns(categories, sensitive: true))\n" }
            if chance(0.5) { y += "    actions: [\(subset(Self.actionNames).joined(separator: ", "))]\n" }
            if chance(0.2) { y += "    jurisdictions: [\(subset(jurisdictions).joined(separator: ", "))]\n" }
            if chance(0.3) { y += "    when: '\(pick(Self.conditions))'\n" }
            if chance(0.15) { y += "    unless: '\(pick(Self.conditions))'\n" }
            if chance(0.4) {
                var parts: [String] = []
                if chance(0.5) { parts.append("min_cohort: \(Int.random(in: 2...100, using: &random))") }
                if chance(0.5) { parts.append("mask: \(pick(["truncate", "hash", "redact"]))") }
                if chance(0.4) { parts.append("differential_privacy: { epsilon: \(pick(["0.1", "0.5", "1.0"])) }") }
                if chance(0.4) { parts.append("delete_after: \(pick(["7d", "30d", "1y"]))") }
                if chance(0.2) { parts.append("drop: [\(pick(["ip", "ua", "raw"]))]") }
                if !parts.isEmpty { y += "    obligations: { \(parts.joined(separator: ", ")) }\n" }
            }
        }
        if chance(0.7) {
            y += "retention:\n"
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                y +=
                    "  - { categories: \(patterns(categories, sensitive: true)), max_age: \(pick(["10d", "30d", "90d"])), on_expiry: delete"
                if chance(0.3) { y += ", purposes: \(patterns(purposes, sensitive: false))" }
                y += " }\n"
            }
        }
        return (y, features, categories, purposes)
    }

    public mutating func request(features: [String], categories: [String], purposes: [String], now: Date) -> DecisionRequest {
        func instant(_ days: ClosedRange<Double>) -> Date { now.addingTimeInterval(-86_400 * Double.random(in: days, using: &random)) }
        var resources: [ResourceReference] = []
        for _ in 0..<Int.random(in: 0...4, using: &random) {
            let collected: Date? = chance(0.15) ? nil : (chance(0.05) ? now.addingTimeInterval(3_600) : instant(0...60))
            switch Double.random(in: 0..<1, using: &random) {
            case ..<0.6: resources.append(ResourceReference(feature: pick(features), collectedAt: collected))
            case ..<0.65: resources.append(ResourceReference(feature: pick(features), category: pick(categories), collectedAt: collected))
            case ..<0.82: resources.append(ResourceReference(category: pick(categories), collectedAt: collected))
            case ..<0.84: resources.append(ResourceReference(feature: "nope", collectedAt: collected))
            case ..<0.98:
                // An entity resource, sometimes sending its attributes (of the right type or not), sometimes not.
                var properties: [String: AttributeValue] = [:]
                if chance(0.3) { properties["owner"] = .string(pick(["s", "p1"])) }
                if chance(0.3) { properties["level"] = chance(0.8) ? .int(Int64.random(in: 0...5, using: &random)) : .string("high") }
                resources.append(
                    ResourceReference(
                        type: chance(0.9) ? "doc" : "nodoc", id: pick(["d1", "d2", "d3"]), properties: properties, collectedAt: collected))
            default: resources.append(ResourceReference(category: "no.such", collectedAt: collected))
            }
        }
        var grants: [ConsentGrant] = []
        for _ in 0..<Int.random(in: 0...5, using: &random) {
            grants.append(
                ConsentGrant(
                    scope: pick(["s0", "s0", "s1", "s1", "s2", "s9", "s16", "s17"]), version: Int.random(in: 1...3, using: &random),
                    grantedAt: chance(0.05) ? now.addingTimeInterval(86_400) : instant(0...400), byGuardian: chance(0.3)))
        }
        let purpose = chance(0.03) ? "unknown.purpose" : pick(purposes)
        let action = chance(0.03) ? "fly" : (chance(0.7) ? pick(Action.builtIn.map(\.rawValue)) : pick(Self.actionNames))
        var subjectProperties: [String: AttributeValue] = [:]
        if chance(0.2) { subjectProperties["tier"] = .string(pick(["gold", "basic"])) }
        if chance(0.1) { subjectProperties["score"] = chance(0.7) ? .int(Int64.random(in: 0...5, using: &random)) : .bool(true) }
        if chance(0.1) { subjectProperties["groups"] = .list([.string("g1")]) }
        return DecisionRequest(
            actor: Actor(
                id: "svc", roles: chance(0.3) ? ["admin"] : ["service"], type: chance(0.3) ? "person" : nil,
                properties: chance(0.1) ? ["tier": .string("gold")] : [:]),
            subject: Subject(
                id: pick(["s", "s", "p1", "p9"]), age: chance(0.3) ? nil : Int.random(in: 8...60, using: &random),
                jurisdiction: chance(0.2) ? nil : pick(["J1", "J2", "J3", "J9"]), type: chance(0.8) ? nil : pick(["person", "robot"]),
                properties: subjectProperties),
            purpose: purpose, action: action, resources: resources,
            context: RequestContext(
                processingRegion: chance(0.1) ? nil : pick(Self.regions + ["R4"]), gpc: chance(0.3),
                environment: chance(0.5) ? "prod" : nil),
            consent: ConsentState(
                grants: grants, objections: chance(0.2) ? [pick(purposes)] : [],
                optOuts: chance(0.2) ? [pick(purposes + ["sale_or_share", "profiling"])] : []))
    }
}

/// A small deterministic generator (SplitMix64) so randomised tests reproduce.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
