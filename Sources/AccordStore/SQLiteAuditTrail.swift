import AccordCore
import Crypto
import Foundation
import GRDB
import GRDBSQLite

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
public final class SQLiteAuditTrail: AuditTrail, @unchecked Sendable {
    public let path: String
    let queue: DatabaseQueue
    private let pseudonymizer: SubjectPseudonymizer
    private let signingKey: Curve25519.Signing.PrivateKey
    let macKey: RecordMAC
    /// Per-subject seal keys already read or created, by pseudonym tag; touched only inside `queue` (so
    /// serialised by it).
    private var sealKeys: [Int64: (pseudonym: Data, mac: RecordMAC)] = [:]
    private var randomPool = RandomPool()
    private var seenDataVersion: Int64 = -1

    /// Opens (or creates) the trail at `path`. Keys default to files beside it: `<path>.subject-key`
    /// (pseudonyms) and `<path>.signing-key` (checkpoints, and record MACs derived from it).
    public init(path: String, subjectKeyPath: String? = nil, signingKeyPath: String? = nil, durability: Durability = .full) throws {
        self.path = path
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            // FULL: a commit is on disk before it returns, even across power loss (NORMAL in WAL mode is not).
            try db.execute(sql: "PRAGMA synchronous = \(durability.pragmaValue)")
            // Erased keys and terms are overwritten with zeros, not left in free pages.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            try db.execute(sql: "PRAGMA cache_size = -65536")
            // Checkpoint the WAL every 64 MiB rather than every 4: a page rewritten by many commits is copied back once.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 16384")
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

    /// The keyed pseudonym this trail uses for a subject id (HMAC-SHA256 under the subject key).
    public func pseudonym(for subject: String) -> Data { pseudonymizer.pseudonym(for: subject) }

    // MARK: - Writing

    /// Appends decisions in one transaction (group commit); returns once all are committed, or throws and
    /// records none of them. A record's time is the later of its entry's instant and the previous record's:
    /// time never runs backwards along the chain.
    public func record(batch entries: [AuditEntry]) throws -> [AuditRecord] {
        let prepared = prepare(entries)
        return try queue.write { db in
            try forgetSealKeysIfChangedElsewhere(db)
            let last = try Row.fetchOne(db, sql: "SELECT sequence, hash, recorded_at FROM audit_record ORDER BY sequence DESC LIMIT 1")
            var sequence: Int64 = last?[0] ?? 0
            var previous: Data = last?[1] ?? AuditRecord.genesis
            var time: Int64 = last?[2] ?? .min
            let insert = try RawStatement(db, """
                INSERT INTO audit_record (sequence, decision_id, recorded_at, revision, actor, purpose, action, subject_seal,
                    jurisdiction, effect, resources, processing_region, previous_hash, hash, mac)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            var postings: [String: [Int64]] = [:]
            var encoder = CanonicalEncoder(capacity: 2_048, tagged: false)
            let subject = try RawStatement(db, "INSERT INTO audit_subject (tag, sequence) VALUES (?, ?)")
            var records: [AuditRecord] = []
            records.reserveCapacity(entries.count)
            for (entry, prepared) in zip(entries, prepared) {
                sequence += 1
                time = max(time, Int64(entry.instant.timeIntervalSince1970.rounded(.down)))
                var id = entry.decisionID
                let seal = try id.withUTF8 { try sealKey(for: prepared, db).digest(UnsafeRawBufferPointer($0)) }.data
                let record = AuditRecord.make(sequence: sequence, entry: entry, resources: prepared.resources, subjectSeal: seal,
                                              recordedAt: time, previousHash: previous, macKey: macKey, encoder: &encoder)
                try insert.run(db) { s in
                    s.bind(record.sequence); s.bind(record.decisionID); s.bind(time)
                    s.bind(record.revision); s.bind(record.actor); s.bind(record.purpose); s.bind(record.action)
                    s.bind(record.subjectSeal); s.bind(record.jurisdiction); s.bind(record.effect); s.bind(record.resources)
                    s.bind(record.processingRegion); s.bind(record.previousHash); s.bind(record.hash); s.bind(record.mac)
                }
                try subject.run(db) { s in s.bind(prepared.tag); s.bind(sequence) }
                for term in prepared.terms { postings[term, default: []].append(sequence) }
                previous = record.hash
                records.append(record)
            }
            let posting = try RawStatement(db, "INSERT INTO audit_term (term, last_sequence, sequences) VALUES (?, ?, ?)")
            for (term, sequences) in postings {
                try posting.run(db) { s in s.bind(term); s.bind(sequences.last!); s.bind(Postings.encode(sequences)) }
            }
            return records
        }
    }

    /// What can be computed before the write lock: pseudonyms, the resources column, lookup terms. Large
    /// batches are split over the cores.
    private func prepare(_ entries: [AuditEntry]) -> [Prepared] {
        @Sendable func one(_ entry: AuditEntry) -> Prepared {
            let pseudonym = pseudonymizer.pseudonym(for: entry.request.subject.id)
            return Prepared(pseudonym: pseudonym, tag: AuditTerm.subjectTag(pseudonym), resources: AuditRecord.resourcesJSON(entry.decision.resources),
                            terms: Self.terms(of: entry))
        }
        let chunks = entries.count >= 256 ? min(ProcessInfo.processInfo.activeProcessorCount, 8) : 1
        guard chunks > 1 else { return entries.map(one) }
        // Each chunk fills its own slice of one buffer.
        struct Slots: @unchecked Sendable { let buffer: UnsafeMutableBufferPointer<Prepared> }
        let slots = Slots(buffer: .allocate(capacity: entries.count))
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            for i in (entries.count * chunk / chunks)..<(entries.count * (chunk + 1) / chunks) {
                (slots.buffer.baseAddress! + i).initialize(to: one(entries[i]))
            }
        }
        defer { slots.buffer.deallocate() }
        return (0..<entries.count).map { (slots.buffer.baseAddress! + $0).move() }
    }

    struct Prepared: Sendable {
        var pseudonym: Data
        var tag: Int64
        var resources: String
        var terms: [String]
    }

    /// What a record is found by besides its subject: its purpose and every purpose above it, its actor,
    /// action, effect and policy revision, its reason codes and rule ids.
    static func terms(of entry: AuditEntry) -> [String] {
        var terms = [AuditTerm.actor(entry.request.actor.id), AuditTerm.action(entry.decision.action),
                     AuditTerm.effect(entry.decision.effect.rawValue), AuditTerm.revision(entry.decision.revision)]
        let purpose = entry.decision.purpose
        for (i, character) in purpose.enumerated() where character == "." { terms.append(AuditTerm.purpose(String(purpose.prefix(i)))) }
        terms.append(AuditTerm.purpose(purpose))
        var seen: Set<String> = []
        for resource in entry.decision.resources {
            for reason in resource.reasons {
                if seen.insert(reason.code.rawValue).inserted { terms.append(AuditTerm.reason(reason.code.rawValue)) }
                if let rule = reason.rule, seen.insert(rule.id).inserted { terms.append(AuditTerm.rule(rule.id)) }
            }
        }
        return terms
    }

    /// The subject's seal key, created on first sight.
    private func sealKey(for subject: Prepared, _ db: Database) throws -> RecordMAC {
        if let cached = sealKeys[subject.tag], cached.pseudonym == subject.pseudonym { return cached.mac }
        let select = try db.cachedStatement(sql: "SELECT key FROM subject_key WHERE pseudonym = ?")
        var key = try Data.fetchOne(select, arguments: [subject.pseudonym])
        if key == nil {
            let fresh = randomPool.next32()
            try RawStatement(db, "INSERT INTO subject_key (pseudonym, key) VALUES (?, ?)").run(db) { s in s.bind(subject.pseudonym); s.bind(fresh) }
            key = fresh
        }
        // Bounded: about 250 bytes an entry.
        if sealKeys.count >= 100_000 { sealKeys.removeAll(keepingCapacity: true) }
        let mac = RecordMAC(key: SymmetricKey(data: key!))
        sealKeys[subject.tag] = (subject.pseudonym, mac)
        return mac
    }

    /// Another connection (an `erase` from another process) may have destroyed keys this one remembers.
    private func forgetSealKeysIfChangedElsewhere(_ db: Database) throws {
        let version = try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0
        if version != seenDataVersion {
            sealKeys.removeAll(keepingCapacity: true)
            seenDataVersion = version
        }
    }

    /// Commits the Merkle root of every record so far, signed.
    @discardableResult
    public func checkpoint(at instant: Date = Date()) throws -> Checkpoint {
        try queue.write { db in
            let hashes = try Data.fetchAll(db, sql: "SELECT hash FROM audit_record ORDER BY sequence")
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

    // MARK: - Erasure

    /// Crypto-shredding: destroys the subject's seal key and their lookup terms (overwritten on disk, the WAL
    /// checkpointed and truncated), so their records stay in the chain — every hash, checkpoint and proof still
    /// verifies — but can no longer be found, read as theirs, or linked to each other. Returns how many records
    /// that covered.
    @discardableResult
    public func erase(subject: String, at instant: Date = Date()) throws -> Int {
        let pseudonym = pseudonymizer.pseudonym(for: subject)
        let count = try queue.write { db -> Int in
            // Only this subject's rows: another whose pseudonym shares the 8-byte tag keeps theirs.
            let seal = try Data.fetchOne(db, sql: "SELECT key FROM subject_key WHERE pseudonym = ?", arguments: [pseudonym])
                .map { RecordMAC(key: SymmetricKey(data: $0)) }
            var theirs: [Int64] = []
            if let seal {
                for row in try Row.fetchAll(db, sql: """
                    SELECT r.sequence, r.decision_id, r.subject_seal FROM audit_subject s JOIN audit_record r ON r.sequence = s.sequence
                    WHERE s.tag = ?
                    """, arguments: [AuditTerm.subjectTag(pseudonym)]) where seal.mac(Data((row[1] as String).utf8)) == row[2] as Data {
                    theirs.append(row[0])
                }
            }
            let count = theirs.count
            try db.execute(sql: "DELETE FROM subject_key WHERE pseudonym = ?", arguments: [pseudonym])
            let delete = try db.cachedStatement(sql: "DELETE FROM audit_subject WHERE tag = ? AND sequence = ?")
            for sequence in theirs { try delete.execute(arguments: [AuditTerm.subjectTag(pseudonym), sequence]) }
            try db.execute(sql: "INSERT INTO audit_erasure (erased_at, records) VALUES (?, ?)",
                           arguments: [Int64(instant.timeIntervalSince1970), count])
            sealKeys[AuditTerm.subjectTag(pseudonym)] = nil
            return count
        }
        // Old page images holding the key may still sit in the WAL: copy back and truncate it.
        try queue.writeWithoutTransaction { db in _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        return count
    }

    // MARK: - Reading

    public func count() throws -> Int { try queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM audit_record") ?? 0 } }

    /// Every record, oldest first.
    public func records() throws -> [AuditRecord] {
        try queue.read { db in try Row.fetchAll(db, sql: "SELECT \(Self.columns) FROM audit_record ORDER BY sequence").map(Self.record) }
    }

    public func checkpoints() throws -> [Checkpoint] {
        try queue.read { db in try Self.checkpoints(db) }
    }

    static func checkpoints(_ db: Database) throws -> [Checkpoint] {
        try Row.fetchAll(db, sql: "SELECT id, size, root, created_at, signature, public_key FROM audit_checkpoint ORDER BY id").map { row in
            Checkpoint(id: row[0], size: row[1], root: row[2], createdAt: Timestamps.parse(row[3]) ?? .distantPast,
                       signature: row[4], publicKey: row[5])
        }
    }

    static let columns = "sequence, decision_id, recorded_at, revision, actor, purpose, action, subject_seal, jurisdiction, effect, " +
        "resources, processing_region, previous_hash, hash, mac"

    /// A record from a row selected with `columns`, read by position.
    static func record(_ row: Row) -> AuditRecord {
        AuditRecord(sequence: row[0], decisionID: row[1], recordedAt: Date(timeIntervalSince1970: Double(row[2] as Int64)),
                    revision: row[3], actor: row[4], purpose: row[5], action: row[6], subjectSeal: row[7], jurisdiction: row[8],
                    effect: row[9], resources: row[10], processingRegion: row[11], previousHash: row[12], hash: row[13], mac: row[14])
    }
}

/// A prepared statement driven through SQLite's C interface: binding and stepping without building
/// `DatabaseValue`s, for the append path.
struct RawStatement {
    let statement: OpaquePointer

    init(_ db: Database, _ sql: String) throws {
        statement = try db.cachedStatement(sql: sql).sqliteStatement
    }

    /// Binds with `bind` (in parameter order) and steps once to completion.
    func run(_ db: Database, _ bind: (inout Binder) -> Void) throws {
        sqlite3_reset(statement)
        var binder = Binder(statement: statement)
        bind(&binder)
        let code = sqlite3_step(statement)
        guard code == SQLITE_DONE else {
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            sqlite3_reset(statement)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
        }
    }

    struct Binder {
        let statement: OpaquePointer
        var index: Int32 = 1
        private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)


        mutating func bind(_ value: Int64) {
            sqlite3_bind_int64(statement, index, value)
            index += 1
        }

        mutating func bind(_ value: String?) {
            if var value, !value.isEmpty {
                value.withUTF8 { utf8 in _ = sqlite3_bind_text(statement, index, utf8.baseAddress, Int32(utf8.count), Self.transient) }
            } else if value != nil {
                sqlite3_bind_text(statement, index, "", 0, Self.transient)  // an empty buffer may have no address: NULL to SQLite
            } else {
                sqlite3_bind_null(statement, index)
            }
            index += 1
        }

        mutating func bind(_ value: Data) {
            if value.isEmpty {
                sqlite3_bind_zeroblob(statement, index, 0)
            } else {
                value.withUnsafeBytes { bytes in _ = sqlite3_bind_blob(statement, index, bytes.baseAddress, Int32(bytes.count), Self.transient) }
            }
            index += 1
        }
    }
}

/// Fresh keys from the system's generator, drawn 4 KiB at a time rather than one system call per key.
struct RandomPool {
    private var buffer = [UInt8](repeating: 0, count: 4_096)
    private var offset = 4_096

    mutating func next32() -> Data {
        if offset + 32 > buffer.count {
            // The kernel's generator (getrandom on Linux, arc4random on Apple platforms), one call per refill.
            buffer.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
            offset = 0
        }
        defer {
            // Used bytes are wiped from the pool.
            for i in offset..<(offset + 32) { buffer[i] = 0 }
            offset += 32
        }
        return Data(buffer[offset..<(offset + 32)])
    }
}

/// Ascending sequences as LEB128 deltas from zero: a commit's records carrying one term, in a few bytes each.
enum Postings {
    static func encode(_ sequences: [Int64]) -> Data {
        var out = Data(capacity: sequences.count * 2)
        var previous: Int64 = 0
        for sequence in sequences {
            var delta = UInt64(bitPattern: sequence - previous)
            previous = sequence
            repeat {
                let low = UInt8(delta & 0x7F)
                delta >>= 7
                out.append(delta == 0 ? low : low | 0x80)
            } while delta != 0
        }
        return out
    }

    /// nil if the bytes are not a valid encoding (a truncated or overlong varint).
    static func decode(_ data: Data) -> [Int64]? {
        var out: [Int64] = []
        var value: UInt64 = 0, shift: UInt64 = 0, previous: Int64 = 0
        for byte in data {
            guard shift < 64 else { return nil }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                previous &+= Int64(bitPattern: value)
                out.append(previous)
                value = 0
                shift = 0
            } else {
                shift += 7
            }
        }
        return shift == 0 ? out : nil
    }
}
