import AccordCore
import AccordStore
import ArgumentParser
import Foundation

/// `accord audit`: the tamper-evident trail of decisions.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify and checkpoint the audit trail.",
        subcommands: [AuditVerifyCommand.self, AuditCheckpointCommand.self]
    )
}

/// Options every store-using command shares.
struct StoreOptions: ParsableArguments {
    @Option(help: "The SQLite database of the audit trail.")
    var db: String = "accord.sqlite"

    @Option(name: .customLong("subject-key"), help: "Key file for subject pseudonyms (default: <db>.subject-key).")
    var subjectKey: String?

    @Option(name: .customLong("signing-key"), help: "Key file for checkpoint signatures (default: <db>.signing-key).")
    var signingKey: String?

    func openTrail() throws -> SQLiteAuditTrail {
        do {
            return try SQLiteAuditTrail(path: db, subjectKeyPath: subjectKey, signingKeyPath: signingKey)
        } catch {
            throw CommandFailure(code: .internalError, message: "\(db): error: cannot open the audit trail: \(error)")
        }
    }
}

struct AuditVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute the hash chain, every record's MAC and every signed checkpoint; name the first bad record."
    )

    @OptionGroup var store: StoreOptions

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    func run() throws {
        guard FileManager.default.fileExists(atPath: store.db) else {
            throw CommandFailure(code: .usage, message: "\(store.db): error: no such audit trail")
        }
        let verification = try store.openTrail().verify()
        switch format {
        case .text:
            for problem in verification.problems { print("\(store.db): error: \(problem)") }
            print(verification.isIntact
                  ? "ok: \(verification.records) records, \(verification.checkpoints) checkpoints verified"
                  : "\(verification.problems.count) problem(s) in \(verification.records) records")
        case .json:
            print(JSONValue.object([
                ("intact", .bool(verification.isIntact)),
                ("records", .int(verification.records)),
                ("checkpoints", .int(verification.checkpoints)),
                ("problems", .array(verification.problems.map { problem in
                    .object([("kind", .string(problem.kind.rawValue)),
                             ("sequence", problem.sequence.map { .int(Int($0)) } ?? .null),
                             ("decision_id", problem.decisionID.map(JSONValue.string) ?? .null),
                             ("message", .string(problem.message))])
                })),
            ]).serialized())
        }
        if !verification.isIntact { throw ExitCode(AccordExit.policyProblem.rawValue) }
    }
}

struct AuditCheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign the RFC 6962 Merkle root of every record so far."
    )

    @OptionGroup var store: StoreOptions

    func run() throws {
        let checkpoint = try store.openTrail().checkpoint()
        print(JSONValue.object([("id", .int(Int(checkpoint.id))), ("size", .int(Int(checkpoint.size))), ("root", .string(checkpoint.root)),
                                ("signature", .string(checkpoint.signature)), ("public_key", .string(checkpoint.publicKey))]).serialized())
    }
}
