import AccordCore
import Foundation

/// A generated policy set shaped like a personalised-ML product: ~60 categories, ~30 purposes, 300
/// features, 5 jurisdictions, and a chosen number of rules.
struct Workload {
    let yaml: String
    let features: [String]
    let purposes: [String]
    let jurisdictions = ["EU", "UK", "US-CA", "BR", "FALLBACK"]
    let regions = ["EU", "UK", "US", "BR"]
    /// Whether conditions read declared attributes from entity data instead of the request's fixed attributes.
    var declared = false

    /// `declared: true` writes the same policies with the conditions reading declared attributes — the subject's
    /// age and the actor's region from entity data (10,000 people and the service) — so that the two decide alike
    /// and their times compare.
    static func generate(rules ruleCount: Int, declared: Bool = false, random: inout SplitMix) -> Workload {
        let groups = ["contact", "demographic", "behavior", "location", "device", "financial", "inferred", "health", "biometric", "social"]
        var categories: [String] = []
        for group in groups { for i in 0..<6 { categories.append("user.\(group).c\(i)") } }
        let purposeRoots = ["personalization", "ads", "analytics", "model", "fraud", "security"]
        var purposes: [String] = []
        for root in purposeRoots { for i in 0..<5 { purposes.append("\(root).p\(i)") } }

        var y = "apiVersion: accord/v1\nkind: Taxonomy\ncategories:\n"
        for c in categories { y += "  - { name: \(c), sensitive: \(c.contains("health") || c.contains("biometric")) }\n" }
        if declared {
            y += "entity_types:\n"
            y += "  - { name: person, data_subject: true, attributes: { years: int } }\n"
            y += "  - { name: service, attributes: { region: string } }\n"
        }
        y += "purposes:\n"
        for p in purposes {
            y +=
                "  - { name: \(p), profiling: \(p.hasPrefix("ads") || p.hasPrefix("personalization")), sale_or_share: \(p.hasPrefix("ads")) }\n"
        }
        y += "---\napiVersion: accord/v1\nkind: Catalog\nfeatures:\n"
        var features: [String] = []
        for i in 0..<300 {
            let name = "feature_\(i)"
            features.append(name)
            y += "  - { name: \(name), category: \(categories[i % categories.count]), region: \(i % 10 == 9 ? "US" : "EU") }\n"
        }
        y += "---\napiVersion: accord/v1\nkind: ConsentScopes\nscopes:\n"
        y += "  - { id: personalization, version: 2, purposes: [personalization, model], expires_after: 1y }\n"
        y += "  - { id: ads, purposes: [ads], expires_after: 180d }\n"
        y += "  - { id: analytics, purposes: [analytics] }\n"
        y += "  - { id: health, purposes: [personalization], explicit_categories: [user.health] }\n"
        let jurisdictionText = [
            "id: EU\nage_of_consent: 16\nminors: { under: 18, refuse: [ads] }\nlegal_bases:\n  - { purposes: [personalization, ads, model, analytics], basis: consent }\n  - { purposes: [fraud, security], basis: legitimate_interest }\nallowed_regions: [EU, UK]\n",
            "id: UK\nextends: EU\nage_of_consent: 13\n",
            "id: US-CA\nlegal_bases:\n  - { purposes: [\"*\"], basis: notice }\nopt_out: { flags: [sale_or_share], signals: [gpc] }\nminors: { under: 16, refuse: [ads] }\n",
            "id: BR\nage_of_consent: 12\nlegal_bases:\n  - { purposes: [personalization, ads, model, analytics], basis: consent }\n  - { purposes: [fraud, security], basis: legitimate_interest }\nallowed_regions: [BR, EU]\n",
            "id: FALLBACK\nfallback: true\nlegal_bases:\n  - { purposes: [\"*\"], basis: consent }\nallowed_regions: [EU]\n",
        ]
        for text in jurisdictionText { y += "---\napiVersion: accord/v1\nkind: Jurisdiction\n" + text }
        y += "---\napiVersion: accord/v1\nkind: Policy\nmetadata: { name: generated }\nrules:\n"
        let actions = ["read_online", "read_offline", "train", "aggregate"]
        for r in 0..<ruleCount {
            let purpose =
                r % 7 == 0 ? "\(purposeRoots[r % purposeRoots.count])" : purposes[Int.random(in: 0..<purposes.count, using: &random)]
            let group = groups[Int.random(in: 0..<groups.count, using: &random)]
            let forbid = r % 9 == 4
            y += "  - id: rule-\(r)\n    effect: \(forbid ? "forbid" : "permit")\n    purposes: [\(purpose)]\n"
            y += "    categories: [user.\(group)\(r % 3 == 0 ? "" : ".c\(r % 6)")]\n"
            if r % 2 == 0 { y += "    actions: [\(actions[r % actions.count]), \(actions[(r + 1) % actions.count])]\n" }
            if r % 5 == 0 {
                y +=
                    declared
                    ? "    when: 'subject.properties.years >= 18 && actor.properties.region in [\"EU\", \"UK\", \"US\"]'\n"
                    : "    when: 'subject.age >= 18 && context.processing_region in [\"EU\", \"UK\", \"US\"]'\n"
            }
            if r % 4 == 1 { y += "    obligations: { min_cohort: \(10 + r % 40), delete_after: \(30 + r % 300)d }\n" }
        }
        y +=
            "  - { id: base-personalization, effect: permit, purposes: [personalization], categories: [user.behavior, user.demographic, user.inferred, user.location] }\n"
        y += "retention:\n"
        y += "  - { categories: [user.behavior], max_age: 90d, on_expiry: delete }\n"
        y += "  - { categories: [user.location], max_age: 30d, on_expiry: delete }\n"
        y += "  - { categories: [user.behavior], purposes: [model], max_age: 365d, on_expiry: anonymise }\n"
        if declared {
            y += "---\napiVersion: accord/v1\nkind: Entities\nentities:\n"
            y += "  - { type: service, id: recsys, properties: { region: EU } }\n"
            for subject in 0..<10_000 { y += "  - { type: person, id: subject-\(subject), properties: { years: \(12 + subject % 60) } }\n" }
        }
        return Workload(yaml: y, features: features, purposes: purposes, declared: declared)
    }

