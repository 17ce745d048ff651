import Foundation

extension DecisionPlan {
    /// Compiles a validated policy set. Every expensive step happens here, once.
    public static func compile(_ set: PolicySet) -> DecisionPlan {
        // Sorted, so a parent always comes before its children.
        let categoryNames = set.categories.keys.sorted()
        let categoryIndex = Dictionary(uniqueKeysWithValues: categoryNames.enumerated().map { ($1, $0) })
        let tree = NameTree(names: categoryNames, index: categoryIndex)
        // Sensitive: marked so, or beneath a category marked so (GDPR Art. 9 special categories).
        var categorySensitive = [Bool](repeating: false, count: categoryNames.count)
        for (c, name) in categoryNames.enumerated() {
            categorySensitive[c] = set.categories[name]?.sensitive == true || (tree.parent[c] >= 0 && categorySensitive[tree.parent[c]])
        }
        let purposeNames = set.purposes.keys.sorted()
        let purposeIndex = Dictionary(uniqueKeysWithValues: purposeNames.enumerated().map { ($1, $0) })
        let categorySelector = NameSelector(names: categoryNames, sensitive: categorySensitive)
        let purposeSelector = NameSelector(names: purposeNames, sensitive: purposeNames.map { _ in false })
        let purposeTree = NameTree(names: purposeNames, index: purposeIndex)

        let featureNames = set.features.keys.sorted()
        let features = featureNames.map { name -> CompiledFeature in
            let feature = set.features[name]!
            return CompiledFeature(name: name, category: categoryIndex[feature.category]!, entity: feature.entity, region: feature.region)
        }
        let scopeNames = set.scopes.keys.sorted()
        let scopeIndex = Dictionary(uniqueKeysWithValues: scopeNames.enumerated().map { ($1, $0) })
        let scopes = scopeNames.map { id -> CompiledScope in
            let scope = set.scopes[id]!
            return CompiledScope(id: id, minimumVersion: scope.minimumVersion, expiresAfter: scope.expiresAfter?.seconds)
        }

        // Rules: one bit each.
        let rules = set.rules
        let words = max(1, (rules.count + 63) / 64)
        var purposeBits = [UInt64](repeating: 0, count: purposeNames.count * words)
        var categoryBits = [UInt64](repeating: 0, count: categoryNames.count * words)
        var actionBits = [UInt64](repeating: 0, count: Action.allCases.count * words)
        let jurisdictionNames = set.jurisdictions.keys.sorted()
        let jurisdictionIndex = Dictionary(uniqueKeysWithValues: jurisdictionNames.enumerated().map { ($1, $0) })
        var jurisdictionBits = [UInt64](repeating: 0, count: max(1, jurisdictionNames.count) * words)
        var compiledRules: [CompiledRule] = []
        compiledRules.reserveCapacity(rules.count)
        for (r, rule) in rules.enumerated() {
            let word = r / 64, bit = UInt64(1) << UInt64(r % 64)
            // A request names one purpose, which stands for its whole subtree: a forbid of any purpose within it
            // applies. (A permit pattern that matches a purpose matches everything beneath it already.)
            var purposeMatched = [Bool](repeating: false, count: purposeNames.count)
            for p in purposeSelector.select(rule.purposes) { purposeMatched[p] = true }
            for p in purposeTree.spread(purposeMatched, all: rule.effect == .permit) { purposeBits[p * words + word] |= bit }
            // A resource of category c holds the data of c's whole subtree: a permit applies only if it
            // grants every category in it, a forbid as soon as it refuses any (fail closed).
            var matched = [Bool](repeating: false, count: categoryNames.count)
            for c in categorySelector.select(rule.categories) { matched[c] = true }
            for c in categorySelector.select(rule.except) { matched[c] = false }
            for c in tree.spread(matched, all: rule.effect == .permit) { categoryBits[c * words + word] |= bit }
            for action in rule.actions ?? Set(Action.allCases) { actionBits[action.index * words + word] |= bit }
            // A rule for a jurisdiction also applies to the jurisdictions that extend it.
            let applicable =
                rule.jurisdictions.map { listed in
                    jurisdictionNames.indices.filter { j in Self.chain(jurisdictionNames[j], in: set).contains { listed.contains($0.id) } }
                } ?? Array(jurisdictionNames.indices)
            for j in applicable { jurisdictionBits[j * words + word] |= bit }
            compiledRules.append(
                CompiledRule(
                    reference: RuleReference(id: rule.id, policy: rule.policy, effect: rule.effect, source: rule.source),
                    effect: rule.effect, when: rule.when?.compiled, unless: rule.unless?.compiled, obligations: rule.obligations))
        }

        // Consent scopes.
        var scopesCoveringPurpose = [[Int]](repeating: [], count: purposeNames.count)
        var scopesExplicit = [[Int]](repeating: [], count: categoryNames.count)
        for (s, id) in scopeNames.enumerated() {
            let scope = set.scopes[id]!
            for p in purposeSelector.select(scope.purposes) { scopesCoveringPurpose[p].append(s) }
            for c in categorySelector.select(scope.explicitCategories) { scopesExplicit[c].append(s) }
        }

        // Retention: the strictest limit for each purpose × category, over the category's whole subtree.
        var retention = [Int64?](repeating: nil, count: purposeNames.count * categoryNames.count)
        for rule in set.retention {
            let purposes = rule.purposes.isEmpty ? Array(purposeNames.indices) : purposeSelector.select(rule.purposes)
            for c in categorySelector.select(rule.categories) {
                for p in purposes {
                    let slot = p * categoryNames.count + c
                    retention[slot] = min(retention[slot] ?? .max, rule.maxAge.seconds)
                }
            }
        }
        for p in purposeNames.indices {
            for c in categoryNames.indices.reversed() where tree.parent[c] >= 0 {
                let child = p * categoryNames.count + c, parent = p * categoryNames.count + tree.parent[c]
                if let limit = retention[child] { retention[parent] = min(retention[parent] ?? .max, limit) }
            }
        }
        // ... and over the purpose's subtree: a limit for a purpose within the one requested applies too.
        for p in purposeNames.indices.reversed() where purposeTree.parent[p] >= 0 {
            for c in categoryNames.indices {
                let child = p * categoryNames.count + c, parent = purposeTree.parent[p] * categoryNames.count + c
                if let limit = retention[child] { retention[parent] = min(retention[parent] ?? .max, limit) }
            }
        }
        // Per category: the sensitive categories in its subtree, each needing explicit consent.
        var sensitiveBelow = [[Int]](repeating: [], count: categoryNames.count)
        for c in categoryNames.indices.reversed() {
            if categorySensitive[c] { sensitiveBelow[c].append(c) }
            if tree.parent[c] >= 0 { sensitiveBelow[tree.parent[c]] += sensitiveBelow[c] }
        }

        // Jurisdictions, with `extends` resolved: the nearest definition of each setting wins.
        let regionNames = Array(Set(set.jurisdictions.values.flatMap { $0.allowedRegions ?? [] })).sorted()
        var compiledJurisdictions: [CompiledJurisdiction] = []
        var table: [CompiledJurisdictionPurpose] = []
        // A purpose carries its own and its ancestors' flags, and those of any purpose within it.
        var purposeFlags = purposeNames.map {
            (profiling: set.purposeFlag($0, \.profiling), saleOrShare: set.purposeFlag($0, \.saleOrShare))
        }
        for p in purposeNames.indices.reversed() where purposeTree.parent[p] >= 0 {
            let parent = purposeTree.parent[p]
            purposeFlags[parent] = (
                purposeFlags[parent].profiling || purposeFlags[p].profiling,
                purposeFlags[parent].saleOrShare || purposeFlags[p].saleOrShare
            )
        }
        for id in jurisdictionNames {
            let chain = Self.chain(id, in: set)
            let ageOfConsent = chain.lazy.compactMap(\.ageOfConsent).first
            let minors = chain.lazy.compactMap(\.minors).first
            let regions = chain.lazy.compactMap(\.allowedRegions).first
            let optOut = chain.lazy.compactMap(\.optOut).first
            compiledJurisdictions.append(
                CompiledJurisdiction(
                    id: id, ageOfConsent: ageOfConsent, minorsUnder: minors?.under, allowedRegions: regions.map(Set.init),
                    optOutSignals: Set(optOut?.signals ?? []), optOutFlags: Set(optOut?.flags ?? []),
                    allowedRegionBits: regionNames.map { regions?.contains($0) ?? true },
                    ageOfConsentText: ageOfConsent.map { "under \($0)" },
                    minorsText: minors.map { "under \($0.under)" }))
            // Refused to minors or open to opt-out if any purpose within it is.
            let refused = Set(
                purposeTree.spread(mask(minors.map { purposeSelector.select($0.refuse) } ?? [], purposeNames.count), all: false))
            let optOutPurposes = Set(
                purposeTree.spread(mask(optOut.map { purposeSelector.select($0.purposes) } ?? [], purposeNames.count), all: false))
            let optOutFlags = Set(optOut?.flags ?? [])
            // Legal bases: most specific pattern wins; ties go to the nearer jurisdiction, then the earlier entry.
            var best = [(specificity: Int, rank: Int, rule: LegalBasisRule)?](repeating: nil, count: purposeNames.count)
            var rank = 0
            for jurisdiction in chain {
                for basis in jurisdiction.legalBases {
                    for pattern in basis.purposes {
                        for p in purposeSelector.select([pattern]) {
                            if let current = best[p], current.specificity >= pattern.specificity { continue }
                            best[p] = (pattern.specificity, rank, basis)
                        }
                    }
                    rank += 1
                }
            }
            for p in purposeNames.indices {
                let basis = best[p]?.rule
                var consentScopes: [Int] = []
                if basis?.basis == .consent {
                    consentScopes =
                        basis!.scopes.isEmpty
                        ? scopesCoveringPurpose[p]
                        : basis!.scopes.compactMap { scopeIndex[$0] }
                }
                let flags = purposeFlags[p]
                let optOutable =
                    optOutPurposes.contains(p)
                    || (optOutFlags.contains("sale_or_share") && flags.1) || (optOutFlags.contains("profiling") && flags.0)
                let scopesText = consentScopes.map { scopeNames[$0] }.joined(separator: ",")
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
                        basis: basis?.basis, consentScopes: consentScopes,
                        basisReasons: basisReasons,
                        missingConsentReasons: [Reason(.consentMissing, detail: scopesText)],
                        optOutable: optOutable,
                        refusedToMinors: refused.contains(p)))
            }
        }

        let revision = set.revision

        return DecisionPlan(
            revision: revision, categoryIndex: NameTable(categoryNames), categoryNames: categoryNames,
            purposeIndex: NameTable(purposeNames), purposeNames: purposeNames,
            featureIndex: NameTable(featureNames), features: features,
            scopeNames: scopeNames, scopeIndex: NameTable(scopeNames), scopes: scopes, jurisdictionIndex: NameTable(jurisdictionNames),
            jurisdictions: compiledJurisdictions,
            fallbackJurisdiction: set.fallbackJurisdiction.flatMap { jurisdictionIndex[$0] },
            rules: compiledRules, words: words, purposeRuleBits: purposeBits, actionRuleBits: actionBits,
            jurisdictionRuleBits: jurisdictionBits, categoryRuleBits: categoryBits,
            scopesCoveringPurpose: scopesCoveringPurpose, scopesExplicitForCategory: scopesExplicit, retentionLimit: retention,
            retentionLimitText: retention.map { $0.map { PolicyDuration(seconds: $0).description } },
            jurisdictionPurpose: table, purposeFlags: purposeFlags, sensitiveBelow: sensitiveBelow,

            storageAllowed: compiledJurisdictions.flatMap { j in
                features.map { f in f.region.map { region in j.allowedRegions?.contains(region) ?? true } ?? true }
            },
            regionIndex: NameTable(regionNames),
            consentGrantReasons: scopeNames.map { [Reason(.basisConsent, detail: $0)] },
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
