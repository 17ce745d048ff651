/// Declared actions and entity types (in a Taxonomy) and entity data (`kind: Entities`).
extension ValidationSession {
    /// `actions:` and `entity_types:` of a Taxonomy. References to categories and purposes are checked once every
    /// Taxonomy has been read (`checkVocabulary`), as they may be declared in another file.
    mutating func readVocabulary(_ header: FieldReader) {
        for item in header.list("actions", into: &bag) ?? [] {
            let (name, fields, at) = readActionItem(item)
            guard let name, Self.claim(name, in: &declaredActions, at: at, noun: "action", bag: &bag) else { continue }
            // A built-in action may be declared too, to give it a default purpose or a description.
            let purpose = fields?.name("default_purpose", into: &bag)
            if let purpose, let node = fields?["default_purpose"]?.value { pendingPurposes.append((purpose, node.range)) }
            set.actions[name] = DeclaredAction(
                name: name, defaultPurpose: purpose, description: fields?.string("description", into: &bag), source: item.range)
            // A dotted action implies its ancestors, as a purpose does.
            for ancestor in Names.ancestors(of: name) where set.actions[ancestor] == nil {
                set.actions[ancestor] = DeclaredAction(name: ancestor, defaultPurpose: nil, description: nil, source: item.range)
            }
        }
        for item in header.list("entity_types", into: &bag) ?? [] {
            readEntityType(item)
        }
    }

    private mutating func readActionItem(_ item: SyntaxNode) -> (String?, FieldReader?, SourceRange) {
        let fields: FieldReader?
        let node: SyntaxNode
        if case .scalar = item.value {
            (fields, node) = (nil, item)
        } else {
            guard
                let opened = FieldReader.open(
                    item, what: "an action", allowed: ["name", "default_purpose", "description"], required: ["name"], into: &bag),
                let nameNode = opened["name"]?.value
            else { return (nil, nil, item.range) }
            (fields, node) = (opened, nameNode)
        }
        guard let text = FieldReader.string(node, what: "an action's name", into: &bag) else { return (nil, fields, node.range) }
        guard Names.isValidAction(text) else {
            bag.error(
                .invalidName, "invalid action name '\(text)'", at: node.range,
                help:
                    "an action is dotted words of letters, digits, '_' or '-', each starting with a letter: data.read, can_read_todos, GET")
            return (nil, fields, node.range)
        }
        return (text, fields, node.range)
    }

    private mutating func readEntityType(_ item: SyntaxNode) {
        guard
            let fields = FieldReader.open(
                item, what: "an entity type",
                allowed: ["name", "category", "default_purpose", "data_subject", "attributes", "description"],
                required: ["name"], into: &bag),
            let name = fields.name("name", into: &bag), let nameNode = fields["name"]?.value
        else { return }
        guard Self.claim(name, in: &declaredEntityTypes, at: nameNode.range, noun: "entity type", bag: &bag) else { return }
        if ["feature", "category"].contains(name) {
            bag.error(
                .invalidName, "'\(name)' is how requests name catalog \(name == "feature" ? "features" : "categories")", at: nameNode.range,
                help: "choose another name for the entity type")
            return
        }
        let category = fields.name("category", into: &bag)
        if let category, let node = fields["category"]?.value { pendingCategories.append((category, node.range)) }
        let purpose = fields.name("default_purpose", into: &bag)
        if let purpose, let node = fields["default_purpose"]?.value { pendingPurposes.append((purpose, node.range)) }
        var attributes: [String: AttributeType] = [:]
        if let pair = fields["attributes"] {
            if case .mapping(let pairs) = pair.value.value {
                for attribute in pairs {
                    if let type = readAttribute(attribute, of: name) { attributes[attribute.key] = type }
                }
            } else if !pair.value.isNull {
                bag.error(
                    .wrongType, "'attributes' must be a mapping of names to types, found \(pair.value.kindDescription)",
                    at: pair.value.range, help: "e.g. attributes: {owner: string, roles: set}")
            }
        }
        set.entityTypes[name] = EntityType(
            name: name, category: category, defaultPurpose: purpose, dataSubject: fields.bool("data_subject", into: &bag) ?? false,
            attributes: attributes, description: fields.string("description", into: &bag), source: item.range)
    }

