import AccordCore
import AccordStore
import Foundation

/// Where a privacy impact assessment's evidence comes from: the audit trail (and the consent store in the same
/// database, if it holds any events), over a window ending at the report's instant.
public struct PIASources: Sendable {
    public var trail: any AuditTrail
    public var consent: (any ConsentSource)?
    public var from: Date?

    public init(trail: any AuditTrail, consent: (any ConsentSource)? = nil, from: Date? = nil) {
        self.trail = trail
        self.consent = consent
        self.from = from
    }
}

extension PrivacyImpactAssessment {
    /// The assessment of `set` as of `instant` (which also dates it: the same policies, trail and instant give
    /// the same report), with evidence from `sources` when given.
    public init(policies set: PolicySet, sources: PIASources? = nil, asOf instant: Date, title: String = "Privacy impact assessment") throws
    {
        let plan = DecisionPlan.compile(set)
        let facts = PolicyFacts(set, plan: plan, asOf: instant)
        var activity: [(purpose: String, actor: String, effect: String, records: Int)] = []
        var evidence: Evidence?
        if let sources {
            let trail = sources.trail
            activity = try trail.activity(from: sources.from, to: instant)
            let stats = try trail.stats(from: sources.from, to: instant, topReasons: 10)
            let verification = try trail.verify()
            let last = try trail.checkpoints().filter { $0.createdAt <= instant }.max { $0.size < $1.size }
            evidence = Evidence(
                from: sources.from, to: instant, records: stats.decisions,
                byPurpose: stats.byPurpose.map { ($0.purpose, $0.permit, $0.partial, $0.deny) }.sorted { $0.purpose < $1.purpose },
                topReasons: stats.topReasons,
                consentEvents: try sources.consent?.eventCounts(from: sources.from, to: instant) ?? [],
                retentionPurges: stats.retentionPurges,
                erasures: stats.erasures, intact: verification.isIntact, problems: verification.problems.map(\.description),
                checkpoint: last.map { ($0.size, $0.root, $0.createdAt) })
        }
        self.init(
            title: title, generatedAt: instant, revision: plan.revision, processing: [],
            necessity: Necessity(
                catalogCategories: [], minimisation: [], retention: [], consentScopes: [], withdrawalHandling: "", rights: []), risks: [],
            evidence: evidence)
        processing = facts.purposes.map { purpose in
            let readable = facts.readable(purpose)
            return Processing(
                purpose: purpose, description: set.purposes[purpose]?.description, profiling: set.purposeFlag(purpose, \.profiling),
                saleOrShare: set.purposeFlag(purpose, \.saleOrShare), actions: facts.actions(purpose),
                categories: readable.map {
                    CategoryUse(category: $0, sensitive: set.isSensitive(category: $0), retention: facts.retention(purpose, $0))
                },
                legalBases: facts.jurisdictions.compactMap { j in
                    plan.legalBasis(jurisdiction: j, purpose: purpose).map { (j, $0.rawValue) }
                },
                regions: facts.regions(purpose, plan: plan), transfers: facts.transfers(purpose, plan: plan),
                recipients: Dictionary(activity.filter { $0.purpose == purpose }.map { ($0.actor, $0.records) }, uniquingKeysWith: +)
                    .sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }
        let catalog = Set(set.features.values.map(\.category)).sorted()
        necessity = Necessity(
            catalogCategories: catalog,
            minimisation: processing.map { use in (use.purpose, use.categories.filter { catalog.contains($0.category) }.count) },
            retention: set.retention.map { rule in
                (
                    rule.categories.map(\.description).joined(separator: ", "),
                    rule.purposes.isEmpty ? "all" : rule.purposes.map(\.description).joined(separator: ", "),
                    rule.maxAge.description, rule.onExpiry.rawValue
                )
            },
            consentScopes: set.scopes.values.sorted { $0.id < $1.id }.map { scope in
                (
                    scope.id, scope.version, scope.purposes.map(\.description).joined(separator: ", "), scope.expiresAfter?.description,
                    scope.explicitCategories.map(\.description).joined(separator: ", ")
                )
            },
            withdrawalHandling: "Consent is read from the consent store at every decision; a withdrawal is in force for the very next "
                + "decision, from any process (a counter the database keeps invalidates every cache). Training sets record who they "
                + "included, so `accord lineage --subject` names the models to retrain after a withdrawal.",
            rights: [
                "Access (Art. 15): `accord audit export --subject ID` lists the feature values, consent history and training sets held about a person and every decision and retention purge recorded about them, each record checked against their seal.",
                "Erasure (Art. 17): `accord audit erase --subject ID` deletes the person's stored feature values, key, index entries, consent history, budget spends and lineage; the records stay, unreadable as theirs, and the trail still verifies.",
                "Objection (Art. 21) and opt-outs (CCPA §1798.120, GPC) are honoured in every decision where the jurisdiction provides them.",
            ])
        risks = RiskRegister.findings(set: set, plan: plan, facts: facts, activity: activity)
    }
}

/// What the policies say, worked out once for the report.
struct PolicyFacts {
    let set: PolicySet
    let plan: DecisionPlan
    let instant: Date
    final class Cache: @unchecked Sendable { var value: [String: [String]] = [:] }
    let readableCache = Cache()
    /// Declared purposes without children (the ones requests name).
    let purposes: [String]
    let leafCategories: [String]
    let jurisdictions: [String]

