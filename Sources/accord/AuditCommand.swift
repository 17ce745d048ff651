import AccordCore
import AccordStore
import ArgumentParser
import Foundation

/// `accord audit`: the tamper-evident trail of decisions.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Query, verify, prove and erase in the audit trail.",
        subcommands: [
            AuditQueryCommand.self, AuditStatsCommand.self, AuditExportCommand.self, AuditVerifyCommand.self,
            AuditCheckpointCommand.self, AuditProveCommand.self, AuditVerifyProofCommand.self, AuditEraseCommand.self,
        ]
    )
}

/// Options every store-using command shares.
struct StoreOptions: ParsableArguments {
    @Option(help: "The SQLite database of the audit trail and the consent store.")
    var db: String = "accord.sqlite"

    @Option(name: .customLong("subject-key"), help: "Key file for subject pseudonyms (default: <db>.subject-key).")
    var subjectKey: String?

    @Option(name: .customLong("signing-key"), help: "Key file for checkpoint signatures (default: <db>.signing-key).")
    var signingKey: String?

    /// An existing consent store: reading must not create a database.
    func openExistingConsent() throws -> SQLiteConsentStore {
        guard FileManager.default.fileExists(atPath: db) else {
            throw CommandFailure(code: .usage, message: "\(db): error: no such database")
        }
        return try openConsent()
    }

    func openConsent() throws -> SQLiteConsentStore {
        do {
            return try SQLiteConsentStore(path: db, subjectKeyPath: subjectKey)
        } catch {
            throw CommandFailure(code: .internalError, message: "\(db): error: cannot open the consent store: \(error)")
        }
    }

    func openBudgets() throws -> SQLiteBudgetLedger {
        do {
            return try SQLiteBudgetLedger(path: db, subjectKeyPath: subjectKey)
        } catch {
            throw CommandFailure(code: .internalError, message: "\(db): error: cannot open the privacy-budget ledger: \(error)")
        }
    }

    /// An existing trail: reading, proving and erasing must not create one.
    func openExistingTrail() throws -> SQLiteAuditTrail {
        guard FileManager.default.fileExists(atPath: db) else {
            throw CommandFailure(code: .usage, message: "\(db): error: no such audit trail")
        }
        return try openTrail()
    }

    /// The existing database, opened for reading only (nothing created, migrated or written; read-only storage
    /// works), for the commands that only read: verify, query, stats, export, prove.
    func openReadOnlyDatabase() throws -> StoreDatabase {
        guard FileManager.default.fileExists(atPath: db) else {
            throw CommandFailure(code: .usage, message: "\(db): error: no such database")
        }
        do {
            return try StoreDatabase(readingOnly: db, subjectKeyPath: subjectKey)
        } catch {
            throw CommandFailure(code: .internalError, message: "\(db): error: cannot open the database: \(error)")
        }
    }

    /// The existing trail, read-only.
    func openReadOnlyTrail() throws -> SQLiteAuditTrail {
        try openTrail(in: openReadOnlyDatabase())
    }

    func openTrail(in database: StoreDatabase) throws -> SQLiteAuditTrail {
        do {
            return try SQLiteAuditTrail(database: database, signingKeyPath: signingKey)
        } catch {
            throw CommandFailure(code: .internalError, message: "\(db): error: cannot open the audit trail: \(error)")
        }
    }

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

    @Option(
        help: ArgumentHelp(
            "Published checkpoints (a file of C2SP signed notes, or a folder of them): the trail must still hold each one's tree.",
            valueName: "CHECKPOINT_FILE"))
    var against: String?

