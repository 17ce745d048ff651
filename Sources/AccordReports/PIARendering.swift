import AccordCore
import Foundation

extension PrivacyImpactAssessment {
    // MARK: JSON (schema in docs/pia.md)

    public var json: JSONValue {
        .object([
            ("schema", .string("accord.pia/v1")), ("title", .string(title)), ("generated_at", .string(Timestamps.format(generatedAt))),
            ("policy_revision", .string(revision)), ("processing", processingJSON), ("necessity", necessityJSON),
            ("risks", risksJSON), ("evidence", evidenceJSON),
        ])
    }

    private var processingJSON: JSONValue {
        .array(
            processing.map { p in
                .object([
                    ("purpose", .string(p.purpose)), ("description", p.description.map(JSONValue.string) ?? .null),
                    ("profiling", .bool(p.profiling)),
                    ("sale_or_share", .bool(p.saleOrShare)), ("actions", .array(p.actions.map(JSONValue.string))),
                    (
                        "categories",
                        .array(
                            p.categories.map { c in
                                .object([
                                    ("category", .string(c.category)), ("sensitive", .bool(c.sensitive)),
                                    ("retention", c.retention.map(JSONValue.string) ?? .null),
                                ])
                            })
                    ),
                    (
                        "legal_bases",
                        .array(
                            p.legalBases.map {
                                .object([("jurisdiction", .string($0.jurisdiction)), ("basis", .string($0.basis))])
                            })
                    ),
                    ("regions", .array(p.regions.map(JSONValue.string))), ("transfers", .array(p.transfers.map(JSONValue.string))),
                    (
                        "recipients",
                        .array(p.recipients.map { .object([("actor", .string($0.actor)), ("decisions", .int($0.decisions))]) })
                    ),
                ])
            })
    }

    private var necessityJSON: JSONValue {
        .object([
            ("catalog_categories", .array(necessity.catalogCategories.map(JSONValue.string))),
            (
                "minimisation",
                .array(
                    necessity.minimisation.map { .object([("purpose", .string($0.purpose)), ("categories", .int($0.categories))]) })
            ),
            (
                "retention",
                .array(
                    necessity.retention.map { r in
                        .object([
                            ("categories", .string(r.categories)), ("purposes", .string(r.purposes)),
                            ("max_age", .string(r.maxAge)), ("on_expiry", .string(r.onExpiry)),
                        ])
                    })
            ),
            (
                "consent_scopes",
                .array(
                    necessity.consentScopes.map { s in
                        .object([
                            ("id", .string(s.id)), ("version", .int(s.version)), ("purposes", .string(s.purposes)),
                            ("expires_after", s.expiresAfter.map(JSONValue.string) ?? .null),
                            ("explicit_categories", .string(s.explicitCategories)),
                        ])
                    })
            ),
            ("withdrawal_handling", .string(necessity.withdrawalHandling)),
            ("rights", .array(necessity.rights.map(JSONValue.string))),
        ])
    }

    private var risksJSON: JSONValue {
        func level(_ l: Level) -> JSONValue { .object([("level", .int(l.rawValue)), ("name", .string(l.name))]) }
        return .array(
            risks.map { r in
                .object([
                    ("id", .string(r.id)), ("kind", .string(r.kind)), ("title", .string(r.title)), ("severity", level(r.severity)),
                    ("likelihood", level(r.likelihood)), ("rationale", .string(r.rationale)),
                    ("measures", .array(r.measures.map(JSONValue.string))),
                    ("residual_severity", level(r.residualSeverity)), ("residual_likelihood", level(r.residualLikelihood)),
                ])
            })
    }

    private var evidenceJSON: JSONValue {
        evidence.map { e in
            .object([
                ("from", e.from.map { .string(Timestamps.format($0)) } ?? .null), ("to", .string(Timestamps.format(e.to))),
                ("records", .int(e.records)),
                (
                    "decisions",
                    .array(
                        e.byPurpose.map {
                            .object([
                                ("purpose", .string($0.purpose)), ("permit", .int($0.permit)), ("partial", .int($0.partial)),
                                ("deny", .int($0.deny)),
                            ])
                        })
                ),
                ("top_reasons", .array(e.topReasons.map { .object([("code", .string($0.code)), ("records", .int($0.records))]) })),
                (
                    "consent_events",
                    .array(
                        e.consentEvents.map {
                            .object([("kind", .string($0.kind)), ("target", .string($0.target)), ("events", .int($0.events))])
                        })
                ),
                ("retention_purges", .int(e.retentionPurges)), ("erasures", .int(e.erasures)),
                (
                    "integrity",
                    .object([
                        ("intact", .bool(e.intact)), ("problems", .array(e.problems.map(JSONValue.string))),
                        (
                            "checkpoint",
                            e.checkpoint.map { c in
                                .object([
                                    ("size", .int(Int(c.size))), ("root", .string(c.root)),
                                    ("created_at", .string(Timestamps.format(c.createdAt))),
                                ])
                            } ?? .null
                        ),
                    ])
                ),
            ])
        } ?? .null
    }

    // MARK: Markdown

    public var markdown: String {
        var out = MarkdownLines()
        markdownHeading(&out)
        markdownProcessing(&out)
        markdownNecessity(&out)
        markdownRisks(&out)
        markdownEvidence(&out)
        return out.lines.joined(separator: "\n")
    }

