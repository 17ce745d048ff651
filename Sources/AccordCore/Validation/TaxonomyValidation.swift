extension ValidationSession {
    mutating func readTaxonomy(_ header: FieldReader) {
        for item in header.list("categories", into: &bag) ?? [] {
            let (name, fields, at) = readNamedItem(item, what: "a category", extra: ["sensitive", "description"])
            guard let name, Self.claim(name, in: &declaredCategories, at: at, noun: "category", bag: &bag) else { continue }
            set.categories[name] = DataCategory(
                name: name, sensitive: fields?.bool("sensitive", into: &bag) ?? false,
                description: fields?.string("description", into: &bag), source: item.range)
        }
        for item in header.list("purposes", into: &bag) ?? [] {
            let (name, fields, at) = readNamedItem(item, what: "a purpose", extra: ["profiling", "sale_or_share", "description"])
            guard let name, Self.claim(name, in: &declaredPurposes, at: at, noun: "purpose", bag: &bag) else { continue }
            set.purposes[name] = Purpose(
                name: name, profiling: fields?.bool("profiling", into: &bag) ?? false,
                saleOrShare: fields?.bool("sale_or_share", into: &bag) ?? false,
                description: fields?.string("description", into: &bag), source: item.range)
        }
        // A name covers its children, so ancestors are implied declarations. Collected first, inserted after,
        // so the dictionaries are not copied while they are being read.
        var impliedCategories: [DataCategory] = []
        for (name, category) in set.categories {
            categoryNames.insert(name)
            for ancestor in Names.ancestors(of: name) where set.categories[ancestor] == nil && !categoryNames.contains(ancestor) {
                categoryNames.insert(ancestor)
                impliedCategories.append(DataCategory(name: ancestor, sensitive: false, description: nil, source: category.source))
            }
        }
        for category in impliedCategories { set.categories[category.name] = category }
        var impliedPurposes: [Purpose] = []
        for (name, purpose) in set.purposes {
            purposeNames.insert(name)
            for ancestor in Names.ancestors(of: name) where set.purposes[ancestor] == nil && !purposeNames.contains(ancestor) {
                purposeNames.insert(ancestor)
                impliedPurposes.append(
                    Purpose(name: ancestor, profiling: false, saleOrShare: false, description: nil, source: purpose.source))
            }
        }
        for purpose in impliedPurposes { set.purposes[purpose.name] = purpose }
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
