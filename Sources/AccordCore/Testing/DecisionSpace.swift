import Foundation

/// The finite space of decisions policy sets can make: every purpose × category × action × jurisdiction ×
/// consent state × subject age × processing region. Ages and regions are represented by the values that can
/// tell decisions apart — each age of consent, minors threshold and age a condition compares with, one year
/// either side, and unknown; each region a jurisdiction, feature or condition names, one named nowhere, and
/// unknown — so the enumeration covers every request of those dimensions.
///
/// Conditions are read soundly: a rule whose condition reads an attribute the space does not enumerate
/// (actor, time, environment, the resource's feature, entity, region or age) is assumed to apply if it permits
/// and not to apply if it forbids — the most permissive reading. "Never permitted" proven under it holds for
/// every value of those attributes; a counterexample that relied on it says so.
public struct DecisionSpace: Sendable {
    public let purposes: [String]
    public let categories: [String]
    public let actions: [Action]
    /// Declared jurisdictions, and nil (a subject whose jurisdiction is unknown).
    public let jurisdictions: [String?]
    public let consents: [SpaceFilter.ConsentFilter]
    public let ages: [Int?]
    public let regions: [String?]
    public let instant: Date

    /// The attributes conditions may read that the space does not enumerate.
    public static let undecided: Set<ConditionAttribute> = Set(ConditionAttribute.allCases).subtracting([
        .subjectAge, .subjectJurisdiction, .contextPurpose, .contextAction, .contextProcessingRegion, .resourceCategory,
    ])
    static let elsewhere = "zz-named-nowhere"

    /// The space of one or more policy sets (their names together, for a diff).
    public init(_ sets: [PolicySet], asOf instant: Date = Date(timeIntervalSince1970: 1_780_272_000)) {
        self.instant = instant
        purposes = Set(sets.flatMap(\.purposes.keys)).sorted()
        categories = Set(sets.flatMap(\.categories.keys)).sorted()
        actions = Set(sets.flatMap(\.allActions)).sorted()
        jurisdictions = [nil] + Set(sets.flatMap(\.jurisdictions.keys)).sorted()
        consents = SpaceFilter.ConsentFilter.allCases
        var thresholds: Set<Int> = [30]
        var regionNames: Set<String> = [Self.elsewhere]
        for set in sets {
            for jurisdiction in set.jurisdictions.values {
                if let age = jurisdiction.ageOfConsent { thresholds.insert(age) }
                if let under = jurisdiction.minors?.under { thresholds.insert(under) }
                regionNames.formUnion(jurisdiction.allowedRegions ?? [])
            }
            regionNames.formUnion(set.features.values.compactMap(\.region))
            for rule in set.rules {
                for condition in [rule.when, rule.unless].compactMap({ $0?.compiled }) {
                    thresholds.formUnion(
                        condition.literals(comparedWith: .subjectAge).compactMap { if case .int(let n) = $0 { Int(n) } else { nil } })
                    regionNames.formUnion(
                        condition.literals(comparedWith: .contextProcessingRegion).compactMap {
                            if case .string(let text) = $0 { text } else { nil }
                        })
                }
            }
        }
        ages =
            [nil]
            + Set(thresholds.filter { (0...151).contains($0) }.flatMap { [$0 - 1, $0, $0 + 1] }.filter { (0...150).contains($0) }).sorted()
        regions = [nil] + regionNames.sorted()
    }

    /// One request of the space: all categories as resources, everything else fixed.
    public struct Key: Sendable, Hashable {
        public var purpose: String
        public var action: Action
        public var jurisdiction: String?
        public var consent: SpaceFilter.ConsentFilter
        public var age: Int?
        public var region: String?
    }

    public var requestCount: Int { purposes.count * actions.count * jurisdictions.count * consents.count * ages.count * regions.count }
    public var size: Int { requestCount * categories.count }

    /// Every request key, in a fixed order.
    public var keys: [Key] {
        var keys: [Key] = []
        keys.reserveCapacity(requestCount)
        for purpose in purposes {
            for action in actions {
                for jurisdiction in jurisdictions {
                    for consent in consents {
                        for age in ages {
                            for region in regions {
                                keys.append(
                                    Key(
                                        purpose: purpose, action: action, jurisdiction: jurisdiction, consent: consent, age: age,
                                        region: region))
                            }
                        }
                    }
                }
            }
        }
        return keys
    }

    /// The request for `key`, its consent built from `set`'s scopes (each granted at its current version at the
    /// instant itself, so that no expiry, however short, has run), with `categories` as resources (collected at
    /// the instant).
    public func request(_ key: Key, in set: PolicySet, categories: [String]? = nil) -> DecisionRequest {
        let grants: [ConsentGrant] =
            key.consent == .none
            ? []
            : set.scopes.values.sorted { $0.id < $1.id }.map {
                ConsentGrant(scope: $0.id, version: $0.version, grantedAt: instant, byGuardian: key.consent == .guardian)
            }
        return DecisionRequest(
            actor: Actor(id: "accord-space"), subject: Subject(id: "subject", age: key.age, jurisdiction: key.jurisdiction),
            purpose: key.purpose, action: key.action.rawValue,
            resources: (categories ?? self.categories).map { ResourceReference(category: $0, collectedAt: instant) },
            context: RequestContext(processingRegion: key.region), consent: ConsentState(grants: grants))
    }

