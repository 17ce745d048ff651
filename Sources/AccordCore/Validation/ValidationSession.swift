/// The state of one validation: the model being built and the problems found so far.
struct ValidationSession {
    var bag = DiagnosticBag()
    var set = PolicySet()
    /// Every name declared, with its implied ancestors, for reference checks.
    var categoryNames: Set<String> = []
    var purposeNames: Set<String> = []
    var ruleIDs: [String: SourceRange] = [:]
    /// Names declared explicitly (not only implied as an ancestor), with where.
    var declaredCategories: [String: SourceRange] = [:]
    var declaredPurposes: [String: SourceRange] = [:]
    /// A `fallback:` value was present but invalid; its error already explains a missing fallback.
    var invalidFallback = false
    var sources: [String: SourceFile] = [:]
    /// Declared actions, entity types and entities, with where.
    var declaredActions: [String: SourceRange] = [:]
    var declaredEntityTypes: [String: SourceRange] = [:]
    var declaredEntities: [String: SourceRange] = [:]
    /// Names the vocabulary refers to, checked once every Taxonomy has been read.
    var pendingCategories: [(String, SourceRange)] = []
    var pendingPurposes: [(String, SourceRange)] = []
    var pendingEntityTypes: [(String, SourceRange)] = []
    /// Each declared attribute's type, with where it was first declared.
    var attributeTypes: [String: (AttributeType, SourceRange)] = [:]
    /// What conditions may read beyond the fixed attributes (set after the taxonomies).
    var schema = ConditionSchema()

    static let metadataKeys = ["name", "owner", "description", "labels"]
    /// Keys of a rule, so a rule key that strays into a nested mapping is reported as misplaced.
    static let ruleKeys = [
        "id", "effect", "description", "purposes", "actions", "categories", "except", "jurisdictions",
        "when", "unless", "obligations",
    ]

    // MARK: - Header