    init(_ set: PolicySet, plan: DecisionPlan, asOf instant: Date) {
        self.set = set
        self.plan = plan
        self.instant = instant
        let all = set.purposes.keys.sorted()
        purposes = all.filter { name in !all.contains { $0 != name && Names.isWithin($0, name) } }
        let categories = set.categories.keys.sorted()
        leafCategories = categories.filter { name in !categories.contains { $0 != name && Names.isWithin($0, name) } }
        jurisdictions = set.jurisdictions.keys.sorted()
    }

    func grants(_ rule: Rule, _ category: String) -> Bool { set.rule(rule, grants: category) }

    func permits(_ purpose: String) -> [Rule] { set.rules.filter { $0.effect == .permit && $0.purposes.contains { $0.matches(purpose) } } }

    /// Leaf categories the purpose may read for someone: decided by the plan for an adult who granted every
    /// scope, in every jurisdiction, processed in each region it allows, for every action (conditions the plan
    /// cannot decide here read permissively, as in proofs).
    func readable(_ purpose: String) -> [String] {
        if let known = readableCache.value[purpose] { return known }
        var found: Set<String> = []
        let grants = set.scopes.values.map { ConsentGrant(scope: $0.id, version: $0.version, grantedAt: instant) }
        for jurisdiction in jurisdictions {
            for region in set.jurisdictions[jurisdiction]?.allowedRegions ?? [jurisdiction] {
                for action in set.allActions {
                    let request = DecisionRequest(
                        actor: Actor(id: "accord-pia"), subject: Subject(id: "subject", age: 30, jurisdiction: jurisdiction),
                        purpose: purpose,
                        action: action.rawValue, resources: leafCategories.map { ResourceReference(category: $0, collectedAt: instant) },
                        context: RequestContext(processingRegion: region), consent: ConsentState(grants: grants))
                    for (category, decision) in zip(
                        leafCategories, plan.evaluate(request, asOf: instant, options: DecisionSpace.options).resources)
                    where decision.effect == .permit { found.insert(category) }
                }
            }
        }
        let result = leafCategories.filter(found.contains)
        readableCache.value[purpose] = result
        return result
    }

    func actions(_ purpose: String) -> [String] {
        let rules = permits(purpose)
        if rules.contains(where: { $0.actions == nil }) { return set.allActions.map(\.rawValue) }
        return Set(rules.flatMap { $0.actions ?? [] }).map(\.rawValue).sorted()
    }

    /// The shortest retention limit for the purpose and category, as "90d (delete)".
    func retention(_ purpose: String, _ category: String) -> String? {
        let sensitive = set.isSensitive(category: category)
        let rules = set.retention.filter { rule in
            rule.categories.contains { $0.matches(category, isSensitive: sensitive) }
                && (rule.purposes.isEmpty || rule.purposes.contains { $0.matches(purpose) })
        }
        return rules.min { $0.maxAge < $1.maxAge }.map { "\($0.maxAge.description) (\($0.onExpiry.rawValue))" }
    }

    /// Per jurisdiction that gives the purpose a legal basis, where its subjects' data may be processed.
    func regions(_ purpose: String, plan: DecisionPlan) -> [String] {
        jurisdictions.filter { plan.legalBasis(jurisdiction: $0, purpose: purpose) != nil }.map { id in
            "\(id): " + (set.jurisdictions[id]?.allowedRegions?.joined(separator: ", ") ?? "anywhere")
        }
    }

    /// Regions beyond a subject's own jurisdiction that processing may reach: its allowed regions other than
    /// itself, or anywhere when it names none.
    func transfers(_ purpose: String, plan: DecisionPlan) -> [String] {
        jurisdictions.filter { plan.legalBasis(jurisdiction: $0, purpose: purpose) != nil }.compactMap { id in
            guard let allowed = set.jurisdictions[id]?.allowedRegions else { return "\(id) → anywhere" }
            let abroad = allowed.filter { $0 != id }
            return abroad.isEmpty ? nil : "\(id) → \(abroad.joined(separator: ", "))"
        }
    }
}