    public static var options: EvaluationOptions {
        var options = EvaluationOptions()
        options.undecided = undecided
        return options
    }
}

extension DecisionSpace {
    /// A point where a property fails: the request (with the one category) and the permit's reasons.
    public struct Counterexample: Sendable {
        public var key: Key
        public var category: String
        public var request: DecisionRequest
        public var decision: ResourceDecision
        /// Rules that permitted it only under the permissive reading of a condition the space cannot decide.
        public var assumedConditions: [String]
    }

    public struct PropertyResult: Sendable {
        public var property: PolicyProperty
        public var pointsChecked: Int
        /// The first points found permitted (at most 5); empty when proven.
        public var counterexamples: [Counterexample]
        public var seconds: Double
        public var proven: Bool { counterexamples.isEmpty }
    }

    /// Checks `property` over every point of the space its filter selects.
    public func check(_ property: PolicyProperty, plan: DecisionPlan) -> PropertyResult {
        let start = Date()
        let set = plan.policySet
        let filter = property.filter
        let categories = self.categories.filter { category in
            filter.categories.isEmpty
                || filter.categories.contains { $0.matches(category, isSensitive: set.isSensitive(category: category)) }
        }
        var checked = 0
        var found: [Counterexample] = []
        for key in keys where selects(filter, key, plan: plan) && !categories.isEmpty {
            let request = request(key, in: set, categories: categories)
            let decision = plan.evaluate(request, asOf: instant, options: Self.options)
            checked += categories.count
            for (category, resource) in zip(categories, decision.resources) where resource.effect == .permit && found.count < 5 {
                let assumed = resource.reasons.compactMap(\.rule).filter { plan.ruleReadsUndecided($0.id) }.map(\.id)
                found.append(
                    Counterexample(
                        key: key, category: category, request: self.request(key, in: set, categories: [category]),
                        decision: resource, assumedConditions: assumed))
            }
        }
        return PropertyResult(property: property, pointsChecked: checked, counterexamples: found, seconds: Date().timeIntervalSince(start))
    }

    func selects(_ filter: SpaceFilter, _ key: Key, plan: DecisionPlan) -> Bool {
        if !filter.purposes.isEmpty && !filter.purposes.contains(where: { $0.matches(key.purpose) }) { return false }
        if let actions = filter.actions, !actions.contains(key.action) { return false }
        if let jurisdictions = filter.jurisdictions, !(key.jurisdiction.map(jurisdictions.contains) ?? false) { return false }
        if let consent = filter.consent, consent != key.consent { return false }
        if let below = filter.ageBelow, !(key.age.map { $0 < below } ?? false) { return false }
        if let inside = filter.regionsOutside, let region = key.region, inside.contains(region) { return false }
        if let basis = filter.legalBasis, plan.legalBasis(jurisdiction: key.jurisdiction, purpose: key.purpose) != basis { return false }
        return true
    }
}

// MARK: - Diff

/// What changes between two policy sets, decision by decision over their common space, and rule by rule.
public struct PolicyDiff: Sendable {
    /// Decisions that change the same way for one purpose, category and direction, with the values of the
    /// other dimensions where they do.
    public struct Change: Sendable {
        public var purpose: String
        public var category: String
        /// true: denied before, permitted now.
        public var widened: Bool
        public var actions: [Action]
        public var jurisdictions: [String?]
        public var consents: [SpaceFilter.ConsentFilter]
        public var ages: [Int?]
        public var regions: [String?]
        public var points: Int

        /// "ads.targeting may now read_online user.location.precise".
        public var summary: String {
            "\(purpose) \(widened ? "may now" : "may no longer") \(actions.map(\.rawValue).joined(separator: "/")) \(category)"
        }
    }

    public struct RuleChange: Sendable {
        public enum Kind: String, Sendable { case added, removed, changed }
        public var id: String
        public var kind: Kind
        public var source: SourceRange?
    }

    public var changes: [Change]
    public var rules: [RuleChange]
    public var pointsCompared: Int
    public var seconds: Double
    public var widens: Bool { changes.contains(where: \.widened) }

