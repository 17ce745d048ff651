import Foundation

extension DecisionPlan {
    /// Compiles a validated policy set. Every expensive step happens here, once.
    public static func compile(_ set: PolicySet) -> DecisionPlan {
        let names = PlanNames(set)
        let rules = names.ruleBits()
        let scopes = names.consentScopeTables()
        let retention = names.retentionLimits()
        let purposeFlags = names.purposeFlags()
        let (jurisdictions, table) = names.jurisdictionTables(scopesCoveringPurpose: scopes.coveringPurpose, purposeFlags: purposeFlags)
        let entities = names.entityTables()
        return DecisionPlan(
            revision: set.revision, categoryIndex: NameTable(names.categories), categoryNames: names.categories,
            purposeIndex: NameTable(names.purposes), purposeNames: names.purposes,
            featureIndex: NameTable(names.featureNames), features: names.features,
            scopeNames: names.scopes, scopeIndex: NameTable(names.scopes), scopes: names.compiledScopes,
            jurisdictionIndex: NameTable(names.jurisdictions), jurisdictions: jurisdictions,
            fallbackJurisdiction: set.fallbackJurisdiction.flatMap { names.jurisdictionIndex[$0] },
            rules: rules.rules, words: rules.words, purposeRuleBits: rules.purpose, actionRuleBits: rules.action,
            jurisdictionRuleBits: rules.jurisdiction, categoryRuleBits: rules.category,
            scopesCoveringPurpose: scopes.coveringPurpose, scopesExplicitForCategory: scopes.explicitForCategory, retentionLimit: retention,
            retentionLimitText: retention.map { $0.map { PolicyDuration(seconds: $0).description } },
            jurisdictionPurpose: table, purposeFlags: purposeFlags, sensitiveBelow: names.sensitiveBelow(),
            storageAllowed: jurisdictions.flatMap { j in
                names.features.map { f in f.region.map { region in j.allowedRegions?.contains(region) ?? true } ?? true }
            },
            regionIndex: NameTable(names.regions),
            consentGrantReasons: names.scopes.map { [Reason(.basisConsent, detail: $0)] },
            actionIndex: NameTable(names.actions), actionNames: names.actions,
            entityTypeIndex: NameTable(entities.types), entityTypeCategory: entities.typeCategory,
            entityIndex: NameTable(entities.keys), entityData: entities.data, dataSubjectType: set.dataSubjectType,
            policySet: set)
    }

    /// A jurisdiction followed by the ones it extends, nearest first; stops at a cycle.
    static func chain(_ id: String, in set: PolicySet) -> [Jurisdiction] {
        var chain: [Jurisdiction] = []
        var current: String? = id
        while let next = current, let jurisdiction = set.jurisdictions[next], !chain.contains(where: { $0.id == next }) {
            chain.append(jurisdiction)
            current = jurisdiction.extends
        }
        return chain
    }
}

/// Resolves name patterns to indices through precomputed subtrees, so compiling many rules stays fast.
struct NameSelector {
    let count: Int
    let subtree: [String: [Int]]
    let sensitive: [Int]

    init(names: [String], sensitive: [Bool]) {
        count = names.count
        var subtree: [String: [Int]] = [:]
        for (i, name) in names.enumerated() {
            subtree[name, default: []].append(i)
            for ancestor in Names.ancestors(of: name) { subtree[ancestor, default: []].append(i) }
        }
        self.subtree = subtree
        self.sensitive = sensitive.enumerated().filter(\.element).map(\.offset)
        self.names = names
    }

    private let names: [String]

    func select(_ patterns: [NamePattern]) -> [Int] {
        if patterns.count == 1 { return select(patterns[0]) }
        var seen = Set<Int>()
        var result: [Int] = []
        for pattern in patterns {
            for i in select(pattern) where seen.insert(i).inserted { result.append(i) }
        }
        return result
    }

    func select(_ pattern: NamePattern) -> [Int] {
        switch pattern {
        case .all: Array(0..<count)
        case .sensitive: sensitive
        case .subtree(let base): subtree[base] ?? []
        case .descendants(let base): (subtree[base] ?? []).filter { names[$0] != base }
        }
    }
}

/// A name hierarchy (categories or purposes) as parent links, for spreading matches over subtrees.
struct NameTree {
    /// Index of each category's parent, or -1.
    let parent: [Int]

    init(names: [String], index: [String: Int]) {
        parent = names.map { name in Names.ancestors(of: name).last.flatMap { index[$0] } ?? -1 }
    }

    /// The names whose whole subtree is matched (`all`), or whose subtree holds any match.
    /// Children come after parents in the sorted names, so one backward pass settles every subtree.
    func spread(_ matched: [Bool], all: Bool) -> [Int] {
        var result = matched
        for c in matched.indices.reversed() where parent[c] >= 0 {
            if all { if !result[c] { result[parent[c]] = false } } else if result[c] { result[parent[c]] = true }
        }
        return result.indices.filter { result[$0] }
    }
}

