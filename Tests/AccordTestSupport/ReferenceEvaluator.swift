import AccordCore
import Foundation

/// A deliberately simple evaluator written apart from `DecisionPlan`: it walks the validated model rule
/// by rule, with no interning, bitsets or precomputed tables. The differential test checks the compiled
/// plan against it.
public struct ReferenceEvaluator {
    public let set: PolicySet

    public init(set: PolicySet) { self.set = set }

    public struct Outcome: Equatable {
        public var effect: String
        public var resources: [ResourceOutcome]

        public init(effect: String, resources: [ResourceOutcome]) {
            self.effect = effect
            self.resources = resources
        }
    }

    public struct ResourceOutcome: Equatable {
        public var name: String
        public var effect: String
        public var codes: Set<String>
        public var obligations: Obligations

        public init(name: String, effect: String, codes: Set<String>, obligations: Obligations) {
            (self.name, self.effect, self.codes, self.obligations) = (name, effect, codes, obligations)
        }
    }

    public func decide(_ request: DecisionRequest, now: Int64) -> Outcome {
        var request = request
        // Age and jurisdiction the request leaves out come from the subject's entity data.
        if let type = request.subject.type ?? set.entityTypes.values.first(where: { $0.dataSubject })?.name,
            let entity = set.entities.values.first(where: { $0.type == type && $0.id == request.subject.id })
        {
            if request.subject.age == nil, case .int(let age)? = entity.properties["age"], age >= 0, age <= 150 {
                request.subject.age = Int(age)
            }
            if request.subject.jurisdiction == nil, case .string(let j)? = entity.properties["jurisdiction"] {
                request.subject.jurisdiction = j
            }
        }
        var requestCodes: [String] = []
        let purposeKnown = set.purposes[request.purpose] != nil
        if !purposeKnown { requestCodes.append(request.purpose.isEmpty ? "request.no_purpose" : "request.unknown_purpose") }
        let known = Action.builtIn.map(\.rawValue) + set.actions.keys
        let action: Action? = known.contains(request.action) ? Action(request.action) : nil
        if action == nil { requestCodes.append("request.unknown_action") }
        var jurisdictionID = request.subject.jurisdiction.flatMap { set.jurisdictions[$0] != nil ? $0 : nil }
        if jurisdictionID == nil {
            jurisdictionID = set.jurisdictions.values.first(where: \.fallback)?.id
            if jurisdictionID == nil { requestCodes.append("jurisdiction.unavailable") }
        }
        if request.resources.isEmpty { requestCodes.append("request.no_resources") }
        if !requestCodes.isEmpty {
            return Outcome(
                effect: "deny",
                resources: request.resources.map {
                    ResourceOutcome(name: $0.name, effect: "deny", codes: Set(requestCodes), obligations: Obligations())
                })
        }
        let j = jurisdictionID!
        let shared = requirements(request, jurisdiction: j, now: now)
        let resources = request.resources.map { resource($0, request: request, action: action!, jurisdiction: j, shared: shared, now: now) }
        let permitted = resources.filter { $0.effect == "permit" }.count
        return Outcome(effect: permitted == resources.count ? "permit" : (permitted == 0 ? "deny" : "partial"), resources: resources)
    }

    // MARK: - Jurisdiction settings, following `extends` nearest first

    public func chain(_ id: String) -> [Jurisdiction] {
        var result: [Jurisdiction] = []
        var next: String? = id
        while let current = next, let j = set.jurisdictions[current], !result.contains(where: { $0.id == current }) {
            result.append(j)
            next = j.extends
        }
        return result
    }

    public func specificity(_ pattern: NamePattern) -> Int {
        switch pattern {
        case .all, .sensitive: return 0
        case .subtree(let base): return base.split(separator: ".").count * 2
        case .descendants(let base): return base.split(separator: ".").count * 2 + 1
        }
    }

    public func purposeMatches(_ patterns: [NamePattern], _ purpose: String) -> Bool {
        patterns.contains { $0.matches(purpose) }
    }

    public func categoryMatches(_ patterns: [NamePattern], _ category: String) -> Bool {
        patterns.contains { $0.matches(category, isSensitive: set.isSensitive(category: category)) }
    }

    /// The purposes a request for `purpose` stands for: itself and everything beneath it.
    public func purposeSubtree(_ purpose: String) -> [String] {
        set.purposes.keys.filter { Names.isWithin($0, purpose) }
    }

    public func hasFlag(_ purpose: String, _ flag: String) -> Bool {
        let names = Names.ancestors(of: purpose) + purposeSubtree(purpose)
        return names.contains { name in
            guard let p = set.purposes[name] else { return false }
            return flag == "sale_or_share" ? p.saleOrShare : p.profiling
        }
    }