    /// One `name: type` of an entity type; the same name must have the same type in every entity type.
    private mutating func readAttribute(_ pair: SyntaxPair, of typeName: String) -> AttributeType? {
        let keyRange = FieldReader.keyRange(pair)
        guard Self.isAttributeName(pair.key) else {
            bag.error(
                .invalidName, "invalid attribute name '\(pair.key)'", at: keyRange,
                help: "letters, digits and '_', starting with a letter or '_', so that a condition can name it")
            return nil
        }
        guard let text = FieldReader.string(pair.value, what: "the type of '\(pair.key)'", into: &bag) else { return nil }
        guard let type = AttributeType.parse(text) else {
            bag.error(
                .invalidValue, "unknown attribute type '\(text)'", at: pair.value.range,
                help: Suggestion.help(for: text, in: AttributeType.spellings) ?? "types: \(AttributeType.spellings.joined(separator: ", "))"
            )
            return nil
        }
        if case .reference(let target) = type { pendingEntityTypes.append((target, pair.value.range)) }
        if let (first, at) = attributeTypes[pair.key], first.conditionType != type.conditionType {
            bag.add(
                Diagnostic(
                    .attributeTypeConflict, "attribute '\(pair.key)' of '\(typeName)' is \(type), elsewhere \(first)", at: pair.value.range,
                    help: "conditions read an attribute name as one type: rename one", notes: ["declared as \(first) at \(at)"]))
            return nil
        }
        if attributeTypes[pair.key] == nil { attributeTypes[pair.key] = (type, pair.value.range) }
        return type
    }

