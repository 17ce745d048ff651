import AccordCore
import ArgumentParser
import Foundation

/// `accord diff OLD NEW`: which decisions two policy sets make differently, over their whole finite decision
/// space, and which rules changed.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract:
            "Compare two policy sets decision by decision (every purpose, category, action, jurisdiction, consent state, age and region)."
    )

    @Argument(help: "The old policy set (file or folder).")
    var old: String

    @Argument(help: "The new policy set (file or folder).")
    var new: String

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Flag(help: "Exit 1 if anything becomes permitted that was not.")
    var failOnWidening = false

    func run() throws {
        func load(_ path: String) throws -> PolicySet {
            guard FileManager.default.fileExists(atPath: path) else {
                throw CommandFailure(code: .usage, message: "\(path): error: no such file or folder")
            }
            let result = PolicySetValidator.validate(paths: [path])
            guard let set = result.policySet else {
                let renderer = DiagnosticRenderer(sources: result.sources)
                throw CommandFailure(
                    code: .policyProblem,
                    message: result.diagnostics.map { renderer.text($0) }.joined(separator: "\n") + "\(path): invalid; nothing compared")
            }
            return set
        }
        let (before, after) = (try load(old), try load(new))
        let diff = PolicyDiff(old: before, new: after)
        switch format {
        case .text:
            var lines: [String] = []
            for change in diff.changes {
                lines.append((change.widened ? "+ " : "- ") + change.summary)
                lines.append("    " + Self.where(change))
            }
            for rule in diff.rules { lines.append("rule \(rule.kind.rawValue): \(rule.id)" + (rule.source.map { " (\($0))" } ?? "")) }
            let widened = diff.changes.filter(\.widened).reduce(0) { $0 + $1.points }
            let narrowed = diff.changes.filter { !$0.widened }.reduce(0) { $0 + $1.points }
            lines.append(
                diff.changes.isEmpty && diff.rules.isEmpty
                    ? "no change: the same decisions on all \(diff.pointsCompared) points"
                    : "\(widened) decisions widened, \(narrowed) narrowed, of \(diff.pointsCompared); \(diff.rules.count) rule(s) changed "
                        + String(format: "(%.2f s)", diff.seconds))
            print(lines.joined(separator: "\n"))
        case .json:
            print(
                JSONValue.object([
                    ("widens", .bool(diff.widens)), ("points_compared", .int(diff.pointsCompared)),
                    (
                        "changes",
                        .array(
                            diff.changes.map { change in
                                .object([
                                    ("direction", .string(change.widened ? "widened" : "narrowed")), ("purpose", .string(change.purpose)),
                                    ("category", .string(change.category)),
                                    ("actions", .array(change.actions.map { .string($0.rawValue) })),
                                    ("jurisdictions", .array(change.jurisdictions.map { $0.map(JSONValue.string) ?? .null })),
                                    ("consent", .array(change.consents.map { .string($0.rawValue) })),
                                    ("ages", .array(change.ages.map { $0.map(JSONValue.int) ?? .null })),
                                    ("regions", .array(change.regions.map { $0.map(JSONValue.string) ?? .null })),
                                    ("decisions", .int(change.points)), ("summary", .string(change.summary + " — " + Self.where(change))),
                                ])
                            })
                    ),
                    (
                        "rules",
                        .array(
                            diff.rules.map { rule in
                                .object([
                                    ("id", .string(rule.id)), ("change", .string(rule.kind.rawValue)),
                                    ("location", rule.source.map { .string($0.description) } ?? .null),
                                ])
                            })
                    ),
                ]).serialized())
        }
        if failOnWidening && diff.widens { throw ExitCode(AccordExit.policyProblem.rawValue) }
    }

    /// "subjects in EU, UK; consent granted; ages 18, 30; processing in EU" — only the dimensions that narrow.
    static func `where`(_ change: PolicyDiff.Change) -> String {
        var parts: [String] = []
        parts.append("subjects in " + change.jurisdictions.map { $0 ?? "an unknown jurisdiction" }.joined(separator: ", "))
        parts.append("consent " + change.consents.map(\.rawValue).joined(separator: ", "))
        parts.append("ages " + change.ages.map { $0.map(String.init) ?? "unknown" }.joined(separator: ", "))
        parts.append("processing in " + change.regions.map { $0 ?? "an unknown region" }.joined(separator: ", "))
        return parts.joined(separator: "; ") + " (\(change.points) decisions)"
    }
}