    public init(old: PolicySet, new: PolicySet) {
        let start = Date()
        let space = DecisionSpace([old, new])
        let (oldPlan, newPlan) = (DecisionPlan.compile(old), DecisionPlan.compile(new))
        struct Group: Hashable { var purpose: String, category: String, widened: Bool }
        var groups:
            [Group: (
                actions: Set<Action>, jurisdictions: Set<String?>, consents: Set<SpaceFilter.ConsentFilter>, ages: Set<Int?>,
                regions: Set<String?>, points: Int
            )] = [:]
        let keys = space.keys
        // Both plans decide every request, on every core; the differences are gathered afterwards.
        let chunks = max(1, min(64, keys.count))
        /// One slot per chunk, each written by its own iteration only.
        struct Slots: @unchecked Sendable { let buffer: UnsafeMutableBufferPointer<[(key: Int, category: Int, widened: Bool)]> }
        let found = Slots(buffer: .allocate(capacity: chunks))
        found.buffer.initialize(repeating: [])
        defer { found.buffer.deinitialize(); found.buffer.deallocate() }
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            var mine: [(key: Int, category: Int, widened: Bool)] = []
            for k in stride(from: chunk, to: keys.count, by: chunks) {
                let before = oldPlan.evaluate(space.request(keys[k], in: old), asOf: space.instant, options: DecisionSpace.options)
                let after = newPlan.evaluate(space.request(keys[k], in: new), asOf: space.instant, options: DecisionSpace.options)
                for index in space.categories.indices {
                    let was = before.resources[index].effect == .permit, now = after.resources[index].effect == .permit
                    if was != now { mine.append((k, index, now)) }
                }
            }
            found.buffer[chunk] = mine
        }
        let compared = keys.count * space.categories.count
        for (k, index, widened) in found.buffer.flatMap({ $0 }).sorted(by: { ($0.key, $0.category) < ($1.key, $1.category) }) {
            let key = keys[k], category = space.categories[index]
            do {
                let group = Group(purpose: key.purpose, category: category, widened: widened)
                var entry = groups[group] ?? ([], [], [], [], [], 0)
                entry.actions.insert(key.action)
                entry.jurisdictions.insert(key.jurisdiction)
                entry.consents.insert(key.consent)
                entry.ages.insert(key.age)
                entry.regions.insert(key.region)
                entry.points += 1
                groups[group] = entry
            }
        }
        func order<T: Comparable>(_ values: Set<T?>) -> [T?] {
            values.sorted { ($0 == nil ? 0 : 1, $0.map { "\($0)" } ?? "") < ($1 == nil ? 0 : 1, $1.map { "\($0)" } ?? "") }
        }
        changes = groups.map { group, entry in
            Change(
                purpose: group.purpose, category: group.category, widened: group.widened,
                actions: entry.actions.sorted { $0.rawValue < $1.rawValue }, jurisdictions: order(entry.jurisdictions),
                consents: SpaceFilter.ConsentFilter.allCases.filter(entry.consents.contains), ages: order(entry.ages),
                regions: order(entry.regions), points: entry.points)
        }.sorted { ($0.widened ? 0 : 1, $0.purpose, $0.category) < ($1.widened ? 0 : 1, $1.purpose, $1.category) }
        let before = Dictionary(old.rules.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(new.rules.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var rules: [RuleChange] = []
        for id in Set(before.keys).union(after.keys).sorted() {
            switch (before[id], after[id]) {
            case (nil, let rule?): rules.append(RuleChange(id: id, kind: .added, source: rule.source))
            case (let rule?, nil): rules.append(RuleChange(id: id, kind: .removed, source: rule.source))
            case (let a?, let b?) where a.meaning != b.meaning: rules.append(RuleChange(id: id, kind: .changed, source: b.source))
            default: break
            }
        }
        self.rules = rules
        pointsCompared = compared
        seconds = Date().timeIntervalSince(start)
    }
}

extension Rule {
    /// What the rule says, without where it is written: two rules that differ only in place or description
    /// mean the same.
    var meaning: String {
        [
            effect.rawValue, purposes.map(\.description).sorted().joined(separator: ","),
            actions.map { $0.map(\.rawValue).sorted().joined(separator: ",") } ?? "*",
            categories.map(\.description).sorted().joined(separator: ","),
            except.map(\.description).sorted().joined(separator: ","), jurisdictions?.sorted().joined(separator: ",") ?? "*",
            when?.text ?? "", unless?.text ?? "", obligations.json.serialized(),
        ].joined(separator: "|")
    }
}

extension CompiledCondition {
    /// Literals the condition compares `attribute` with (by `==`, `!=`, ordering, or `in` a list).
    func literals(comparedWith attribute: ConditionAttribute) -> [ConditionValue] {
        switch self {
        case .literal, .attribute, .has, .property, .hasProperty: return []
        case .not(let inner), .negate(let inner), .size(let inner): return inner.literals(comparedWith: attribute)
        case .and(let a, let b), .or(let a, let b), .startsWith(let a, let b), .within(let a, let b):
            return a.literals(comparedWith: attribute) + b.literals(comparedWith: attribute)
        case .compare(_, let a, let b):
            if case .attribute(attribute) = a, case .literal(let value) = b { return [value] }
            if case .attribute(attribute) = b, case .literal(let value) = a { return [value] }
            return a.literals(comparedWith: attribute) + b.literals(comparedWith: attribute)
        case .contains(let element, let list):
            if case .attribute(attribute) = element, case .literal(.list(let values)) = list { return values }
            return element.literals(comparedWith: attribute) + list.literals(comparedWith: attribute)
        }
    }
}