    func request(subject: Int, features count: Int, asOf: Date, random: inout SplitMix) -> DecisionRequest {
        let jurisdiction = jurisdictions[subject % jurisdictions.count]
        let purpose = subject % 3 == 0 ? purposes[subject % purposes.count] : purposes[(subject / 3) % 5]
        var resources: [ResourceReference] = []
        resources.reserveCapacity(count)
        for _ in 0..<count {
            let feature = features[Int.random(in: 0..<features.count, using: &random)]
            resources.append(
                ResourceReference(
                    feature: feature, collectedAt: asOf.addingTimeInterval(-Double(Int.random(in: 0..<(120 * 86_400), using: &random)))))
        }
        let granted = asOf.addingTimeInterval(-86_400 * 30)
        var grants = [ConsentGrant(scope: "personalization", version: 2, grantedAt: granted)]
        if subject % 2 == 0 { grants.append(ConsentGrant(scope: "ads", version: 1, grantedAt: granted)) }
        if subject % 4 == 0 { grants.append(ConsentGrant(scope: "analytics", version: 1, grantedAt: granted)) }
        return DecisionRequest(
            id: nil, actor: Actor(id: "recsys", roles: ["service"], type: declared ? "service" : nil),
            subject: Subject(id: "subject-\(subject)", age: 12 + subject % 60, jurisdiction: subject % 50 == 0 ? nil : jurisdiction),
            purpose: purpose, action: ["read_online", "read_offline", "train"][subject % 3], resources: resources,
            context: RequestContext(processingRegion: regions[subject % 7 == 0 ? 2 : 0], gpc: subject % 10 == 0),
            consent: ConsentState(grants: grants))
    }
}
