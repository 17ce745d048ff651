import AccordCore
import AccordReports
import AccordStore
import ArgumentParser
import Foundation

/// `accord pia`: a privacy impact assessment from the policies and, with `--audit`, the audit trail.
struct PIACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pia",
        abstract: "Write a privacy impact assessment (GDPR Art. 35(7)) from the policies and the audit trail."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case md, html, json, cnil
    }

    @Option(help: "The policy folder or file.")
    var policies = "policies"

    @Option(
        name: [.customLong("db"), .customLong("audit")],
        help: "The audit trail (SQLite database) to take evidence from (--audit is the same).")
    var audit: String?

    @Option(help: "Evidence from this long before the report's instant only (e.g. 30d); default: the whole trail.")
    var since: String?

    @Option(
        name: .customLong("as-of"),
        help: "The report's instant (RFC 3339; default: now). The same policies, trail and instant give the same report.")
    var asOf: String?

    @Option(help: "Output format: md, html, json or cnil (the CNIL PIA tool's import format).")
    var format: Format = .md

    @Option(help: "Write the report to this file instead of standard output.")
    var out: String?

    @Option(help: "The report's title.")
    var title = "Privacy impact assessment"

    func run() throws {
        guard FileManager.default.fileExists(atPath: policies) else {
            throw CommandFailure(code: .usage, message: "\(policies): error: no such file or folder")
        }
        let result = PolicySetValidator.validate(paths: [policies])
        guard let set = result.policySet else {
            let renderer = DiagnosticRenderer(sources: result.sources)
            throw CommandFailure(
                code: .policyProblem,
                message: result.diagnostics.map { renderer.text($0) }.joined(separator: "\n") + "policies are invalid; no report")
        }
        let instant: Date
        if let asOf {
            guard let parsed = Timestamps.parse(asOf) else {
                throw CommandFailure(code: .usage, message: "--as-of: error: not an RFC 3339 instant: \(asOf)")
            }
            instant = parsed
        } else {
            instant = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        }
        var window: Date?
        if let since {
            guard let duration = try? PolicyDuration.parse(since) else {
                throw CommandFailure(code: .usage, message: "--since: error: not a duration such as 30d: \(since)")
            }
            window = instant.addingTimeInterval(-Double(duration.seconds))
        }
        var sources: PIASources?
        if let audit {
            guard FileManager.default.fileExists(atPath: audit) else {
                throw CommandFailure(code: .usage, message: "\(audit): error: no such audit trail")
            }
            let database = try StoreDatabase(readingOnly: audit)
            sources = PIASources(
                trail: try SQLiteAuditTrail(database: database), consent: try SQLiteConsentStore(database: database), from: window)
        }
        let report = try PrivacyImpactAssessment(policies: set, sources: sources, asOf: instant, title: title)
        let text =
            switch format {
            case .md: report.markdown
            case .html: report.html
            case .json: report.json.serialized() + "\n"
            case .cnil: report.cnil.serialized() + "\n"
            }
        if let out {
            try Data(text.utf8).write(to: URL(fileURLWithPath: out))
        } else {
            print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
        }
    }
}
