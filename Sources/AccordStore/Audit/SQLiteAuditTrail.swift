import AccordCore
import Crypto
import Foundation
import GRDB
import GRDBSQLite

/// The audit trail on SQLite (WAL, `synchronous = FULL` by default): append-only, hash-chained, with signed
/// RFC 6962 checkpoints. A decision reported as recorded is committed to disk. Safe from any thread.
public final class SQLiteAuditTrail: AuditTrail, @unchecked Sendable {
    public let path: String
    let queue: DatabasePool
    /// Shared with the other stores on the file: once it is found damaged, no more records are written.
    public let health: StoreHealth
    let pseudonymizer: SubjectPseudonymizer
    let signingKey: Curve25519.Signing.PrivateKey
    let macKey: RecordMAC
    /// Per-subject seal keys already read or created; touched only inside `queue` (so serialised by it).
    let sealKeys = SealKeyCache()
    var randomPool = RandomPool()
    let appendWorker = DispatchQueue(label: "accord.audit.append")
    /// Slices chained by the append worker and by the writer itself (for tests and tuning).
    var slicesChained: (byWorker: Int, byWriter: Int) = (0, 0)
    /// Keys added to `subject_key_recent` since its last merge, by this connection.
    var newKeys = 0
    /// Tags of the seal keys created by the batch being written: if it rolls back, they leave the cache.
    var keysCreatedInBatch: [Int64] = []
    var seenErasure: Int64 = -1
    /// Rows in `audit_term_pending` (as this connection last knew: other writers' rows are folded with its own).
    var pendingPostings = 0

    /// Opens (or creates) the trail at `path`. Keys default to files beside it: `<path>.subject-key`
    /// (pseudonyms) and `<path>.signing-key` (checkpoints, and record MACs derived from it).
    public convenience init(path: String, subjectKeyPath: String? = nil, signingKeyPath: String? = nil, durability: Durability = .full)
        throws
    {
        try self.init(
            database: StoreDatabase(path: path, subjectKeyPath: subjectKeyPath, durability: durability), signingKeyPath: signingKeyPath)
    }

    /// The trail in `database`, on its connection; the signing key defaults to `<path>.signing-key`.
    public init(database: StoreDatabase, signingKeyPath: String? = nil) throws {
        path = database.path
        health = database.health
        (queue, pseudonymizer) = (database.queue, database.pseudonymizer)
        let signing = try KeyFile.loadOrCreate(
            at: signingKeyPath ?? path + ".signing-key",
            mayCreate: !database.isReadOnly && !StoreMigrations.holdsData(queue, signed: true))
        signingKey = try Curve25519.Signing.PrivateKey(rawRepresentation: signing.bytes)
        macKey = RecordMAC(
            key: HKDF<SHA256>.deriveKey(
                inputKeyMaterial: SymmetricKey(data: signing.bytes),
                info: Data("accord audit record mac v1".utf8), outputByteCount: 32))
        pendingPostings = try queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM audit_term_pending") } ?? 0
    }

    /// The hex Ed25519 public key that verifies this trail's checkpoints.
    public var publicKey: String { signingKey.publicKey.rawRepresentation.hexString }

    /// The keyed pseudonym this trail uses for a subject id (HMAC-SHA256 under the subject key).
    public func pseudonym(for subject: String) -> Data { pseudonymizer.pseudonym(for: subject) }

    // MARK: - Reading

    /// A subject's records, newest first: those indexed under their tag and sealed under their key (an index
    /// entry pointing at another record, or another subject sharing the 8-byte tag, is not theirs). None once
    /// their key is erased.
    static func sealedSequences(_ db: Database, pseudonym: Data) throws -> [Int64] {
        guard let key = try subjectKey(db, pseudonym: pseudonym) else { return [] }
        let seal = RecordMAC(key: SymmetricKey(data: key))
        let record = try db.cachedStatement(sql: "SELECT decision_id, subject_seal FROM audit_record WHERE sequence = ?")
        return try subjectSequences(db, tag: AuditTerm.subjectTag(pseudonym)).filter { sequence in
            guard let row = try Row.fetchOne(record, arguments: [sequence]),
                let id = String.fromDatabaseValue(row[0]), let stored = Data.fromDatabaseValue(row[1])
            else { return false }
            return seal.mac(Data(id.utf8)) == stored
        }
    }

    /// The sequences indexed under a subject tag, newest first: one seek per bucket.
    static func subjectSequences(_ db: Database, tag: Int64) throws -> [Int64] {
        guard let last = try Int64.fetchOne(db, sql: "SELECT max(sequence) FROM audit_record") else { return [] }
        let seek = try db.cachedStatement(sql: "SELECT sequence FROM audit_subject WHERE bucket = ? AND tag = ? ORDER BY sequence DESC")
        var sequences: [Int64] = []
        for bucket in stride(from: AuditTerm.subjectBucket(last), through: 0, by: -1) {
            sequences += try Int64.fetchAll(seek, arguments: [bucket, tag])
        }
        return sequences
    }

    public func count() throws -> Int { try queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM audit_record") ?? 0 } }

    /// The newest record's sequence (0 for an empty trail): one look-up at the end of the table, where `count()`
    /// walks all of it. Sequences are contiguous from 1, so on an intact trail the two agree.
    public func latestSequence() throws -> Int64 {
        try queue.read { try Int64.fetchOne($0, sql: "SELECT max(sequence) FROM audit_record") ?? 0 }
    }

    /// Every record, oldest first.
    public func records() throws -> [AuditRecord] {
        try queue.read { db in try Row.fetchAll(db, sql: "SELECT \(Self.columns) FROM audit_record ORDER BY sequence").map(Self.record) }
    }

    public func checkpoints() throws -> [Checkpoint] {
        try queue.read { db in try Self.checkpoints(db) }
    }

    static func checkpoints(_ db: Database) throws -> [Checkpoint] {
        try Row.fetchAll(db, sql: "SELECT id, size, root, created_at, signature, public_key FROM audit_checkpoint ORDER BY id").map { row in
            Checkpoint(
                id: row[0], size: row[1], root: row[2], createdAt: Timestamps.parse(row[3]) ?? .distantPast,
                signature: row[4], publicKey: row[5])
        }
    }

    static let columns =
        "sequence, decision_id, recorded_at, revision, actor, purpose, action, subject_seal, jurisdiction, effect, "
        + "resources, processing_region, previous_hash, hash, mac"

    /// A record from a row selected with `columns`, read by position.
    /// Values of the wrong type (a tampered row) read as empty rather than trapping: `verify` names such rows.
    static func record(_ row: Row) -> AuditRecord {
        func int(_ i: Int) -> Int64 { Int64.fromDatabaseValue(row[i]) ?? 0 }
        func text(_ i: Int) -> String { String.fromDatabaseValue(row[i]) ?? "" }
        func optionalText(_ i: Int) -> String? { String.fromDatabaseValue(row[i]) }
        func blob(_ i: Int) -> Data { Data.fromDatabaseValue(row[i]) ?? Data() }
        return AuditRecord(
            sequence: int(0), decisionID: text(1), recordedAt: Date(timeIntervalSince1970: Double(int(2))),
            revision: text(3), actor: text(4), purpose: text(5), action: text(6), subjectSeal: blob(7),
            jurisdiction: optionalText(8), effect: text(9), resources: text(10), processingRegion: optionalText(11),
            previousHash: blob(12), hash: blob(13), mac: blob(14))
    }
}