    private func markdownHeading(_ out: inout MarkdownLines) {
        out.append("# \(title)")
        out.append("")
        out.append(
            "Generated \(Timestamps.format(generatedAt)) from policy revision `\(revision)`"
                + (evidence.map { e in
                    ", with the audit trail " + (e.from.map { "from \(Timestamps.format($0)) " } ?? "") + "to \(Timestamps.format(e.to))"
                        + (e.checkpoint.map { " (checkpoint \($0.size), root `\($0.root)`)" } ?? " (no checkpoint)")
                } ?? " (no audit trail given)") + ". Structured as GDPR Art. 35(7) asks.")
        out.append("")
    }

    /// Art. 35(7)(a).
    private func markdownProcessing(_ out: inout MarkdownLines) {
        out.append("## 1. Systematic description of the processing")
        out.append("")
        for p in processing {
            out.append("### \(p.purpose)" + (p.profiling ? " (profiling)" : "") + (p.saleOrShare ? " (sale or sharing)" : ""))
            out.append("")
            if let description = p.description { out.append(description); out.append("") }
            out.append("- Actions: \(p.actions.isEmpty ? "none" : p.actions.joined(separator: ", "))")
            out.append(
                "- Legal basis: \(p.legalBases.isEmpty ? "none anywhere — every request is denied" : p.legalBases.map { "\($0.jurisdiction): \($0.basis)" }.joined(separator: "; "))"
            )
            out.append(
                "- Processing regions: \(p.regions.isEmpty ? "none" : p.regions.joined(separator: ", ")); transfers: \(p.transfers.isEmpty ? "none" : p.transfers.joined(separator: "; "))"
            )
            out.append(
                "- Recipients seen in the trail: \(p.recipients.isEmpty ? "none" : p.recipients.map { "\($0.actor) (\($0.decisions))" }.joined(separator: ", "))"
            )
            out.append("")
            if p.categories.isEmpty {
                out.append("No category may be read for this purpose.")
                out.append("")
            } else {
                out.table(
                    ["Category", "Sensitive", "Retention"],
                    p.categories.map { [$0.category, $0.sensitive ? "yes" : "", $0.retention ?? "none"] })
            }
        }
    }

    /// Art. 35(7)(b).
    private func markdownNecessity(_ out: inout MarkdownLines) {
        out.append("## 2. Necessity and proportionality")
        out.append("")
        out.append("Minimisation — categories each purpose may read, of the \(necessity.catalogCategories.count) the catalog holds:")
        out.append("")
        out.table(
            ["Purpose", "Categories"],
            necessity.minimisation.map { [$0.purpose, "\($0.categories) of \(necessity.catalogCategories.count)"] })
        out.append("Retention:")
        out.append("")
        out.table(
            ["Categories", "Purposes", "Max age", "On expiry"],
            necessity.retention.map { [$0.categories, $0.purposes, $0.maxAge, $0.onExpiry] })
        out.append("Consent:")
        out.append("")
        out.table(
            ["Scope", "Version", "Purposes", "Expires after", "Explicit for"],
            necessity.consentScopes.map {
                [
                    $0.id, "\($0.version)", $0.purposes, $0.expiresAfter ?? "never",
                    $0.explicitCategories.isEmpty ? "" : $0.explicitCategories,
                ]
            })
        out.append("Withdrawal: \(necessity.withdrawalHandling)")
        out.append("")
        out.append("Data subjects' rights:")
        out.append("")
        for right in necessity.rights { out.append("- \(right)") }
        out.append("")
    }

    /// Art. 35(7)(c) and (d).
    private func markdownRisks(_ out: inout MarkdownLines) {
        out.append("## 3. Risks")
        out.append("")
        out.table(
            ["Risk", "Finding", "Severity", "Likelihood", "Rationale"],
            risks.map { [$0.id, $0.title, $0.severity.name, $0.likelihood.name, $0.rationale] })
        out.append("## 4. Measures and residual risk")
        out.append("")
        for r in risks {
            out.append("### \(r.id) \(r.title)")
            out.append("")
            for measure in r.measures { out.append("- \(measure)") }
            out.append("")
            out.append("Residual: severity \(r.residualSeverity.name), likelihood \(r.residualLikelihood.name).")
            out.append("")
        }
    }

    private func markdownEvidence(_ out: inout MarkdownLines) {
        out.append("## Evidence")
        out.append("")
        if let e = evidence {
            out.append(
                "\(e.records) decisions recorded in the window; \(e.retentionPurges) retention purge records; \(e.erasures) erasures. Audit trail: "
                    + (e.intact ? "intact" : "NOT intact — \(e.problems.joined(separator: "; "))") + ".")
            out.append("")
            out.table(
                ["Purpose", "Permit", "Partial", "Deny"], e.byPurpose.map { [$0.purpose, "\($0.permit)", "\($0.partial)", "\($0.deny)"] })
            out.table(["Top reason", "Records"], e.topReasons.map { [$0.code, "\($0.records)"] })
            if !e.consentEvents.isEmpty {
                out.table(["Consent event", "Scope", "Events"], e.consentEvents.map { [$0.kind, $0.target, "\($0.events)"] })
            }
        } else {
            out.append("No audit trail was given (`--audit DB`).")
            out.append("")
        }
    }
}

/// Markdown as lines, with pipe tables (a `|` in a cell escaped).
struct MarkdownLines {
    var lines: [String] = []

    mutating func append(_ line: String) { lines.append(line) }

    mutating func table(_ header: [String], _ rows: [[String]]) {
        lines.append("| " + header.joined(separator: " | ") + " |")
        lines.append("|" + header.map { _ in " --- |" }.joined())
        for row in rows { lines.append("| " + row.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |") }
        lines.append("")
    }
}
