import AccordCore
import ArgumentParser
import Foundation

/// `accord`: validate policies and decide requests.
@main
struct Accord: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accord",
        abstract: "Policy-as-code governance for personal data in machine learning.",
        discussion: "Exit codes: 0 fine, 1 policy problem, 2 usage or input error, 3 internal error.",
        version: "0.1.0",
        subcommands: [
            ValidateCommand.self, EvalCommand.self, AuditCommand.self, ConsentCommand.self, LineageCommand.self,
            RetentionCommand.self, DemoCommand.self, TestCommand.self, DiffCommand.self, PIACommand.self, ServeCommand.self,
        ]
    )

    /// Runs the command, mapping failures onto Accord's exit codes (ArgumentParser's own usage code is 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data((failure.message + "\n").utf8))
            Foundation.exit(failure.code.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(
                code == .validationFailure || code.rawValue == 64 ? AccordExit.usage.rawValue : AccordExit.internalError.rawValue)
        }
    }
}

/// Accord's exit codes.
enum AccordExit: Int32 {
    case ok = 0, policyProblem = 1, usage = 2, internalError = 3
}

/// A failure with a message for standard error and an exit code.
struct CommandFailure: Error {
    var code: AccordExit
    var message: String
}

/// Output formats for CI-facing commands.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

func writeError(_ text: String) {
    FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
}
