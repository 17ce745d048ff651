extension ValidationSession {
    mutating func readPolicy(_ header: FieldReader) {
        let policy = documentName(header)
        if let metadata = header["metadata"] {
            if case .mapping(let pairs) = metadata.value.value {
                if let name = pairs.first(where: { $0.key == "name" }) {
                    _ = FieldReader.name(name.value, what: "the policy's name", into: &bag)
                } else {
                    bag.error(
                        .missingKey, "a Policy's metadata is missing 'name'", at: metadata.value.range,
                        help: "name the policy: decisions cite rules as policy name and rule id")
                }
            }
        } else {
            bag.error(.missingKey, "a Policy document is missing 'metadata' with a 'name'", at: header.node.range)
        }
        for item in header.list("rules", into: &bag) ?? [] {
            if let rule = readRule(item, policy: policy) { set.rules.append(rule) }
        }
        for item in header.list("retention", into: &bag) ?? [] {
            if let rule = readRetention(item, policy: policy) { set.retention.append(rule) }
        }
    }

    private mutating func readRule(_ item: SyntaxNode, policy: String) -> Rule? {
        guard
            let fields = FieldReader.open(
                item, what: "a rule", allowed: Self.ruleKeys, required: ["id", "effect", "purposes", "categories"], into: &bag)
        else { return nil }
        let id = fields.string("id", into: &bag)
        if let id, let node = fields["id"]?.value {
            if !isRuleID(id) {
                bag.error(.invalidName, "invalid rule id '\(id)'", at: node.range, help: "use letters, digits, '-', '_' and '.'")
            } else if let first = ruleIDs[id] {
                bag.add(Diagnostic(.duplicateRuleID, "rule id '\(id)' is used twice", at: node.range, notes: ["first used at \(first)"]))
            } else {
                ruleIDs[id] = node.range
            }
        }
        let effect = fields.oneOf("effect", ["permit", "forbid"], into: &bag).flatMap(Effect.init(rawValue:))
        let purposes = purposePatterns(fields.strings("purposes", nonEmpty: true, into: &bag) ?? [])
        let categories = categoryPatterns(fields.strings("categories", nonEmpty: true, into: &bag) ?? [])
        let except = categoryPatterns(fields.strings("except", into: &bag) ?? [])
        var actions: Set<Action>?
        if let list = fields.strings("actions", nonEmpty: true, into: &bag) {
            let known = set.allActions
            var named = Set<Action>()
            for (text, node) in list {
                if text == "*" { named.formUnion(known); continue }
                if known.contains(Action(text)) {
                    named.insert(Action(text))
                } else {
                    bag.error(
                        .unknownAction, "unknown action '\(text)'", at: node.range,
                        help: Suggestion.help(for: text, in: known.map(\.rawValue))
                            ?? "actions: \(known.map(\.rawValue).joined(separator: ", ")), or declare it under actions: in a Taxonomy")
                }
            }
            actions = named
        }
        var jurisdictions: [String]?
        if let list = fields.strings("jurisdictions", nonEmpty: true, into: &bag) {
            jurisdictions = []
            for (text, node) in list {
                if set.jurisdictions[text] == nil {
                    bag.error(
                        .unknownJurisdiction, "unknown jurisdiction '\(text)'", at: node.range,
                        help: Suggestion.help(for: text, in: set.jurisdictions.keys))
                } else {
                    jurisdictions?.append(text)
                }
            }
        }
        let when = condition(fields["when"])
        let unless = condition(fields["unless"])
        let obligations = fields["obligations"].flatMap { readObligations($0.value) } ?? Obligations()
        _ = fields.string("description", into: &bag)
        guard let id, let effect else { return nil }
        return Rule(
            id: id, policy: policy, effect: effect, description: fields["description"]?.value.scalar, purposes: purposes,
            actions: actions, categories: categories, except: except, jurisdictions: jurisdictions,
            when: when, unless: unless, obligations: obligations, source: item.range)
    }

    func isRuleID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 128 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    private mutating func condition(_ pair: SyntaxPair?) -> Condition? {
        guard let pair else { return nil }
        guard case .scalar(let text, let style) = pair.value.value, !pair.value.isNull else {
            bag.error(.wrongType, "'\(pair.key)' must be a condition string, found \(pair.value.kindDescription)", at: pair.value.range)
            return nil
        }
        let locations = sources[pair.value.range.file].flatMap { ScalarLocations.map(text, style: style, at: pair.value.range, in: $0) }
        let start = pair.value.range.start
        switch Condition.read(
            text, at: pair.value.range, schema: schema,
            locate: { offset in
                guard let locations else { return nil }
                if offset < locations.count { return locations[offset] }
                // Past the end (a missing operand): just after the last character.
                if let last = locations.last { return SourceLocation(line: last.line, column: last.column + 1 + offset - locations.count) }
                return style == .quoted ? SourceLocation(line: start.line, column: start.column + 1) : nil
            })
        {
        case .success(let condition): return condition
        case .failure(let diagnostic): bag.add(diagnostic); return nil
        }
    }

    private mutating func readObligations(_ node: SyntaxNode) -> Obligations? {
        let misplaced = Dictionary(uniqueKeysWithValues: Self.ruleKeys.map { ($0, "the rule (one level up)") })
        guard
            let fields = FieldReader.open(
                node, what: "obligations",
                allowed: ["mask", "drop", "min_cohort", "differential_privacy", "delete_after"],
                misplaced: misplaced, into: &bag)
        else { return nil }
        var obligations = Obligations()
        obligations.mask = fields.oneOf("mask", MaskStrategy.allCases.map(\.rawValue), into: &bag).flatMap(MaskStrategy.init(rawValue:))
        obligations.drop = (fields.strings("drop", nonEmpty: true, into: &bag) ?? []).map(\.0).sorted()
        obligations.minCohort = fields.int("min_cohort", in: 2...1_000_000_000, into: &bag)
        obligations.deleteAfter = fields.duration("delete_after", into: &bag)
        if let pair = fields["differential_privacy"],
            let dp = FieldReader.open(
                pair.value, what: "differential_privacy", allowed: ["epsilon", "delta", "budget"], required: ["epsilon"],
                misplaced: misplaced, into: &bag),
            let epsilon = dp.double("epsilon", in: 0...100, openLower: true, into: &bag)
        {
            var budget: PrivacyBudget?
            if let budgetPair = dp["budget"],
                let fields = FieldReader.open(
                    budgetPair.value, what: "a privacy budget", allowed: ["total", "period", "per"],
                    required: ["total", "period"], into: &bag),
                let total = fields.double("total", in: 0...1_000_000, openLower: true, into: &bag),
                let period = fields.duration("period", into: &bag)
            {
                let per = fields.oneOf("per", ["purpose", "subject"], into: &bag) ?? "purpose"
                if epsilon > total, let node = fields["total"]?.value {
                    bag.error(.numberOutOfRange, "a budget of \(total) cannot pay for one query of epsilon \(epsilon)", at: node.range)
                }
                budget = PrivacyBudget(total: total, period: period, perSubject: per == "subject")
            }
            obligations.differentialPrivacy = DifferentialPrivacy(
                epsilon: epsilon, delta: dp.double("delta", in: 0...0.5, into: &bag),
                budget: budget)
        }
        return obligations
    }

    private mutating func readRetention(_ item: SyntaxNode, policy: String) -> RetentionRule? {
        guard
            let fields = FieldReader.open(
                item, what: "a retention rule",
                allowed: ["categories", "purposes", "max_age", "on_expiry", "description"],
                required: ["categories", "max_age", "on_expiry"], into: &bag)
        else { return nil }
        let categories = categoryPatterns(fields.strings("categories", nonEmpty: true, into: &bag) ?? [])
        let purposes = purposePatterns(fields.strings("purposes", nonEmpty: true, into: &bag) ?? [])
        let maxAge = fields.duration("max_age", into: &bag)
        let onExpiry = fields.oneOf("on_expiry", ["delete", "anonymise", "aggregate"], into: &bag).flatMap(ExpiryAction.init(rawValue:))
        _ = fields.string("description", into: &bag)
        guard let maxAge, let onExpiry, !categories.isEmpty else { return nil }
        return RetentionRule(
            categories: categories, purposes: purposes, maxAge: maxAge, onExpiry: onExpiry, policy: policy, source: item.range)
    }
}
