import AccordCore
import AccordStore
import ArgumentParser
import Foundation

/// `accord audit`: the tamper-evident trail of decisions.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify and checkpoint the audit trail.",
        subcommands: [AuditVerifyCommand.self, AuditCheckpointCommand.self, AuditProveCommand.self, AuditVerifyProofCommand.self]
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

struct AuditProveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Print an RFC 6962 inclusion proof of a recorded decision against the latest checkpoint covering it."
    )

    @OptionGroup var store: StoreOptions

    @Option(help: "The decision id to prove.")
    var decision: String

    func run() throws {
        guard FileManager.default.fileExists(atPath: store.db) else {
            throw CommandFailure(code: .usage, message: "\(store.db): error: no such audit trail")
        }
        guard let proof = try store.openTrail().prove(decisionID: decision) else {
            throw CommandFailure(code: .policyProblem,
                                 message: "\(store.db): error: decision \(decision) is not recorded, or no checkpoint covers it yet (run `accord audit checkpoint`)")
        }
        let data = try JSONSerialization.data(withJSONObject: proof.json, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}

struct AuditVerifyProofCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-proof",
        abstract: "Check an inclusion proof offline: the checkpoint's signature and the audit path to its root."
    )

    @Argument(help: "A proof printed by `accord audit prove` ('-' for standard input).")
    var proof: String

    @Option(name: .customLong("public-key"), help: "The trail's Ed25519 public key (hex) the checkpoint must be signed with.")
    var publicKey: String?

    func run() throws {
        let data = proof == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: proof)
        guard let data, let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let parsed = InclusionProof(json: object)
        else { throw CommandFailure(code: .usage, message: "\(proof): error: not an inclusion proof") }
        if parsed.verify(publicKey: publicKey) {
            print("ok: decision \(parsed.decisionID) is record \(parsed.leafIndex + 1) of \(parsed.checkpoint.size) under root \(parsed.checkpoint.root)")
        } else {
            print("\(proof): error: the proof does not verify")
            throw ExitCode(AccordExit.policyProblem.rawValue)
        }
    }
}