    /// 0 none, 1 outdated, 2 expired, 3 valid, 4 valid by guardian.
    public func grantState(_ scopeID: String, _ request: DecisionRequest, now: Int64) -> Int {
        guard let scope = set.scopes[scopeID] else { return 0 }
        var best = 0
        for grant in request.consent.grants where grant.scope == scopeID {
            let at = Int64(grant.grantedAt.timeIntervalSince1970.rounded(.down))
            let state: Int
            if grant.version < scope.minimumVersion {
                state = 1
            } else if at > now {
                state = 0
            } else if let expiry = scope.expiresAfter, now >= at + expiry.seconds {
                state = 2
            } else {
                state = grant.byGuardian ? 4 : 3
            }
            best = max(best, state)
        }
        return best
    }

    public func requirements(_ request: DecisionRequest, jurisdiction: String, now: Int64) -> (grants: Set<String>, refusals: Set<String>) {
        let jurisdictions = chain(jurisdiction)
        var grants = Set<String>(), refusals = Set<String>()
        var chosen: LegalBasisRule?
        var chosenSpecificity = -1
        for j in jurisdictions {
            for entry in j.legalBases {
                for pattern in entry.purposes where pattern.matches(request.purpose) && specificity(pattern) > chosenSpecificity {
                    chosen = entry
                    chosenSpecificity = specificity(pattern)
                }
            }
        }
        let age = request.subject.age
        if let basis = chosen {
            switch basis.basis {
            case .consent:
                let scopes =
                    basis.scopes.isEmpty
                    ? set.scopes.values.filter { purposeMatches($0.purposes, request.purpose) }.map(\.id)
                    : basis.scopes
                let best = scopes.map { grantState($0, request, now: now) }.max() ?? 0
                switch best {
                case 3, 4:
                    if let minimum = jurisdictions.compactMap(\.ageOfConsent).first {
                        if let age {
                            if age < minimum && best != 4 { refusals.insert("consent.guardian_required") }
                        } else {
                            refusals.insert("age.unknown")
                        }
                    }
                    if refusals.isEmpty { grants.insert("basis.consent") }
                case 2: refusals.insert("consent.expired")
                case 1: refusals.insert("consent.outdated_version")
                default: refusals.insert("consent.missing")
                }
            case .legitimateInterest:
                if request.consent.objections.contains(where: { Names.isWithin(request.purpose, $0) || Names.isWithin($0, request.purpose) }
                ) {
                    refusals.insert("objection.honoured")
                } else {
                    grants.insert("basis.legitimate_interest")
                }
            case .contract: grants.insert("basis.contract")
            case .legalObligation: grants.insert("basis.legal_obligation")
            case .notice: grants.insert("basis.notice")
            }
        } else {
            refusals.insert("legal_basis.missing")
        }
        if let optOut = jurisdictions.compactMap(\.optOut).first {
            let optOutable =
                purposeSubtree(request.purpose).contains { purposeMatches(optOut.purposes, $0) }
                || optOut.flags.contains { hasFlag(request.purpose, $0) }
            if optOutable {
                if request.consent.optOuts.contains(where: {
                    Names.isWithin(request.purpose, $0) || Names.isWithin($0, request.purpose)
                        || (optOut.flags.contains($0) && hasFlag(request.purpose, $0))
                }) {
                    refusals.insert("opt_out.requested")
                }
                if request.context.gpc && optOut.signals.contains("gpc") { refusals.insert("opt_out.gpc") }
            }
        }
        if let minors = jurisdictions.compactMap(\.minors).first,
            purposeSubtree(request.purpose).contains(where: { purposeMatches(minors.refuse, $0) })
        {
            if let age { if age < minors.under { refusals.insert("age.minor") } } else { refusals.insert("age.unknown") }
        }
        if let regions = jurisdictions.compactMap(\.allowedRegions).first {
            if let region = request.context.processingRegion {
                if !regions.contains(region) { refusals.insert("residency.processing_region") }
            } else {
                refusals.insert("residency.region_unknown")
            }
        }
        return (grants, refusals)
    }