/// A membership mask of `count` entries with `indices` set.
func mask(_ indices: [Int], _ count: Int) -> [Bool] {
    var result = [Bool](repeating: false, count: count)
    for i in indices { result[i] = true }
    return result
}

/// The names of a set in the order the plan numbers them (sorted, so a parent always comes before its
/// children), their trees, and the tables compiled from them one concern at a time.
private struct PlanNames {
    let set: PolicySet
    let categories: [String]
    let categoryIndex: [String: Int]
    let categoryTree: NameTree
    /// Sensitive: marked so, or beneath a category marked so (GDPR Art. 9 special categories).
    let categorySensitive: [Bool]
    let categorySelector: NameSelector
    let purposes: [String]
    let purposeSelector: NameSelector
    let purposeTree: NameTree
    let featureNames: [String]
    let features: [CompiledFeature]
    let scopes: [String]
    let scopeIndex: [String: Int]
    let compiledScopes: [CompiledScope]
    let jurisdictions: [String]
    let jurisdictionIndex: [String: Int]
    let regions: [String]
    let actions: [String]
    let actionTree: NameTree
    let actionSelector: NameSelector

    init(_ set: PolicySet) {
        self.set = set
        categories = set.categories.keys.sorted()
        let categoryIndex = Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1, $0) })
        self.categoryIndex = categoryIndex
        categoryTree = NameTree(names: categories, index: categoryIndex)
        var sensitive = [Bool](repeating: false, count: categories.count)
        for (c, name) in categories.enumerated() {
            sensitive[c] = set.categories[name]?.sensitive == true || (categoryTree.parent[c] >= 0 && sensitive[categoryTree.parent[c]])
        }
        categorySensitive = sensitive
        categorySelector = NameSelector(names: categories, sensitive: sensitive)
        purposes = set.purposes.keys.sorted()
        purposeSelector = NameSelector(names: purposes, sensitive: purposes.map { _ in false })
        purposeTree = NameTree(names: purposes, index: Dictionary(uniqueKeysWithValues: purposes.enumerated().map { ($1, $0) }))
        featureNames = set.features.keys.sorted()
        features = featureNames.map { name in
            let feature = set.features[name]!
            return CompiledFeature(name: name, category: categoryIndex[feature.category]!, entity: feature.entity, region: feature.region)
        }
        scopes = set.scopes.keys.sorted()
        scopeIndex = Dictionary(uniqueKeysWithValues: scopes.enumerated().map { ($1, $0) })
        compiledScopes = scopes.map { id in
            let scope = set.scopes[id]!
            return CompiledScope(id: id, minimumVersion: scope.minimumVersion, expiresAfter: scope.expiresAfter?.seconds)
        }
        jurisdictions = set.jurisdictions.keys.sorted()
        jurisdictionIndex = Dictionary(uniqueKeysWithValues: jurisdictions.enumerated().map { ($1, $0) })
        regions = Array(Set(set.jurisdictions.values.flatMap { $0.allowedRegions ?? [] })).sorted()
        actions = set.allActions.map(\.rawValue)
        actionTree = NameTree(names: actions, index: Dictionary(uniqueKeysWithValues: actions.enumerated().map { ($1, $0) }))
        actionSelector = NameSelector(names: actions, sensitive: actions.map { _ in false })
    }

    /// Entity types as resources (their category's index, or -1 for a type without one) and entity data, each
    /// value read as its declared type.
    func entityTables() -> (types: [String], typeCategory: [Int], keys: [String], data: [[String: ConditionValue]]) {
        let types = set.entityTypes.keys.sorted()
        let keys = set.entities.keys.sorted()
        let data = keys.map { key in
            let entity = set.entities[key]!
            let declared = set.entityTypes[entity.type]?.attributes ?? [:]
            var values: [String: ConditionValue] = [:]
            for (name, value) in entity.properties {
                if let type = declared[name], let typed = value.typed(as: type) { values[name] = typed }
            }
            return values
        }
        return (types, types.map { set.entityTypes[$0]?.category.flatMap { categoryIndex[$0] } ?? -1 }, keys, data)
    }

    /// Rules: one bit each, in a bitset per purpose, category, action and jurisdiction.
    func ruleBits() -> (
        rules: [CompiledRule], words: Int, purpose: [UInt64], category: [UInt64], action: [UInt64], jurisdiction: [UInt64]
    ) {
        let rules = set.rules
        let words = max(1, (rules.count + 63) / 64)
        var purposeBits = [UInt64](repeating: 0, count: purposes.count * words)
        var categoryBits = [UInt64](repeating: 0, count: categories.count * words)
        var actionBits = [UInt64](repeating: 0, count: actions.count * words)
        var jurisdictionBits = [UInt64](repeating: 0, count: max(1, jurisdictions.count) * words)
        var compiledRules: [CompiledRule] = []
        compiledRules.reserveCapacity(rules.count)
        for (r, rule) in rules.enumerated() {
            let word = r / 64, bit = UInt64(1) << UInt64(r % 64)
            // A request names one purpose, which stands for its whole subtree: a forbid of any purpose within it
            // applies. (A permit pattern that matches a purpose matches everything beneath it already.)
            var purposeMatched = [Bool](repeating: false, count: purposes.count)
            for p in purposeSelector.select(rule.purposes) { purposeMatched[p] = true }
            for p in purposeTree.spread(purposeMatched, all: rule.effect == .permit) { purposeBits[p * words + word] |= bit }
            // A resource of category c holds the data of c's whole subtree: a permit applies only if it
            // grants every category in it, a forbid as soon as it refuses any (fail closed).
            var matched = [Bool](repeating: false, count: categories.count)
            for c in categorySelector.select(rule.categories) { matched[c] = true }
            for c in categorySelector.select(rule.except) { matched[c] = false }
            for c in categoryTree.spread(matched, all: rule.effect == .permit) { categoryBits[c * words + word] |= bit }
            // As with purposes, a request naming an action stands for its subtree: a forbid of any action within it applies.
            var actionMatched = [Bool](repeating: rule.actions == nil, count: actions.count)
            for name in rule.actions ?? [] { for a in actionSelector.select(.subtree(name.rawValue)) { actionMatched[a] = true } }
            for a in actionTree.spread(actionMatched, all: rule.effect == .permit) { actionBits[a * words + word] |= bit }
            // A rule for a jurisdiction also applies to the jurisdictions that extend it.
            let applicable =
                rule.jurisdictions.map { listed in
                    jurisdictions.indices.filter { j in DecisionPlan.chain(jurisdictions[j], in: set).contains { listed.contains($0.id) } }
                } ?? Array(jurisdictions.indices)
            for j in applicable { jurisdictionBits[j * words + word] |= bit }
            compiledRules.append(
                CompiledRule(
                    reference: RuleReference(id: rule.id, policy: rule.policy, effect: rule.effect, source: rule.source),
                    effect: rule.effect, when: rule.when?.compiled, unless: rule.unless?.compiled, obligations: rule.obligations))
        }
        return (compiledRules, words, purposeBits, categoryBits, actionBits, jurisdictionBits)
    }

    /// Consent scopes: those covering each purpose, and those giving explicit consent for each category.
    func consentScopeTables() -> (coveringPurpose: [[Int]], explicitForCategory: [[Int]]) {
        var covering = [[Int]](repeating: [], count: purposes.count)
        var explicit = [[Int]](repeating: [], count: categories.count)
        for (s, id) in scopes.enumerated() {
            let scope = set.scopes[id]!
            for p in purposeSelector.select(scope.purposes) { covering[p].append(s) }
            for c in categorySelector.select(scope.explicitCategories) { explicit[c].append(s) }
        }
        return (covering, explicit)
    }

    /// Retention: the strictest limit for each purpose × category, over the category's whole subtree and the
    /// purpose's (a limit for a purpose within the one requested applies too).
    func retentionLimits() -> [Int64?] {
        var retention = [Int64?](repeating: nil, count: purposes.count * categories.count)
        for rule in set.retention {
            let selected = rule.purposes.isEmpty ? Array(purposes.indices) : purposeSelector.select(rule.purposes)
            for c in categorySelector.select(rule.categories) {
                for p in selected {
                    let slot = p * categories.count + c
                    retention[slot] = min(retention[slot] ?? .max, rule.maxAge.seconds)
                }
            }
        }
        for p in purposes.indices {
            for c in categories.indices.reversed() where categoryTree.parent[c] >= 0 {
                let child = p * categories.count + c, parent = p * categories.count + categoryTree.parent[c]
                if let limit = retention[child] { retention[parent] = min(retention[parent] ?? .max, limit) }
            }
        }
        for p in purposes.indices.reversed() where purposeTree.parent[p] >= 0 {
            for c in categories.indices {
                let child = p * categories.count + c, parent = purposeTree.parent[p] * categories.count + c
                if let limit = retention[child] { retention[parent] = min(retention[parent] ?? .max, limit) }
            }
        }
        return retention
    }

    /// Per category: the sensitive categories in its subtree, each needing explicit consent.
    func sensitiveBelow() -> [[Int]] {
        var below = [[Int]](repeating: [], count: categories.count)
        for c in categories.indices.reversed() {
            if categorySensitive[c] { below[c].append(c) }
            if categoryTree.parent[c] >= 0 { below[categoryTree.parent[c]] += below[c] }
        }
        return below
    }

    /// A purpose carries its own and its ancestors' flags, and those of any purpose within it.
    func purposeFlags() -> [(profiling: Bool, saleOrShare: Bool)] {
        var flags = purposes.map { (profiling: set.purposeFlag($0, \.profiling), saleOrShare: set.purposeFlag($0, \.saleOrShare)) }
        for p in purposes.indices.reversed() where purposeTree.parent[p] >= 0 {
            let parent = purposeTree.parent[p]
            flags[parent] = (flags[parent].profiling || flags[p].profiling, flags[parent].saleOrShare || flags[p].saleOrShare)
        }
        return flags
    }

    /// Jurisdictions, with `extends` resolved (the nearest definition of each setting wins), and the
    /// jurisdiction × purpose table: legal basis, the scopes consent may come from, opt-out, minors.
    func jurisdictionTables(scopesCoveringPurpose: [[Int]], purposeFlags: [(profiling: Bool, saleOrShare: Bool)]) -> (
        [CompiledJurisdiction], [CompiledJurisdictionPurpose]
    ) {
        var compiled: [CompiledJurisdiction] = []
        var table: [CompiledJurisdictionPurpose] = []
        for id in jurisdictions {
            let chain = DecisionPlan.chain(id, in: set)
            let ageOfConsent = chain.lazy.compactMap(\.ageOfConsent).first
            let minors = chain.lazy.compactMap(\.minors).first
            let allowed = chain.lazy.compactMap(\.allowedRegions).first
            let optOut = chain.lazy.compactMap(\.optOut).first
            compiled.append(
                CompiledJurisdiction(
                    id: id, ageOfConsent: ageOfConsent, minorsUnder: minors?.under, allowedRegions: allowed.map(Set.init),
                    optOutSignals: Set(optOut?.signals ?? []), optOutFlags: Set(optOut?.flags ?? []),
                    allowedRegionBits: regions.map { allowed?.contains($0) ?? true },
                    ageOfConsentText: ageOfConsent.map { "under \($0)" },
                    minorsText: minors.map { "under \($0.under)" }))
            // Refused to minors or open to opt-out if any purpose within it is.
            let refused = Set(
                purposeTree.spread(mask(minors.map { purposeSelector.select($0.refuse) } ?? [], purposes.count), all: false))
            let optOutPurposes = Set(
                purposeTree.spread(mask(optOut.map { purposeSelector.select($0.purposes) } ?? [], purposes.count), all: false))
            let optOutFlags = Set(optOut?.flags ?? [])
            let best = legalBases(chain)
            for p in purposes.indices {
                let basis = best[p]
                var consentScopes: [Int] = []
                if basis?.basis == .consent {
                    consentScopes = basis!.scopes.isEmpty ? scopesCoveringPurpose[p] : basis!.scopes.compactMap { scopeIndex[$0] }
                }
                let flags = purposeFlags[p]
                let optOutable =
                    optOutPurposes.contains(p)
                    || (optOutFlags.contains("sale_or_share") && flags.1) || (optOutFlags.contains("profiling") && flags.0)
                let scopesText = consentScopes.map { scopes[$0] }.joined(separator: ",")
                let basisReasons: [Reason] =
                    switch basis?.basis {
                    case .legitimateInterest: [Reason(.basisLegitimateInterest)]
                    case .contract: [Reason(.basisContract)]
                    case .legalObligation: [Reason(.basisLegalObligation)]
                    case .notice: [Reason(.basisNotice)]
                    case .consent, nil: []
                    }
                table.append(
                    CompiledJurisdictionPurpose(
                        basis: basis?.basis, consentScopes: consentScopes, basisReasons: basisReasons,
                        missingConsentReasons: [Reason(.consentMissing, detail: scopesText)], optOutable: optOutable,
                        refusedToMinors: refused.contains(p)))
            }
        }
        return (compiled, table)
    }

    /// The legal basis for each purpose along a jurisdiction's chain: the most specific pattern wins; ties go
    /// to the nearer jurisdiction, then the earlier entry.
    func legalBases(_ chain: [Jurisdiction]) -> [LegalBasisRule?] {
        var best = [(specificity: Int, rule: LegalBasisRule)?](repeating: nil, count: purposes.count)
        for jurisdiction in chain {
            for basis in jurisdiction.legalBases {
                for pattern in basis.purposes {
                    for p in purposeSelector.select([pattern]) {
                        if let current = best[p], current.specificity >= pattern.specificity { continue }
                        best[p] = (pattern.specificity, basis)
                    }
                }
            }
        }
        return best.map { $0?.rule }
    }
}