    static func isAttributeName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.utf8.count <= 64 else { return false }
        func letter(_ s: Unicode.Scalar) -> Bool { ("a"..."z").contains(s) || ("A"..."Z").contains(s) || s == "_" }
        return letter(first) && name.unicodeScalars.allSatisfy { letter($0) || ("0"..."9").contains($0) }
    }

    /// After every Taxonomy: the categories, purposes and entity types that declarations refer to exist; at most
    /// one entity type is the data subject's.
    mutating func checkVocabulary() {
        for (name, range) in pendingCategories where !categoryNames.contains(name) {
            bag.error(.unknownCategory, "unknown category '\(name)'", at: range, help: Suggestion.help(for: name, in: categoryNames))
        }
        for (name, range) in pendingPurposes where !purposeNames.contains(name) {
            bag.error(.unknownPurpose, "unknown purpose '\(name)'", at: range, help: Suggestion.help(for: name, in: purposeNames))
        }
        for (name, range) in pendingEntityTypes where set.entityTypes[name] == nil {
            bag.error(
                .unknownEntityType, "unknown entity type '\(name)'", at: range, help: Suggestion.help(for: name, in: set.entityTypes.keys))
        }
        let subjects = set.entityTypes.values.filter(\.dataSubject).sorted {
            ($0.source.file, $0.source.start) < ($1.source.file, $1.source.start)
        }
        for extra in subjects.dropFirst() {
            bag.add(
                Diagnostic(
                    .invalidValue, "more than one entity type is the data subject's ('\(subjects[0].name)', '\(extra.name)')",
                    at: extra.source, help: "mark one type data_subject: true", notes: ["first at \(subjects[0].source)"]))
        }
        schema = ConditionSchema(attributes: set.attributes)
    }

    // MARK: - Entity data

    /// A `kind: Entities` document: `entities:`, each `{type, id, properties}`, its properties declared by its type
    /// and of the declared types.
    mutating func readEntities(_ header: FieldReader) {
        for item in header.list("entities", into: &bag) ?? [] {
            guard
                let fields = FieldReader.open(
                    item, what: "an entity", allowed: ["type", "id", "properties"], required: ["type", "id"], into: &bag),
                let typeName = fields.string("type", into: &bag), let id = fields.string("id", into: &bag),
                let typeNode = fields["type"]?.value, let idNode = fields["id"]?.value
            else { continue }
            guard let type = set.entityTypes[typeName] else {
                bag.error(
                    .unknownEntityType, "unknown entity type '\(typeName)'", at: typeNode.range,
                    help: Suggestion.help(for: typeName, in: set.entityTypes.keys) ?? "declare it under entity_types: in a Taxonomy")
                continue
            }
            guard !id.isEmpty, !id.unicodeScalars.contains("\u{0}") else {
                bag.error(.invalidValue, "an entity id must be a non-empty string without NUL", at: idNode.range)
                continue
            }
            guard
                Self.claim(
                    Entity.key(type: typeName, id: id), in: &declaredEntities, at: idNode.range, noun: "entity \(typeName) '\(id)'",
                    bag: &bag)
            else { continue }
            var properties: [String: AttributeValue] = [:]
            if let pair = fields["properties"] {
                guard case .mapping(let pairs) = pair.value.value else {
                    bag.error(.wrongType, "'properties' must be a mapping, found \(pair.value.kindDescription)", at: pair.value.range)
                    continue
                }
                for property in pairs {
                    guard let declared = type.attributes[property.key] else {
                        bag.error(
                            .unknownAttribute, "'\(typeName)' has no attribute '\(property.key)'", at: FieldReader.keyRange(property),
                            help: Suggestion.help(for: property.key, in: type.attributes.keys)
                                ?? "declare it under the type's attributes: in a Taxonomy")
                        continue
                    }
                    if let value = entityValue(property.value, as: declared, name: property.key) { properties[property.key] = value }
                }
            }
            set.entities[Entity.key(type: typeName, id: id)] = Entity(type: typeName, id: id, properties: properties, source: item.range)
        }
    }

    /// A value of entity data as its declared type: text for strings, references, timestamps and durations (each
    /// read to check it), a plain integer or boolean, a list of strings for a set.
    private mutating func entityValue(_ node: SyntaxNode, as type: AttributeType, name: String) -> AttributeValue? {
        let value: AttributeValue?
        switch (type, node.value) {
        case (.stringSet, .sequence(let items)):
            var strings: [AttributeValue] = []
            for item in items {
                guard case .scalar(let text, _) = item.value, !item.isNull else {
                    bag.error(.wrongType, "'\(name)' is a set of strings; this item is \(item.kindDescription)", at: item.range)
                    return nil
                }
                strings.append(.string(text))
            }
            value = .list(strings)
        case (.int, .scalar(let text, .plain)): value = Int64(text).map(AttributeValue.int)
        case (.bool, .scalar(let text, .plain)): value = text == "true" ? .bool(true) : (text == "false" ? .bool(false) : nil)
        case (.string, .scalar(let text, _)) where !node.isNull, (.reference, .scalar(let text, _)) where !node.isNull:
            value = .string(text)
        case (.timestamp, .scalar(let text, _)), (.duration, .scalar(let text, _)):
            value = AttributeValue.string(text).typed(as: type) == nil ? nil : .string(text)
        default: value = nil
        }
        if value == nil {
            let example =
                switch type {
                case .stringSet: "a list of strings"
                case .timestamp: "an RFC 3339 timestamp such as 2026-01-31T00:00:00Z"
                case .duration: "a duration such as 30d"
                default: "a \(type)"
                }
            bag.error(.wrongType, "'\(name)' must be \(example), found \(node.kindDescription)", at: node.range)
        }
        return value
    }
}

extension Names {
    /// Whether `name` is a valid action: dotted parts of ASCII letters (either case), digits, `_` and `-`, each starting
    /// with a letter (`data.read.online`, `can_read_todos`, `GET`).
    public static func isValidAction(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 200 else { return false }
        for part in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard let first = part.unicodeScalars.first, ("a"..."z").contains(first) || ("A"..."Z").contains(first) else { return false }
            for s in part.unicodeScalars
            where !(("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || s == "_" || s == "-") {
                return false
            }
        }
        return true
    }
}
