/// Warnings about a valid policy set: things that are allowed but almost certainly not meant — a permit that
/// can never take effect, a purpose nothing serves, data kept without a limit, profiling on legitimate
/// interest. `accord validate` reports them; `--deny-warnings` fails on them.
public enum PolicyLint {
    public static func check(_ set: PolicySet) -> [Diagnostic] {
        var linter = Linter(set)
        linter.permitsNeverApplying()
        linter.purposesNeverPermitted()
        linter.categoriesUnreadOrKeptForever()
        linter.scopesCoveringNoPurpose()
        linter.duplicateRules()
        linter.sensitiveWithoutExplicitConsent()
        linter.profilingOnLegitimateInterest()
        return linter.found.sorted()
    }
}

/// One pass of the lints over a set, with the tables they share computed once.
private struct Linter {
    let set: PolicySet
    let purposes: [String]
    let categories: [String]
    let permits: [Rule]
    /// Whether a category is sensitive walks its ancestors: asked once per category, not once per rule.
    let sensitivity: [String: Bool]
    /// Computed once: finding leaves compares every name with every other (once per rule and purpose, it made
    /// the lints of a 10,000-rule set take seconds).
    let leafPurposes: [String]
    let leafCategories: [String]
    var found: [Diagnostic] = []

    init(_ set: PolicySet) {
        self.set = set
        purposes = set.purposes.keys.sorted()
        categories = set.categories.keys.sorted()
        permits = set.rules.filter { $0.effect == .permit }
        sensitivity = Dictionary(uniqueKeysWithValues: categories.map { ($0, set.isSensitive(category: $0)) })
        func leaves(_ names: [String]) -> [String] { names.filter { name in !names.contains { $0 != name && Names.isWithin($0, name) } } }
        leafPurposes = leaves(purposes)
        leafCategories = leaves(categories)
    }

    mutating func warn(_ code: DiagnosticCode, _ message: String, at range: SourceRange, help: String? = nil, notes: [String] = []) {
        found.append(Diagnostic(code, message, at: range, severity: .warning, help: help, notes: notes))
    }

    func grants(_ rule: Rule, _ category: String) -> Bool {
        let sensitive = sensitivity[category] ?? set.isSensitive(category: category)
        return rule.categories.contains { $0.matches(category, isSensitive: sensitive) }
            && !rule.except.contains { $0.matches(category, isSensitive: sensitive) }
    }

    func covers(_ patterns: [NamePattern], _ purpose: String) -> Bool { patterns.contains { $0.matches(purpose) } }

    /// A0601: a permit rule whose every purpose and category an unconditional forbid takes away. Stops at the
    /// first (purpose, category) pair no forbid takes, which for most rules is the first.
    /// What the unconditional forbids take, found once: a (leaf purpose, leaf category) table for those on every
    /// action, and each action-limited one's own purposes and categories (checking every forbid for every permit
    /// was quadratic in the rules).
    mutating func permitsNeverApplying() {
        let hardForbids = set.rules.filter { $0.effect == .forbid && $0.when == nil && $0.unless == nil && $0.jurisdictions == nil }
        let categoryIndex = Dictionary(uniqueKeysWithValues: leafCategories.enumerated().map { ($1, $0) })
        var takenEverywhere = [Bool](repeating: false, count: leafPurposes.count * leafCategories.count)
        var actionLimited: [(purposes: Set<Int>, categories: Set<Int>, actions: Set<Action>)] = []
        for forbid in hardForbids {
            let forbidPurposes = leafPurposes.indices.filter { covers(forbid.purposes, leafPurposes[$0]) }
            let forbidCategories = leafCategories.indices.filter { grants(forbid, leafCategories[$0]) }
            if let actions = forbid.actions {
                actionLimited.append((Set(forbidPurposes), Set(forbidCategories), actions))
            } else {
                for p in forbidPurposes { for c in forbidCategories { takenEverywhere[p * leafCategories.count + c] = true } }
            }
        }
        for rule in permits {
            var granted = false, blocked = true
            pairs: for (p, purpose) in leafPurposes.enumerated() where covers(rule.purposes, purpose) {
                for category in leafCategories where grants(rule, category) {
                    granted = true
                    let c = categoryIndex[category]!
                    let taken =
                        takenEverywhere[p * leafCategories.count + c]
                        || actionLimited.contains { forbid in
                            forbid.purposes.contains(p) && forbid.categories.contains(c)
                                && (rule.actions.map { $0.isSubset(of: forbid.actions) } ?? false)
                        }
                    if !taken {
                        blocked = false
                        break pairs
                    }
                }
            }
            if granted && blocked {
                warn(
                    .permitNeverApplies, "rule '\(rule.id)' can never take effect: forbid rules take away everything it permits",
                    at: rule.source,
                    help: "remove it, or narrow the forbid rules that override it")
            }
        }
    }

    /// A0602: a purpose no permit rule serves.
    mutating func purposesNeverPermitted() {
        for purpose in leafPurposes where !permits.contains(where: { covers($0.purposes, purpose) }) {
            if let source = set.purposes[purpose]?.source {
                warn(
                    .purposeNeverPermitted, "no rule permits anything for purpose '\(purpose)'", at: source,
                    help: "every request for it is denied; add a permit rule or remove the purpose")
            }
        }
    }