    @Option(help: "The hex Ed25519 public key the published checkpoints must be signed by (default: the trail's own signing key).")
    var publicKey: String?

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    func run() throws {
        var notes: [CheckpointNote] = []
        if let against {
            do {
                notes = try CheckpointNote.read(from: against)
            } catch {
                throw CommandFailure(code: .usage, message: "error: \(error)")
            }
            guard !notes.isEmpty else { throw CommandFailure(code: .usage, message: "\(against): error: no checkpoint in it") }
        }
        if let publicKey, CheckpointNote.publicKey(hex: publicKey) == nil {
            throw CommandFailure(code: .usage, message: "--public-key: error: expected 64 hexadecimal digits (an Ed25519 public key)")
        }
        let verification = try store.openReadOnlyTrail().verify(against: notes, publicKey: publicKey?.lowercased())
        switch format {
        case .text:
            for problem in verification.problems { print("\(store.db): error: \(problem)") }
            print(
                verification.isIntact
                    ? "ok: \(verification.records) records, \(verification.checkpoints) checkpoints verified"
                        + (notes.isEmpty
                            ? ""
                            : ", and \(notes.count) published checkpoint\(notes.count == 1 ? "" : "s") (up to \(notes.map(\.size).max()!) records) still held")
                    : "\(verification.problems.count) problem(s) in \(verification.records) records")
        case .json:
            print(
                JSONValue.object([
                    ("intact", .bool(verification.isIntact)),
                    ("records", .int(verification.records)),
                    ("checkpoints", .int(verification.checkpoints)),
                    (
                        "problems",
                        .array(
                            verification.problems.map { problem in
                                .object([
                                    ("kind", .string(problem.kind.rawValue)),
                                    ("sequence", problem.sequence.map { .int(Int($0)) } ?? .null),
                                    ("decision_id", problem.decisionID.map(JSONValue.string) ?? .null),
                                    ("message", .string(problem.message)),
                                ])
                            })
                    ),
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

    @Option(
        help: ArgumentHelp(
            "Also append the checkpoint, as a C2SP signed note, to FILE (or write it into the folder DIR).", valueName: "FILE|DIR"))
    var publish: String?

    func run() throws {
        let trail = try store.openTrail()
        let checkpoint: Checkpoint
        if let publish {
            do {
                checkpoint = try trail.checkpoint(publishingTo: publish).0
            } catch let error as StoreError {
                throw CommandFailure(code: .internalError, message: "\(publish): error: \(error)")
            }
        } else {
            checkpoint = try trail.checkpoint()
        }
        print(
            JSONValue.object([
                ("id", .int(Int(checkpoint.id))), ("size", .int(Int(checkpoint.size))), ("root", .string(checkpoint.root)),
                ("signature", .string(checkpoint.signature)), ("public_key", .string(checkpoint.publicKey)),
            ]).serialized())
    }
}

struct AuditProveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract:
            "Print an RFC 6962 inclusion proof of a decision (--decision), or a consistency proof between two checkpoints (--from, --to)."
    )

    @OptionGroup var store: StoreOptions

    @Option(help: "The decision id to prove included, against the latest checkpoint covering it.")
    var decision: String?

    @Option(help: "The earlier checkpoint id of a consistency proof.")
    var from: Int64?

    @Option(help: "The later checkpoint id of a consistency proof (default: the latest).")
    var to: Int64?

    func validate() throws {
        if (decision == nil) == (from == nil) { throw ValidationError("give --decision ID, or --from CHECKPOINT [--to CHECKPOINT]") }
        if decision != nil && to != nil { throw ValidationError("--to goes with --from") }
    }

    func run() throws {
        let trail = try store.openReadOnlyTrail()
        if let decision {
            guard let proof = try trail.prove(decisionID: decision) else {
                throw CommandFailure(
                    code: .policyProblem,
                    message:
                        "\(store.db): error: decision \(decision) is not recorded, or no checkpoint covers it yet (run `accord audit checkpoint`)"
                )
            }
            print(proof.json.serialized())
            return
        }
        let latest = try trail.checkpoints().last?.id
        guard let from, let to = to ?? latest, let proof = try trail.proveConsistency(from: from, to: to) else {
            throw CommandFailure(
                code: .policyProblem,
                message:
                    "\(store.db): error: no consistency proof from checkpoint \(from.map(String.init) ?? "?") to \(to.map(String.init) ?? "the latest"): a checkpoint is unknown, the first is the larger, or records are missing"
            )
        }
        print(proof.json.serialized())
    }
}

struct AuditVerifyProofCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-proof",
        abstract: "Check an inclusion or consistency proof offline: the checkpoint signatures and the path between hashes."
    )

    @Argument(help: "A proof printed by `accord audit prove` ('-' for standard input).")
    var proof: String

    @Option(name: .customLong("public-key"), help: "The trail's Ed25519 public key (hex) the checkpoints must be signed with.")
    var publicKey: String?

    func run() throws {
        let data = proof == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: proof)
        guard let data, let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CommandFailure(code: .usage, message: "\(proof): error: not a proof (expected the JSON `accord audit prove` prints)")
        }
        let holds: Bool
        let claim: String
        if let inclusion = InclusionProof(json: object) {
            holds = inclusion.verify(publicKey: publicKey)
            claim =
                "decision \(inclusion.decisionID) is record \(inclusion.leafIndex + 1) of \(inclusion.checkpoint.size) under root \(inclusion.checkpoint.root)"
        } else if let consistency = ConsistencyProof(json: object) {
            holds = consistency.verify(publicKey: publicKey)
            claim =
                "checkpoint \(consistency.new.id) (\(consistency.new.size) records) extends checkpoint \(consistency.old.id) (\(consistency.old.size) records) unchanged"
        } else {
            throw CommandFailure(code: .usage, message: "\(proof): error: not a proof (expected the JSON `accord audit prove` prints)")
        }
        if holds {
            print("ok: \(claim)")
        } else {
            print("\(proof): error: the proof does not verify")
            throw ExitCode(AccordExit.policyProblem.rawValue)
        }
    }
}
