import AccordCore
import Foundation

extension PrivacyImpactAssessment {
    /// One self-contained HTML file: styles inline, the severity × likelihood heat map as inline SVG, no
    /// scripts and nothing fetched.
    /// One self-contained HTML file: styles inline, the severity × likelihood heat map as inline SVG, no
    /// scripts and nothing fetched.
    public var html: String {
        let body = htmlHeading + htmlRisks + htmlProcessing + htmlNecessity + htmlEvidence
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(h(title))</title>
            <style>
            body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2330;max-width:1100px;margin:2rem auto;padding:0 1.2rem}
            h1{font-size:1.7rem;margin-bottom:.2rem}h2{border-bottom:2px solid #e3e7ee;padding-bottom:.2rem;margin-top:2rem}h3{margin-bottom:.3rem}
            .meta{color:#5a6475}code{background:#f2f4f8;padding:0 .25rem;border-radius:3px}.ok{color:#1b7f3b;font-weight:600}.bad{color:#b3261e;font-weight:600}
            table{border-collapse:collapse;margin:.6rem 0 1rem;width:100%}th,td{border:1px solid #dfe3ea;padding:.3rem .5rem;text-align:left;vertical-align:top}
            th{background:#f5f7fa}tbody tr:nth-child(even){background:#fafbfc}.tag{font-size:.75rem;background:#fde7c8;border-radius:3px;padding:0 .3rem}
            .risks{display:flex;gap:1.5rem;align-items:flex-start;flex-wrap:wrap}.risks>div{flex:1;min-width:420px}details{margin:.3rem 0}
            </style></head><body>
            \(body)
            </body></html>

            """
    }

    private func h(_ text: String) -> String { Self.escaped(text) }

    private func table(_ header: [String], _ rows: [[String]]) -> String {
        "<table><thead><tr>" + header.map { "<th>\(h($0))</th>" }.joined() + "</tr></thead><tbody>"
            + rows.map { "<tr>" + $0.map { "<td>\(h($0))</td>" }.joined() + "</tr>" }.joined() + "</tbody></table>"
    }

    /// Text safe in HTML content and in a quoted attribute.
    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// The title and what the assessment was made from.
    private var htmlHeading: String {
        var body = ""
        body +=
            "<header><h1>\(h(title))</h1><p class=\"meta\">Generated \(h(Timestamps.format(generatedAt))) from policy revision <code>\(h(revision))</code>"
        if let e = evidence {
            body += "; audit trail " + (e.from.map { "from \(h(Timestamps.format($0))) " } ?? "") + "to \(h(Timestamps.format(e.to)))"
            body += e.checkpoint.map { ", checkpoint \($0.size), root <code>\(h(String($0.root.prefix(16))))…</code>" } ?? ", no checkpoint"
            body += e.intact ? " — <span class=\"ok\">intact</span>" : " — <span class=\"bad\">not intact</span>"
        }
        body += ".</p></header>"
        return body
    }

    /// The heat map, the risk table and each risk's measures.
    private var htmlRisks: String {
        var body = ""
        body += "<section><h2>Risks</h2><div class=\"risks\">" + heatMap + "<div>"
        body += table(
            ["Risk", "Finding", "Severity", "Likelihood", "Residual"],
            risks.map {
                [$0.id, $0.title, $0.severity.name, $0.likelihood.name, "\($0.residualSeverity.name) / \($0.residualLikelihood.name)"]
            })
        body += "</div></div>"
        for r in risks {
            body +=
                "<details><summary><b>\(h(r.id))</b> \(h(r.title))</summary><p>\(h(r.rationale))</p><ul>"
                + r.measures.map { "<li>\(h($0))</li>" }.joined() + "</ul></details>"
        }
        body += "</section>"
        return body
    }

    /// Art. 35(7)(a), per purpose (the section is closed by `htmlNecessity`).
    private var htmlProcessing: String {
        var body = ""
        body += "<section><h2>1. The processing</h2>"
        for p in processing {
            body +=
                "<h3>\(h(p.purpose))" + (p.profiling ? " <span class=\"tag\">profiling</span>" : "")
                + (p.saleOrShare ? " <span class=\"tag\">sale or sharing</span>" : "") + "</h3>"
            body +=
                "<p>Legal basis: \(h(p.legalBases.isEmpty ? "none" : p.legalBases.map { "\($0.jurisdiction): \($0.basis)" }.joined(separator: "; "))). "
            body +=
                "Regions: \(h(p.regions.joined(separator: ", "))). Transfers: \(h(p.transfers.isEmpty ? "none" : p.transfers.joined(separator: "; "))). "
            body +=
                "Recipients: \(h(p.recipients.isEmpty ? "none seen" : p.recipients.map { "\($0.actor) (\($0.decisions))" }.joined(separator: ", "))).</p>"
            body +=
                p.categories.isEmpty
                ? "<p>No category may be read.</p>"
                : table(
                    ["Category", "Sensitive", "Retention"],
                    p.categories.map { [$0.category, $0.sensitive ? "yes" : "", $0.retention ?? "none"] })
        }
        return body
    }

    /// Art. 35(7)(b).
    private var htmlNecessity: String {
        var body = ""
        body += "</section><section><h2>2. Necessity and proportionality</h2>"
        body += table(
            ["Purpose", "Categories it may read"],
            necessity.minimisation.map { [$0.purpose, "\($0.categories) of \(necessity.catalogCategories.count)"] })
        body += table(
            ["Categories", "Purposes", "Max age", "On expiry"],
            necessity.retention.map { [$0.categories, $0.purposes, $0.maxAge, $0.onExpiry] })
        body += table(
            ["Consent scope", "Version", "Purposes", "Expires after", "Explicit for"],
            necessity.consentScopes.map {
                [$0.id, "\($0.version)", $0.purposes, $0.expiresAfter ?? "never", $0.explicitCategories]
            })
        body += "<p>\(h(necessity.withdrawalHandling))</p><ul>" + necessity.rights.map { "<li>\(h($0))</li>" }.joined() + "</ul></section>"
        return body
    }

    /// What the trail shows, when one was given.
    private var htmlEvidence: String {
        var body = ""
        if let e = evidence {
            body +=
                "<section><h2>Evidence</h2><p>\(e.records) decisions in the window; \(e.retentionPurges) retention purge records; \(e.erasures) erasures.</p>"
            body += table(
                ["Purpose", "Permit", "Partial", "Deny"], e.byPurpose.map { [$0.purpose, "\($0.permit)", "\($0.partial)", "\($0.deny)"] })
            body += table(["Top reason", "Records"], e.topReasons.map { [$0.code, "\($0.records)"] })
            if !e.consentEvents.isEmpty {
                body += table(["Consent event", "Scope", "Events"], e.consentEvents.map { [$0.kind, $0.target, "\($0.events)"] })
            }
            body += "</section>"
        }
        return body
    }

    /// Severity (up) × likelihood (across), the CNIL's four levels each; each risk placed by its levels.
    var heatMap: String {
        let cell = 70, margin = 90
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(margin + cell * 4 + 10)\" height=\"\(cell * 4 + 70)\" role=\"img\" aria-label=\"Risk heat map\">"
        for s in 1...4 {
            for l in 1...4 {
                let score = s * l
                let colour = score >= 9 ? "#e8594c" : score >= 6 ? "#f29b54" : score >= 3 ? "#f6d466" : "#9fd59a"
                svg +=
                    "<rect x=\"\(margin + (l - 1) * cell)\" y=\"\((4 - s) * cell + 10)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"\(colour)\" stroke=\"#fff\" stroke-width=\"2\"/>"
                let here = risks.filter { $0.severity.rawValue == s && $0.likelihood.rawValue == l }.map(\.id)
                for (n, id) in here.enumerated() {
                    svg +=
                        "<text x=\"\(margin + (l - 1) * cell + 8 + (n % 2) * 30)\" y=\"\((4 - s) * cell + 32 + (n / 2) * 18)\" font-size=\"13\" font-weight=\"600\" fill=\"#1d2330\">\(id)</text>"
                }
            }
            svg +=
                "<text x=\"\(margin - 6)\" y=\"\((4 - s) * cell + 10 + cell / 2 + 4)\" font-size=\"11\" text-anchor=\"end\" fill=\"#5a6475\">\(Level(rawValue: s)!.name)</text>"
        }
        for l in 1...4 {
            svg +=
                "<text x=\"\(margin + (l - 1) * cell + cell / 2)\" y=\"\(cell * 4 + 28)\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5a6475\">\(Level(rawValue: l)!.name)</text>"
        }
        svg +=
            "<text x=\"\(margin + cell * 2)\" y=\"\(cell * 4 + 50)\" font-size=\"12\" text-anchor=\"middle\" fill=\"#1d2330\">likelihood</text>"
        svg +=
            "<text x=\"14\" y=\"\(cell * 2 + 10)\" font-size=\"12\" text-anchor=\"middle\" fill=\"#1d2330\" transform=\"rotate(-90 14 \(cell * 2 + 10))\">severity</text>"
        return svg + "</svg>"
    }

    // MARK: CNIL PIA tool

    /// JSON in the shape the CNIL's PIA tool imports (`pia`, `answers`, `measures`, `evaluations`,
    /// `comments`): answers by the tool's question numbers (111 … 346), one measure per distinct measure,
    /// and the risks under "illegitimate access" (3.2) with their gauges (1 negligible … 4 maximum).
    public var cnil: JSONValue {
        let stamp = JSONValue.string(Timestamps.format(generatedAt))
        let answers = cnilAnswers.enumerated().map { index, answer in
            JSONValue.object([
                ("id", .int(index + 1)), ("pia_id", .int(1)), ("reference_to", .int(answer.reference)),
                (
                    "data",
                    .object([
                        ("text", answer.text.map { .string(Self.paragraphs($0)) } ?? .null),
                        ("gauge", answer.gauge.map(JSONValue.int) ?? .null), ("list", .array(answer.list.map(JSONValue.string))),
                    ])
                ),
                ("created_at", stamp), ("updated_at", stamp),
            ])
        }
        let measures = cnilMeasures(stamp), evaluations = cnilEvaluations(stamp)
        let integrity =
            evidence.map { e in
                "Audit trail " + (e.intact ? "intact" : "NOT intact") + ", \(e.records) decisions"
                    + (e.checkpoint.map { ", checkpoint \($0.size) root \($0.root)" } ?? "")
            } ?? "No audit trail given."
        return .object([
            (
                "pia",
                .object([
                    ("id", .int(1)), ("name", .string(title)), ("category", .string("personalised machine learning")),
                    ("author_name", .string("accord pia")), ("evaluator_name", .string("")), ("validator_name", .string("")),
                    ("status", .int(0)), ("dpo_status", .int(0)), ("dpos_names", .string("")), ("dpo_opinion", .string("")),
                    ("concerned_people_status", .int(0)), ("people_names", .string("")), ("concerned_people_opinion", .string("")),
                    ("concerned_people_searched_opinion", .bool(false)), ("concerned_people_searched_content", .string("")),
                    ("rejected_reason", .string("")), ("applied_adjustements", .string("")), ("is_example", .int(0)),
                    ("is_archive", .int(0)),
                    ("progress", .int(0)), ("created_at", stamp), ("updated_at", stamp),
                ])
            ),
            ("answers", .array(answers)), ("measures", .array(measures)), ("evaluations", .array(evaluations)),
            (
                "comments",
                .array([
                    .object([
                        ("id", .int(1)), ("pia_id", .int(1)), ("reference_to", .int(111)),
                        ("description", .string("Generated by Accord from policy revision \(revision). \(integrity)")),
                        ("for_measure", .bool(false)), ("created_at", stamp), ("updated_at", stamp),
                    ])
                ])
            ),
        ])
    }

    /// One answer to the tool's question `reference`.
    struct CNILAnswer {
        var reference: Int
        var text: String?
        var gauge: Int?
        var list: [String]

        init(_ reference: Int, text: String? = nil, gauge: Int? = nil, list: [String] = []) {
            self.reference = reference
            self.text = text
            self.gauge = gauge
            self.list = list
        }
    }

    /// Text as the tool's paragraphs, escaped.
    static func paragraphs(_ text: String) -> String {
        text.split(separator: "\n").map {
            "<p>" + $0.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;") + "</p>"
        }.joined()
    }

    /// The answers, by the tool's question numbers: context (1xx), principles (2xx), risks (3xx).
    private var cnilAnswers: [CNILAnswer] {
        let purposes = processing.map {
            "\($0.purpose): " + ($0.categories.isEmpty ? "no data" : $0.categories.map(\.category).joined(separator: ", "))
        }
        var answers: [CNILAnswer] = [
            CNILAnswer(
                111,
                text: "Personalised machine learning governed by policy revision \(revision). Purposes:\n"
                    + processing.map(\.purpose).joined(separator: ", ")),
            CNILAnswer(121, text: purposes.joined(separator: "\n")),
            CNILAnswer(
                122,
                text:
                    "Data is read through the Accord gate: every read and training set is decided per person and recorded in a hash-chained audit trail before anything is served."
            ),
            CNILAnswer(211, text: processing.map { "\($0.purpose)" + ($0.profiling ? " (profiling)" : "") }.joined(separator: "\n")),
            CNILAnswer(
                212,
                text: processing.map { p in "\(p.purpose): " + p.legalBases.map { "\($0.jurisdiction) \($0.basis)" }.joined(separator: ", ")
                }.joined(separator: "\n")),
            CNILAnswer(
                213,
                text: necessity.minimisation.map {
                    "\($0.purpose): \($0.categories) of \(necessity.catalogCategories.count) catalog categories"
                }.joined(separator: "\n")),
            CNILAnswer(
                215,
                text: necessity.retention.map { "\($0.categories) (\($0.purposes)): \($0.maxAge), then \($0.onExpiry)" }.joined(
                    separator: "\n")),
            CNILAnswer(
                222,
                text: necessity.consentScopes.map { "\($0.id) v\($0.version): \($0.purposes); expires \($0.expiresAfter ?? "never")" }
                    .joined(separator: "\n") + "\n" + necessity.withdrawalHandling),
            CNILAnswer(223, text: necessity.rights[0]),
            CNILAnswer(224, text: necessity.rights[1]),
            CNILAnswer(225, text: necessity.rights[2]),
            CNILAnswer(227, text: Set(processing.flatMap(\.transfers)).sorted().joined(separator: "\n")),
        ]
        let worst = risks.max { ($0.severity, $0.likelihood) < ($1.severity, $1.likelihood) }
        answers.append(CNILAnswer(321, list: risks.map(\.title)))
        answers.append(CNILAnswer(324, list: Array(Set(risks.flatMap(\.measures).map { String($0.prefix(60)) })).sorted()))
        answers.append(
            CNILAnswer(
                325, text: risks.map { "\($0.id) \($0.title): \($0.severity.name)" }.joined(separator: "\n"),
                gauge: worst?.severity.rawValue ?? 1))
        answers.append(
            CNILAnswer(
                326, text: risks.map { "\($0.id) \($0.title): \($0.likelihood.name)" }.joined(separator: "\n"),
                gauge: worst?.likelihood.rawValue ?? 1))
        return answers
    }

    /// One measure per distinct measure text.
    private func cnilMeasures(_ stamp: JSONValue) -> [JSONValue] {
        var measureID = 0
        return Array(Set(risks.flatMap(\.measures))).sorted().map { text in
            measureID += 1
            return .object([
                ("id", .int(measureID)), ("pia_id", .int(1)), ("title", .string(String(text.prefix(60)))),
                ("content", .string(Self.paragraphs(text))),
                ("placeholder", .string("measures.default_placeholder")), ("created_at", stamp), ("updated_at", stamp),
            ])
        }
    }

    /// The residual risk under "illegitimate access" (3.2).
    private func cnilEvaluations(_ stamp: JSONValue) -> [JSONValue] {
        let residual = risks.max { ($0.residualSeverity, $0.residualLikelihood) < ($1.residualSeverity, $1.residualLikelihood) }
        return ["3.2"].map { reference in
            .object([
                ("id", .int(1)), ("pia_id", .int(1)), ("reference_to", .string(reference)), ("status", .int(0)), ("global_status", .int(0)),
                (
                    "gauges",
                    .object([
                        ("x", .int(residual?.residualSeverity.rawValue ?? 0)), ("y", .int(residual?.residualLikelihood.rawValue ?? 0)),
                    ])
                ),
                ("evaluation_comment", .string("Residual risk after the measures, as Accord computed it; to be evaluated.")),
                ("created_at", stamp), ("updated_at", stamp),
            ])
        }
    }
}
