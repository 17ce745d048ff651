extension ValidationSession {
    mutating func readTaxonomy(_ header: FieldReader) {
        for item in header.list("categories", into: &bag) ?? [] {
            let (name, fields, at) = readNamedItem(item, what: "a category", extra: ["sensitive", "description"])
            var declared = declaredCategories
            defer { declaredCategories = declared }
            guard let name, claim(name, in: &declared, at: at, noun: "category") else { continue }
            set.categories[name] = DataCategory(
                name: name, sensitive: fields?.bool("sensitive", into: &bag) ?? false,
                description: fields?.string("description", into: &bag), source: item.range)
        }
        for item in header.list("purposes", into: &bag) ?? [] {
            let (name, fields, at) = readNamedItem(item, what: "a purpose", extra: ["profiling", "sale_or_share", "description"])
            var declared = declaredPurposes
            defer { declaredPurposes = declared }
            guard let name, claim(name, in: &declared, at: at, noun: "purpose") else { continue }
            set.purposes[name] = Purpose(
                name: name, profiling: fields?.bool("profiling", into: &bag) ?? false,
                saleOrShare: fields?.bool("sale_or_share", into: &bag) ?? false,
                description: fields?.string("description", into: &bag), source: item.range)
        }
        // A name covers its children, so ancestors are implied declarations.
        for name in set.categories.keys {
            categoryNames.insert(name)
            for ancestor in Names.ancestors(of: name) where set.categories[ancestor] == nil && declaredCategories[ancestor] == nil {
                set.categories[ancestor] = DataCategory(name: ancestor, sensitive: false, description: nil, source: set.categories[name]!.source)
            }
            categoryNames.formUnion(Names.ancestors(of: name))
        }
        for name in set.purposes.keys {
            purposeNames.insert(name)
            for ancestor in Names.ancestors(of: name) where set.purposes[ancestor] == nil {
                set.purposes[ancestor] = Purpose(name: ancestor, profiling: false, saleOrShare: false, description: nil, source: set.purposes[name]!.source)
            }
            purposeNames.formUnion(Names.ancestors(of: name))
        }
    }

    /// An item written either as a bare name or as a mapping with `name:` and other fields.
    mutating func readNamedItem(_ item: SyntaxNode, what: String, extra: [String]) -> (String?, FieldReader?, SourceRange) {
        if case .scalar = item.value {
            return (FieldReader.name(item, what: what, into: &bag), nil, item.range)
        }
        guard let fields = FieldReader.open(item, what: what, allowed: ["name"] + extra, required: ["name"], into: &bag) else {
            return (nil, nil, item.range)
        }
        return (fields.name("name", into: &bag), fields, fields["name"]?.value.range ?? item.range)
    }
}