    /// Checks `apiVersion` and `kind`; returns the kind and the document's fields if both are right.
    mutating func readHeader(_ root: SyntaxNode) -> (String, FieldReader)? {
        guard case .mapping(let pairs) = root.value else {
            if root.isNull { return nil }  // an empty document, e.g. a trailing '---'
            bag.error(.documentNotMapping, "a policy document must be a mapping, found \(root.kindDescription)", at: root.range)
            return nil
        }
        let keys = Dictionary(pairs.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var ok = true
        if let version = keys["apiVersion"] {
            if version.value.scalar != PolicySetValidator.apiVersion {
                bag.error(
                    .unsupportedAPIVersion, "unsupported apiVersion '\(version.value.scalar ?? version.value.kindDescription)'",
                    at: version.value.range, help: "this version of Accord reads apiVersion: \(PolicySetValidator.apiVersion)")
                ok = false
            }
        } else {
            bag.error(
                .missingAPIVersion, "document has no apiVersion", at: root.range, help: "add apiVersion: \(PolicySetValidator.apiVersion)")
            ok = false
        }
        guard let kindPair = keys["kind"] else {
            bag.error(
                .unknownKind, "document has no kind", at: root.range,
                help: "add kind: one of \(PolicySetValidator.kinds.joined(separator: ", "))")
            return nil
        }
        guard let kind = kindPair.value.scalar, PolicySetValidator.kinds.contains(kind) else {
            let text = kindPair.value.scalar ?? kindPair.value.kindDescription
            bag.error(
                .unknownKind, "unknown kind '\(text)'", at: kindPair.value.range,
                help: Suggestion.help(for: text, in: PolicySetValidator.kinds)
                    ?? "kinds: \(PolicySetValidator.kinds.joined(separator: ", "))")
            return nil
        }
        let allowed = ["apiVersion", "kind", "metadata"] + Self.bodyKeys(kind)
        var misplaced: [String: String] =
            kind == "Policy"
            ? Dictionary(uniqueKeysWithValues: Self.ruleKeys.filter { !allowed.contains($0) }.map { ($0, "a rule under 'rules:'") })
            : [:]
        misplaced["description"] = "metadata.description"
        misplaced["name"] = kind == "Jurisdiction" ? nil : "metadata.name"
        misplaced["owner"] = "metadata.owner"
        guard let header = FieldReader.open(root, what: "a \(kind) document", allowed: allowed, misplaced: misplaced, into: &bag) else {
            return nil
        }
        if let metadata = header["metadata"] {
            _ = FieldReader.open(metadata.value, what: "metadata", allowed: Self.metadataKeys, into: &bag)
        }
        return ok ? (kind, header) : nil
    }

    static func bodyKeys(_ kind: String) -> [String] {
        switch kind {
        case "Taxonomy": ["categories", "purposes", "actions", "entity_types"]
        case "ConsentScopes": ["scopes"]
        case "Catalog": ["features"]
        case "Jurisdiction": ["id", "name", "extends", "fallback", "age_of_consent", "minors", "legal_bases", "opt_out", "allowed_regions"]
        case "Policy": ["rules", "retention"]
        case "Entities": ["entities"]
        case "PolicyTest": ["defaults", "cases", "properties"]
        default: []
        }
    }

    /// The document's `metadata.name`, or the file's name.
    func documentName(_ header: FieldReader) -> String {
        if let metadata = header["metadata"], case .mapping(let pairs) = metadata.value.value,
            let name = pairs.first(where: { $0.key == "name" })?.value.scalar
        {
            return name
        }
        return String(header.node.range.file.split(separator: "/").last ?? "")
    }

    mutating func read(kind: String, _ root: SyntaxNode, header: FieldReader) {
        switch kind {
        case "Taxonomy":
            readTaxonomy(header)
            readVocabulary(header)
        case "ConsentScopes": readConsentScopes(header)
        case "Catalog": readCatalog(header)
        case "Jurisdiction": readJurisdiction(header)
        case "Policy": readPolicy(header)
        case "Entities": readEntities(header)
        case "PolicyTest": readPolicyTest(header)
        default: break
        }
    }

    // MARK: - References

    /// Resolves a category pattern list; unknown names get a suggestion.
    mutating func categoryPatterns(_ items: [(String, SyntaxNode)]) -> [NamePattern] {
        patterns(items, known: categoryNames, allowSensitive: true, code: .unknownCategory, noun: "category")
    }

    mutating func purposePatterns(_ items: [(String, SyntaxNode)]) -> [NamePattern] {
        patterns(items, known: purposeNames, allowSensitive: false, code: .unknownPurpose, noun: "purpose")
    }

    private mutating func patterns(
        _ items: [(String, SyntaxNode)], known: Set<String>, allowSensitive: Bool, code: DiagnosticCode, noun: String
    ) -> [NamePattern] {
        var result: [NamePattern] = []
        for (text, node) in items {
            guard let pattern = NamePattern.parse(text, allowSensitive: allowSensitive) else {
                bag.error(
                    .invalidName, "invalid \(noun) pattern '\(text)'", at: node.range,
                    help: "write a name (covers its children), name.* (only its children), or *")
                continue
            }
            if let base = pattern.base, !known.contains(base) {
                bag.error(code, "unknown \(noun) '\(base)'", at: node.range, help: Suggestion.help(for: base, in: known))
                continue
            }
            if case .descendants(let base) = pattern, !known.contains(where: { $0 != base && Names.isWithin($0, base) }) {
                bag.error(
                    .patternMatchesNothing, "'\(text)' matches nothing: '\(base)' has no children", at: node.range,
                    help: "write '\(base)' to select it")
                continue
            }
            result.append(pattern)
        }
        return result
    }

    /// Registers a definition, reporting a duplicate with the first one's location.
    mutating func claim(_ name: String, in seen: inout [String: SourceRange], at range: SourceRange, noun: String) -> Bool {
        Self.claim(name, in: &seen, at: range, noun: noun, bag: &bag)
    }

    static func claim(
        _ name: String, in seen: inout [String: SourceRange], at range: SourceRange, noun: String, bag: inout DiagnosticBag
    ) -> Bool {
        if let first = seen[name] {
            bag.add(Diagnostic(.duplicateDefinition, "\(noun) '\(name)' is defined twice", at: range, notes: ["first defined at \(first)"]))
            return false
        }
        seen[name] = range
        return true
    }
}