    /// A0603 and A0604: catalog categories no purpose can read, and without a retention limit.
    mutating func categoriesUnreadOrKeptForever() {
        var seen: Set<String> = []
        for feature in set.features.values.sorted(by: { ($0.source.file, $0.source.start) < ($1.source.file, $1.source.start) })
        where seen.insert(feature.category).inserted {
            let category = feature.category
            if !permits.contains(where: { grants($0, category) }) {
                warn(
                    .categoryNeverRead, "no rule lets any purpose read category '\(category)' (feature '\(feature.name)')",
                    at: feature.source,
                    help: "the feature store holds data nothing may use: stop collecting it, or add the permit rule it is for")
            }
            let sensitive = sensitivity[category] ?? set.isSensitive(category: category)
            if !set.retention.contains(where: { rule in
                rule.purposes.isEmpty && rule.categories.contains { $0.matches(category, isSensitive: sensitive) }
            }) {
                warn(
                    .noRetention, "category '\(category)' (feature '\(feature.name)') has no retention limit", at: feature.source,
                    help: "add a retention rule (max_age, on_expiry) so the data is not kept forever (GDPR Art. 5(1)(e))")
            }
        }
    }

    /// A0605: a consent scope no jurisdiction lets carry consent for any purpose. A scope with
    /// `explicit_categories` counts under every legal basis (explicit consent for sensitive data is needed
    /// whatever the basis, docs/language.md §8 step 12), so it is in use as soon as it covers a purpose.
    mutating func scopesCoveringNoPurpose() {
        let consentBases = set.jurisdictions.values.flatMap(\.legalBases).filter { $0.basis == .consent }
        for scope in set.scopes.values.sorted(by: { ($0.source.file, $0.source.start) < ($1.source.file, $1.source.start) }) {
            let explicitUse = !scope.explicitCategories.isEmpty && purposes.contains { covers(scope.purposes, $0) }
            let usable =
                explicitUse
                || consentBases.contains { basis in
                    (basis.scopes.isEmpty || basis.scopes.contains(scope.id))
                        && purposes.contains { purpose in covers(basis.purposes, purpose) && covers(scope.purposes, purpose) }
                }
            if !usable {
                warn(
                    .scopeCoversNoPurpose, "consent scope '\(scope.id)' covers no purpose that any jurisdiction bases on consent",
                    at: scope.source,
                    help: "grants of it never count; check its purposes and the jurisdictions' legal_bases")
            }
        }
    }

    /// A0606: the same rule twice.
    mutating func duplicateRules() {
        var meanings: [String: Rule] = [:]
        for rule in set.rules.sorted(by: { ($0.source.file, $0.source.start) < ($1.source.file, $1.source.start) }) {
            if let first = meanings[rule.meaning] {
                warn(
                    .duplicateRule, "rule '\(rule.id)' says exactly what rule '\(first.id)' says", at: rule.source,
                    help: "remove one of them", notes: ["'\(first.id)' is at \(first.source)"])
            } else {
                meanings[rule.meaning] = rule
            }
        }
    }

    /// A0607: a sensitive category permitted where no scope offers explicit consent for it.
    mutating func sensitiveWithoutExplicitConsent() {
        for rule in permits {
            for category in categories where sensitivity[category] == true && grants(rule, category) {
                let served = leafPurposes.filter { covers(rule.purposes, $0) }
                let explicit = served.contains { purpose in
                    set.scopes.values.contains { scope in
                        covers(scope.purposes, purpose) && scope.explicitCategories.contains { $0.matches(category, isSensitive: true) }
                    }
                }
                if !explicit && !served.isEmpty {
                    warn(
                        .sensitiveWithoutExplicitConsent,
                        "rule '\(rule.id)' permits sensitive category '\(category)', but no consent scope gives explicit consent for it for these purposes",
                        at: rule.source,
                        help:
                            "the engine refuses it without explicit consent (GDPR Art. 9(2)(a)); add a scope with explicit_categories, or except it"
                    )
                    break
                }
            }
        }
    }

    /// A0608: profiling on legitimate interest.
    mutating func profilingOnLegitimateInterest() {
        for jurisdiction in set.jurisdictions.values.sorted(by: { ($0.source.file, $0.source.start) < ($1.source.file, $1.source.start) }) {
            for basis in jurisdiction.legalBases where basis.basis == .legitimateInterest {
                let profiling = purposes.filter { covers(basis.purposes, $0) && set.purposeFlag($0, \.profiling) }
                if !profiling.isEmpty {
                    warn(
                        .profilingOnLegitimateInterest,
                        "jurisdiction '\(jurisdiction.id)' bases profiling purposes on legitimate interest: \(profiling.joined(separator: ", "))",
                        at: basis.source,
                        help: "profiling usually needs consent (GDPR Art. 22, EDPB guidance); people can object under Art. 21")
                }
            }
        }
    }
}
