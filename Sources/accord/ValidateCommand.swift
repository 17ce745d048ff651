import AccordCore
import ArgumentParser
import Foundation

/// `accord validate`: read policy files strictly and report every problem.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Validate policy files and folders; print every problem as file:line:col: error[CODE]: message."
    )

    @Argument(help: "Policy files or folders (default: policies).")
    var paths: [String] = []

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, sarif, github
    }

    @Option(help: "Output format: text, json, sarif (SARIF 2.1.0) or github (workflow annotations, then the text report).")
    var format: Format = .text

    @Flag(help: "Fail (exit 1) on warnings as well as errors.")
    var denyWarnings = false

    func run() throws {
        let paths = self.paths.isEmpty ? ["policies"] : self.paths
        for path in paths where !FileManager.default.fileExists(atPath: path) {
            throw CommandFailure(code: .usage, message: "\(path): error: no such file or folder")
        }
        let result = PolicySetValidator.validate(paths: paths)
        let errors = result.diagnostics.filter { $0.severity == .error }.count
        let warnings = result.diagnostics.filter { $0.severity == .warning }.count
        let revision = result.policySet?.revision
        switch format {
        case .sarif: print(CIReports.sarif(result.diagnostics.map(Finding.init)).serialized())
        case .github:
            let annotations = CIReports.github(result.diagnostics.map(Finding.init))
            if !annotations.isEmpty { print(annotations) }
            fallthrough
        case .text:
            let renderer = DiagnosticRenderer(sources: result.sources)
            for diagnostic in result.diagnostics { print(renderer.text(diagnostic)) }
            if errors == 0 {
                print(
                    "ok: \(result.sources.count) file\(result.sources.count == 1 ? "" : "s") valid, revision \(revision ?? "-")"
                        + (warnings > 0 ? ", \(warnings) warning\(warnings == 1 ? "" : "s")" : ""))
            } else {
                print(
                    "\(errors) error\(errors == 1 ? "" : "s")" + (warnings > 0 ? ", \(warnings) warning\(warnings == 1 ? "" : "s")" : "")
                        + " in \(Set(result.diagnostics.map(\.range.file)).count) file(s)")
            }
        case .json:
            let report = JSONValue.object([
                ("valid", .bool(errors == 0)),
                ("files", .int(result.sources.count)),
                ("revision", revision.map(JSONValue.string) ?? .null),
                ("errors", .int(errors)),
                ("warnings", .int(warnings)),
                ("diagnostics", .array(result.diagnostics.map(DiagnosticRenderer.json))),
            ])
            print(report.serialized())
        }
        if errors > 0 || (denyWarnings && warnings > 0) { throw ExitCode(AccordExit.policyProblem.rawValue) }
    }
}
