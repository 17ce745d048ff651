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

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

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
        case .text:
            let renderer = DiagnosticRenderer(sources: result.sources)
            for diagnostic in result.diagnostics { print(renderer.text(diagnostic)) }
            if errors == 0 {
                print("ok: \(result.sources.count) file\(result.sources.count == 1 ? "" : "s") valid, revision \(revision ?? "-")"
                      + (warnings > 0 ? ", \(warnings) warning\(warnings == 1 ? "" : "s")" : ""))
            } else {
                print("\(errors) error\(errors == 1 ? "" : "s")" + (warnings > 0 ? ", \(warnings) warning\(warnings == 1 ? "" : "s")" : "")
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
        if errors > 0 { throw ExitCode(AccordExit.policyProblem.rawValue) }
    }
}