    public func resource(
        _ resource: ResourceReference, request: DecisionRequest, action: Action, jurisdiction: String,
        shared: (grants: Set<String>, refusals: Set<String>), now: Int64
    ) -> ResourceOutcome {
        var outcome = ResourceOutcome(name: resource.name, effect: "deny", codes: [], obligations: Obligations())
        var feature: Feature?
        let category: String
        if let type = resource.type {
            guard let named = set.entityTypes[type]?.category else { outcome.codes = ["request.unknown_resource_type"]; return outcome }
            category = named
        } else if let name = resource.feature {
            guard let f = set.features[name] else { outcome.codes = ["request.unknown_feature"]; return outcome }
            if let claimed = resource.category, claimed != f.category { outcome.codes = ["request.unknown_category"]; return outcome }
            feature = f
            category = f.category
        } else if let name = resource.category, set.categories[name] != nil {
            category = name
        } else {
            outcome.codes = ["request.unknown_category"]
            return outcome
        }
        var refusals = Set<String>()
        var age: Int64?
        if let collected = resource.collectedAt {
            let a = now - Int64(collected.timeIntervalSince1970.rounded(.down))
            if a < 0 { refusals.insert("request.future_data") } else { age = a }
        }
        let evaluate = { (condition: Condition) in
            condition.holds(
                for: request, jurisdiction: jurisdiction, feature: feature?.name, category: category, entity: feature?.entity,
                region: feature?.region, ageSeconds: age, now: now, resource: resource, entities: self.set)
        }
        var permits: [Rule] = []
        var permitErrored = false
        // The resource holds every category of its subtree.
        let subtree = set.categories.keys.filter { Names.isWithin($0, category) }
        for rule in set.rules {
            let granted = { (d: String) in self.categoryMatches(rule.categories, d) && !self.categoryMatches(rule.except, d) }
            let categoryApplies = rule.effect == .permit ? subtree.allSatisfy(granted) : subtree.contains(where: granted)
            let purposeApplies =
                rule.effect == .permit
                ? purposeMatches(rule.purposes, request.purpose)
                : purposeSubtree(request.purpose).contains { purposeMatches(rule.purposes, $0) }
            // A rule naming an action covers the actions beneath it; a request's action stands for its subtree, so a
            // forbid of any action within it applies.
            let known = Action.builtIn.map(\.rawValue) + set.actions.keys
            let actionApplies =
                rule.actions.map { named in
                    rule.effect == .permit
                        ? named.contains { Names.isWithin(action.rawValue, $0.rawValue) }
                        : known.contains { a in Names.isWithin(a, action.rawValue) && named.contains { Names.isWithin(a, $0.rawValue) } }
                } ?? true
            guard purposeApplies, actionApplies, categoryApplies,
                rule.jurisdictions.map { listed in chain(jurisdiction).contains { listed.contains($0.id) } } ?? true
            else { continue }
            // true, false or nil (could not be evaluated)
            var holds: Bool? = true
            if let when = rule.when {
                switch evaluate(when) {
                case true?: break
                case false?: holds = false
                case nil: holds = nil
                }
            }
            if holds != false, let unless = rule.unless {
                switch evaluate(unless) {
                case false?: break
                case true?: holds = false
                case nil: holds = nil
                }
            }
            if rule.effect == .forbid {
                if holds != false { refusals.insert("rule.forbid") }
                if holds == nil { refusals.insert("condition.error") }
            } else if holds == true {
                permits.append(rule)
            } else if holds == nil {
                permitErrored = true
            }
        }
        if permits.isEmpty {
            refusals.insert("minimisation.not_granted")
            if permitErrored { refusals.insert("condition.error") }
        }
        refusals.formUnion(shared.refusals)
        let sensitive = subtree.filter { set.isSensitive(category: $0) }
        if !sensitive.isEmpty {
            let bests = sensitive.map { d in
                set.scopes.values.filter { categoryMatches($0.explicitCategories, d) && purposeMatches($0.purposes, request.purpose) }
                    .map { grantState($0.id, request, now: now) }.max() ?? 0
            }
            if bests.contains(where: { $0 < 3 }) {
                refusals.insert("consent.explicit_required")
            } else if let minimum = chain(jurisdiction).compactMap(\.ageOfConsent).first {
                if let age = request.subject.age {
                    if age < minimum && bests.contains(where: { $0 != 4 }) { refusals.insert("consent.guardian_required") }
                } else {
                    refusals.insert("age.unknown")
                }
            }
        }
        let regions = chain(jurisdiction).compactMap(\.allowedRegions).first
        if let region = feature?.region, let regions, !regions.contains(region) { refusals.insert("residency.storage_region") }
        let limits = set.retention.filter { rule in
            subtree.contains { categoryMatches(rule.categories, $0) }
                && (rule.purposes.isEmpty || purposeSubtree(request.purpose).contains { purposeMatches(rule.purposes, $0) })
        }
        if let limit = limits.map(\.maxAge.seconds).min() {
            if let age {
                if age > limit { refusals.insert("retention.expired") }
            } else if resource.collectedAt == nil {
                refusals.insert("retention.age_unknown")
            }
        }
        if refusals.isEmpty {
            outcome.effect = "permit"
            outcome.codes = Set(permits.map { _ in "rule.permit" }).union(shared.grants)
            outcome.obligations = permits.reduce(Obligations()) { $0.combined(with: $1.obligations) }
        } else {
            outcome.codes = refusals
        }
        return outcome
    }
}
