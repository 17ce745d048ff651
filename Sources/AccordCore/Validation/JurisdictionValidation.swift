extension ValidationSession {
    mutating func readJurisdiction(_ header: FieldReader) {
        guard header["id"] != nil else {
            bag.error(.missingKey, "a Jurisdiction document is missing 'id'", at: header.node.range)
            return
        }
        guard let idNode = header["id"]?.value, let id = FieldReader.string(idNode, what: "'id'", into: &bag) else { return }
        guard isJurisdictionID(id) else {
            bag.error(
                .invalidName, "invalid jurisdiction id '\(id)'", at: idNode.range,
                help: "start with a letter, then letters, digits, '-' or '_', e.g. EU, UK, US-CA")
            return
        }
        var seen = set.jurisdictions.mapValues(\.source)
        guard claim(id, in: &seen, at: idNode.range, noun: "jurisdiction") else { return }

        // Read in this order so that diagnostics come in it.
        let minors = readMinors(header), bases = readLegalBases(header), optOut = readOptOut(header)
        var regions: [String]?
        if let list = header.strings("allowed_regions", nonEmpty: true, into: &bag) {
            regions = list.map(\.0)
        }
        var extendsID: String?
        if let node = header["extends"]?.value { extendsID = FieldReader.string(node, what: "'extends'", into: &bag) }
        set.jurisdictions[id] = Jurisdiction(
            id: id, name: header.string("name", into: &bag), extends: extendsID, extendsRange: header["extends"]?.value.range,
            fallback: readFallback(header),
            ageOfConsent: header.int("age_of_consent", in: 0...25, into: &bag), minors: minors,
            legalBases: bases, optOut: optOut, allowedRegions: regions, source: idNode.range)
    }

    /// `minors: {under, refuse}`.
    private mutating func readMinors(_ header: FieldReader) -> MinorsRule? {
        guard let pair = header["minors"],
            let fields = FieldReader.open(
                pair.value, what: "minors", allowed: ["under", "refuse"], required: ["under", "refuse"], into: &bag),
            let under = fields.int("under", in: 1...25, into: &bag)
        else { return nil }
        return MinorsRule(
            under: under, refuse: purposePatterns(fields.strings("refuse", nonEmpty: true, into: &bag) ?? []), source: pair.value.range)
    }

    /// `legal_bases: [{purposes, basis, scopes, description}]`; scopes only with `basis: consent`.
    private mutating func readLegalBases(_ header: FieldReader) -> [LegalBasisRule] {
        var bases: [LegalBasisRule] = []
        for item in header.list("legal_bases", into: &bag) ?? [] {
            guard
                let fields = FieldReader.open(
                    item, what: "a legal basis", allowed: ["purposes", "basis", "scopes", "description"],
                    required: ["purposes", "basis"], into: &bag)
            else { continue }
            let purposes = purposePatterns(fields.strings("purposes", nonEmpty: true, into: &bag) ?? [])
            guard let basisText = fields.oneOf("basis", LegalBasis.allCases.map(\.rawValue), into: &bag),
                let basis = LegalBasis(rawValue: basisText)
            else { continue }
            _ = fields.string("description", into: &bag)
            var scopes: [String] = []
            for (scope, node) in fields.strings("scopes", into: &bag) ?? [] {
                if set.scopes[scope] == nil {
                    bag.error(
                        .unknownScope, "unknown consent scope '\(scope)'", at: node.range,
                        help: Suggestion.help(for: scope, in: set.scopes.keys))
                } else {
                    scopes.append(scope)
                }
            }
            if !scopes.isEmpty, basis != .consent, let node = fields["scopes"]?.value {
                bag.error(.invalidValue, "'scopes' only applies to basis: consent", at: node.range)
            }
            bases.append(LegalBasisRule(purposes: purposes, basis: basis, scopes: scopes, source: item.range))
        }
        return bases
    }

    /// `opt_out: {purposes, flags, signals}`.
    private mutating func readOptOut(_ header: FieldReader) -> OptOutRule? {
        guard let pair = header["opt_out"],
            let fields = FieldReader.open(pair.value, what: "opt_out", allowed: ["purposes", "flags", "signals"], into: &bag)
        else { return nil }
        let purposes = purposePatterns(fields.strings("purposes", into: &bag) ?? [])
        var flags: [String] = []
        for (flag, node) in fields.strings("flags", into: &bag) ?? [] {
            if ["sale_or_share", "profiling"].contains(flag) {
                flags.append(flag)
            } else {
                bag.error(
                    .invalidValue, "unknown purpose flag '\(flag)'", at: node.range,
                    help: Suggestion.help(for: flag, in: ["sale_or_share", "profiling"]) ?? "flags: sale_or_share, profiling")
            }
        }
        var signals: [String] = []
        for (signal, node) in fields.strings("signals", into: &bag) ?? [] {
            if signal == "gpc" {
                signals.append(signal)
            } else {
                bag.error(.invalidValue, "unknown opt-out signal '\(signal)'", at: node.range, help: "signals: gpc")
            }
        }
        return OptOutRule(purposes: purposes, flags: flags, signals: signals, source: pair.value.range)
    }

    private mutating func readFallback(_ header: FieldReader) -> Bool {
        guard header["fallback"] != nil else { return false }
        guard let value = header.bool("fallback", into: &bag) else { invalidFallback = true; return false }
        return value
    }

    func isJurisdictionID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 32 && id.first!.isLetter
            && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    /// `extends` must name a jurisdiction and form no cycle; exactly one jurisdiction is the fallback.
    mutating func checkJurisdictions() {
        let all = set.jurisdictions
        for jurisdiction in all.values.sorted(by: { $0.id < $1.id }) {
            if let parent = jurisdiction.extends, all[parent] == nil {
                bag.error(
                    .unknownJurisdiction, "unknown jurisdiction '\(parent)'", at: jurisdiction.extendsRange ?? jurisdiction.source,
                    help: Suggestion.help(for: parent, in: all.keys))
                set.jurisdictions[jurisdiction.id]?.extends = nil
            }
        }
        for jurisdiction in set.jurisdictions.values.sorted(by: { $0.id < $1.id }) {
            var chain = [jurisdiction.id]
            var current = jurisdiction.extends
            while let next = current {
                if chain.contains(next) {
                    if next == jurisdiction.id {
                        bag.error(
                            .extendsCycle,
                            "jurisdiction '\(jurisdiction.id)' extends itself through \((chain + [next]).joined(separator: " → "))",
                            at: jurisdiction.extendsRange ?? jurisdiction.source)
                    }
                    break
                }
                chain.append(next)
                current = set.jurisdictions[next]?.extends
            }
        }
        let fallbacks = set.jurisdictions.values.filter(\.fallback).sorted {
            ($0.source.file, $0.source.start) < ($1.source.file, $1.source.start)
        }
        if !set.jurisdictions.isEmpty, fallbacks.isEmpty, !invalidFallback {
            let first = set.jurisdictions.values.map(\.source).min { ($0.file, $0.start) < ($1.file, $1.start) }!
            bag.error(
                .fallbackJurisdiction, "no jurisdiction is marked 'fallback: true'", at: first,
                help: "mark the strictest jurisdiction as the fallback for subjects whose jurisdiction is unknown")
        }
        for extra in fallbacks.dropFirst() {
            bag.add(
                Diagnostic(
                    .fallbackJurisdiction, "more than one jurisdiction is marked as the fallback", at: extra.source,
                    notes: ["'\(fallbacks[0].id)' is also marked at \(fallbacks[0].source)"]))
        }
    }
}
