import AccordCore
import Crypto
import Foundation
import GRDB

/// How hard a commit is pushed to disk before `record` returns.
public enum Durability: String, Sendable, CaseIterable {
    /// `synchronous = FULL`: a recorded decision survives a process crash, an OS crash and power loss.
    case full
    /// `synchronous = NORMAL`: survives a process crash; in WAL mode the last commits can be lost on power loss.
    case normal
    /// `synchronous = OFF`: for benchmarks and throwaway trails only; an OS crash can lose or corrupt the trail.
    case off

    var pragmaValue: Int { switch self { case .full: 2; case .normal: 1; case .off: 0 } }
}

/// The audit trail on SQLite (WAL, `synchronous = FULL` by default): append-only, hash-chained, with signed
/// RFC 6962 checkpoints. A decision reported as recorded is committed to disk. Safe from any thread.
public final class SQLiteAuditTrail: Sendable {
    public let path: String
    private let queue: DatabaseQueue
    private let pseudonymizer: SubjectPseudonymizer
    private let signingKey: Curve25519.Signing.PrivateKey
    private let macKey: RecordMAC

    /// Opens (or creates) the trail at `path`. Keys default to files beside it: `<path>.subject-key`
    /// (pseudonyms) and `<path>.signing-key` (checkpoints, and record MACs derived from it).
    public init(path: String, subjectKeyPath: String? = nil, signingKeyPath: String? = nil, durability: Durability = .full) throws {
        self.path = path
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            // FULL: a commit is on disk before it returns, even across power loss (NORMAL in WAL mode is not).
            try db.execute(sql: "PRAGMA synchronous = \(durability.pragmaValue)")
        }
        configuration.busyMode = .timeout(10)
        queue = try DatabaseQueue(path: path, configuration: configuration)
        // Checked, not assumed: some connection setups reset it after the preparation hook.
        let synchronous = try queue.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") }
        guard synchronous == durability.pragmaValue else {
            throw StoreError.durabilityNotGuaranteed("PRAGMA synchronous is \(synchronous ?? -1), expected \(durability.pragmaValue)")
        }
        try AuditMigrations.migrator.migrate(queue)
        pseudonymizer = SubjectPseudonymizer(key: try KeyFile.loadOrCreate(at: subjectKeyPath ?? path + ".subject-key"))
        let signing = try KeyFile.loadOrCreate(at: signingKeyPath ?? path + ".signing-key")
        signingKey = try Curve25519.Signing.PrivateKey(rawRepresentation: signing.bytes)
        macKey = RecordMAC(key: HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: signing.bytes),
                                                       info: Data("accord audit record mac v1".utf8), outputByteCount: 32))
    }

    /// The hex Ed25519 public key that verifies this trail's checkpoints.
    public var publicKey: String { signingKey.publicKey.rawRepresentation.hexString }

    /// The keyed pseudonym this trail stores for a subject id.
    public func pseudonym(for subject: String) -> String { pseudonymizer.pseudonym(for: subject) }

    // MARK: - Writing

    /// One decision to record.
    public struct Entry: Sendable {
        public var decision: Decision
        public var request: DecisionRequest
        public var decisionID: String
        public var instant: Date

        public init(decision: Decision, request: DecisionRequest, decisionID: String, instant: Date = Date()) {
            self.decision = decision
            self.request = request
            self.decisionID = decisionID
            self.instant = instant
        }
    }

    /// Appends the decision; returns only once the record is committed.
    @discardableResult
    public func record(_ decision: Decision, for request: DecisionRequest, decisionID: String, at instant: Date = Date()) throws -> AuditRecord {
        try record(batch: [Entry(decision: decision, request: request, decisionID: decisionID, instant: instant)])[0]
    }

    /// Appends decisions in one transaction (group commit); returns once all are committed, or throws and
    /// records none of them.
    public func record(batch entries: [Entry]) throws -> [AuditRecord] {
        let subjects = entries.map { pseudonymizer.pseudonym(for: $0.request.subject.id) }
        return try queue.write { db in
            let last = try Row.fetchOne(db, sql: "SELECT sequence, hash FROM audit_record ORDER BY sequence DESC LIMIT 1")
            var sequence = (last?["sequence"] as Int64? ?? 0)
            var previous: String = last?["hash"] ?? AuditRecord.genesis
            let statement = try db.cachedStatement(sql: """
                INSERT INTO audit_record (sequence, decision_id, recorded_at, revision, actor, purpose, action, subject,
                    jurisdiction, effect, resources, processing_region, previous_hash, hash, mac)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            var records: [AuditRecord] = []
            records.reserveCapacity(entries.count)
            for (entry, subject) in zip(entries, subjects) {
                sequence += 1
                let record = AuditRecord.make(sequence: sequence, decisionID: entry.decisionID, decision: entry.decision,
                                              request: entry.request, subject: subject, recordedAt: entry.instant,
                                              previousHash: previous, macKey: macKey)
                try statement.execute(arguments: [record.sequence, record.decisionID, Timestamps.format(record.recordedAt),
                                                  record.revision, record.actor, record.purpose, record.action, record.subject,
                                                  record.jurisdiction, record.effect, record.resources, record.processingRegion,
                                                  record.previousHash, record.hash, record.mac])
                previous = record.hash
                records.append(record)
            }
            return records
        }
    }

    /// Commits the Merkle root of every record so far, signed.
    @discardableResult
    public func checkpoint(at instant: Date = Date()) throws -> Checkpoint {
        try queue.write { db in
            let hashes = try String.fetchAll(db, sql: "SELECT hash FROM audit_record ORDER BY sequence").map { Data(hex: $0) ?? Data() }
            var checkpoint = Checkpoint(id: 0, size: Int64(hashes.count), root: MerkleTree.root(hashes[...]).hexString,
                                        createdAt: Date(timeIntervalSince1970: instant.timeIntervalSince1970.rounded(.down)),
                                        signature: "", publicKey: publicKey)
            checkpoint.signature = try signingKey.signature(for: Data(checkpoint.signedText.utf8)).hexString
            try db.execute(sql: "INSERT INTO audit_checkpoint (size, root, created_at, signature, public_key) VALUES (?, ?, ?, ?, ?)",
                           arguments: [checkpoint.size, checkpoint.root, Timestamps.format(checkpoint.createdAt), checkpoint.signature,
                                       checkpoint.publicKey])
            checkpoint.id = db.lastInsertedRowID
            return checkpoint
        }
    }

    // MARK: - Reading

    public func count() throws -> Int { try queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM audit_record") ?? 0 } }

    public func records() throws -> [AuditRecord] {
        try queue.read { db in try Row.fetchAll(db, sql: "SELECT \(Self.columns) FROM audit_record ORDER BY sequence").map(Self.record) }
    }

    public func checkpoints() throws -> [Checkpoint] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_checkpoint ORDER BY id").map { row in
                Checkpoint(id: row["id"], size: row["size"], root: row["root"],
                           createdAt: Timestamps.parse(row["created_at"]) ?? .distantPast, signature: row["signature"],
                           publicKey: row["public_key"])
            }
        }
    }

    static let columns = "sequence, decision_id, recorded_at, revision, actor, purpose, action, subject, jurisdiction, effect, " +
        "resources, processing_region, previous_hash, hash, mac"

    /// A record from a row selected with `columns`, read by position (name lookups cost more than the hashing).
    static func record(_ row: Row) -> AuditRecord {
        AuditRecord(sequence: row[0], decisionID: row[1], recordedAt: Timestamps.parse(row[2]) ?? .distantPast,
                    revision: row[3], actor: row[4], purpose: row[5], action: row[6], subject: row[7], jurisdiction: row[8],
                    effect: row[9], resources: row[10], processingRegion: row[11], previousHash: row[12], hash: row[13], mac: row[14])
    }

    // MARK: - Verifying

    /// Recomputes the chain, every record's hash and MAC, and every checkpoint; names the first bad record.
    public func verify() throws -> AuditVerification {
        let records = try records()
        let checkpoints = try checkpoints()
        return AuditVerifier(macKey: macKey, publicKey: publicKey).verify(records: records, checkpoints: checkpoints)
    }
}
