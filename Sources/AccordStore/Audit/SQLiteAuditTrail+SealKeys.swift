import AccordCore
import Crypto
import Foundation
import GRDB
import GRDBSQLite

// MARK: - Subject seal keys

extension SQLiteAuditTrail {
    /// The subject's seal key, created on first sight.
    func sealKey(for subject: Prepared, _ db: Database) throws -> RecordMAC {
        let pseudonym = SHA256Digest(subject.pseudonym)!
        if let key = sealKeys.key(tag: subject.tag, pseudonym: pseudonym) { return RecordMAC(key: key) }
        var key = try Self.subjectKey(db, pseudonym: subject.pseudonym)
        if key == nil {
            let fresh = randomPool.next32()
            try RawStatement(db, "INSERT INTO subject_key_recent (pseudonym, key) VALUES (?, ?)").run(db) { s in
                s.bind(subject.pseudonym); s.bind(fresh)
            }
            newKeys += 1
            keysCreatedInBatch.append(subject.tag)
            key = fresh
        }
        guard let digest = SHA256Digest(key!) else { throw StoreError.corruptIndex("a subject key is not 32 bytes") }
        sealKeys.insert(tag: subject.tag, pseudonym: pseudonym, key: digest)
        return RecordMAC(key: digest)
    }

    /// A subject's seal key, wherever it is kept; nil if they have none (never seen, or erased).
    static func subjectKey(_ db: Database, pseudonym: Data) throws -> Data? {
        if let key = try RawStatement(db, "SELECT key FROM subject_key_recent WHERE pseudonym = ?").blob(db, { $0.bind(pseudonym) }) {
            return key
        }
        return try RawStatement(db, "SELECT key FROM subject_key WHERE pseudonym = ?").blob(db) { $0.bind(pseudonym) }
    }

    /// Moves the recent keys into the main table in key order (each of its pages written once, not once per
    /// key), when enough have gathered.
    func mergeRecentKeysIfDue(_ db: Database) throws {
        guard newKeys >= 8_192 else { return }
        try db.execute(
            sql: """
                INSERT INTO subject_key (pseudonym, key) SELECT pseudonym, key FROM subject_key_recent ORDER BY pseudonym;
                DELETE FROM subject_key_recent;
                """)
        newKeys = 0
    }

    /// Another connection (an `erase` from another process) may have destroyed keys this one remembers.
    func forgetSealKeysIfChangedElsewhere(_ db: Database) throws {
        // Seal keys never change once made; they only disappear, by erasure. So only an erasure this connection
        // has not seen (the newest `audit_erasure` row) empties the cache — not every write by another store.
        let erasures = try Int64.fetchOne(db, sql: "SELECT max(id) FROM audit_erasure") ?? 0
        if erasures != seenErasure {
            sealKeys.removeAll()
            seenErasure = erasures
        }
    }
}
