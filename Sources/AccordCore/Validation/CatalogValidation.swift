extension ValidationSession {
    mutating func readCatalog(_ header: FieldReader) {
        var seen = set.features.mapValues(\.source)
        for item in header.list("features", into: &bag) ?? [] {
            guard
                let fields = FieldReader.open(
                    item, what: "a feature", allowed: ["name", "category", "entity", "region", "description"],
                    required: ["name", "category"], into: &bag),
                let name = fields.name("name", into: &bag)
            else { continue }
            let category = fields.name("category", into: &bag)
            if let category, !categoryNames.contains(category), let node = fields["category"]?.value {
                bag.error(
                    .unknownCategory, "unknown category '\(category)'", at: node.range,
                    help: Suggestion.help(for: category, in: categoryNames))
                continue
            }
            guard let category, claim(name, in: &seen, at: item.range, noun: "feature") else { continue }
            set.features[name] = Feature(
                name: name, category: category, entity: fields.string("entity", into: &bag) ?? "user",
                region: fields.string("region", into: &bag), description: fields.string("description", into: &bag),
                source: item.range)
        }
    }

    mutating func readConsentScopes(_ header: FieldReader) {
        var seen = set.scopes.mapValues(\.source)
        for item in header.list("scopes", into: &bag) ?? [] {
            guard
                let fields = FieldReader.open(
                    item, what: "a consent scope",
                    allowed: [
                        "id", "version", "minimum_version", "purposes", "explicit_categories", "expires_after", "tcf_purposes",
                        "description",
                    ],
                    required: ["id", "purposes"], into: &bag),
                let id = fields.name("id", into: &bag)
            else { continue }
            let version = fields.int("version", in: 1...1_000_000, into: &bag) ?? 1
            let minimum = fields.int("minimum_version", in: 1...1_000_000, into: &bag) ?? 1
            if minimum > version, let node = fields["minimum_version"]?.value {
                bag.error(.numberOutOfRange, "minimum_version \(minimum) is above version \(version)", at: node.range)
            }
            let purposes = purposePatterns(fields.strings("purposes", nonEmpty: true, into: &bag) ?? [])
            let explicit = categoryPatterns(fields.strings("explicit_categories", into: &bag) ?? [])
            guard claim(id, in: &seen, at: item.range, noun: "consent scope") else { continue }
            set.scopes[id] = ConsentScope(
                id: id, version: version, minimumVersion: minimum, purposes: purposes, explicitCategories: explicit,
                expiresAfter: fields.duration("expires_after", into: &bag),
                tcfPurposes: fields.ints("tcf_purposes", in: 1...TCString.purposeCount, into: &bag) ?? [],
                description: fields.string("description", into: &bag), source: item.range)
        }
    }
}
