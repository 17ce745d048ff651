import AccordCore
import Crypto
import Foundation
import GRDB
import GRDBSQLite

extension SQLiteAuditTrail {
    // MARK: - Erasure

    /// Crypto-shredding: destroys the subject's seal key and index entries, and removes their consent history,
    /// their own budget spends, their place in training-set lineage and their values in the embedded feature
    /// store (overwritten on disk, the WAL checkpointed and truncated), so their records stay in the chain —
    /// every hash, checkpoint and proof still verifies — but can no longer be found or tied to them. Returns
    /// how many records that covered.
    @discardableResult
    public func erase(subject: String, at instant: Date = Date()) throws -> Int {
        try erasure(of: subject, at: instant).records
    }

    /// What an erasure removed, per store.
    public struct ErasureReceipt: Sendable, Equatable {
        /// Audit records that can no longer be found or tied to the subject (they stay in the chain).
        public var records: Int
        public var consentEvents: Int
        public var budgetSpends: Int
        public var trainingSetMemberships: Int
        /// Rows of the embedded feature store (`feature_value`) keyed by the subject's id.
        public var featureValues: Int
    }

    /// Erases `subject` everywhere this database keeps them, in one transaction, and says what went (see
    /// `erase(subject:at:)`).
    public func erasure(of subject: String, at instant: Date = Date()) throws -> ErasureReceipt {
        let pseudonym = pseudonymizer.pseudonym(for: subject)
        let receipt = try health.guarding {
            try queue.write { db -> ErasureReceipt in
                let tag = AuditTerm.subjectTag(pseudonym)
                let count = try Self.sealedSequences(db, pseudonym: pseudonym).count
                try db.execute(sql: "DELETE FROM subject_key WHERE pseudonym = ?", arguments: [pseudonym])
                try db.execute(sql: "DELETE FROM subject_key_recent WHERE pseudonym = ?", arguments: [pseudonym])
                // Every index entry under the tag goes, forged ones included, so that the tag itself is gone (another
                // subject sharing all 8 bytes of it, a one-in-2^64 chance, would have to be found by a scan).
                let last = try Int64.fetchOne(db, sql: "SELECT max(sequence) FROM audit_record") ?? 0
                try db.execute(sql: "INSERT INTO erasure_in_progress (pseudonym) VALUES (?)", arguments: [pseudonym])
                let delete = try db.cachedStatement(sql: "DELETE FROM audit_subject WHERE bucket = ? AND tag = ?")
                for bucket in 0...AuditTerm.subjectBucket(last) { try delete.execute(arguments: [bucket, tag]) }
                // Their consent history and their own budget spends go too: both are keyed by the pseudonym, and
                // the audit records cite the consent events.
                try db.execute(sql: "DELETE FROM consent_event WHERE subject = ?", arguments: [pseudonym])
                let consentEvents = db.changesCount
                try db.execute(sql: "DELETE FROM budget_spend WHERE budget LIKE ?", arguments: ["%#" + pseudonym.hexString])
                let budgetSpends = db.changesCount
                try db.execute(sql: "DELETE FROM erasure_in_progress WHERE pseudonym = ?", arguments: [pseudonym])
                // And their place in training-set lineage (`accord lineage` before erasing shows the models to retrain).
                try db.execute(sql: "DELETE FROM training_subject WHERE pseudonym = ?", arguments: [pseudonym])
                let memberships = db.changesCount
                // And the values the embedded feature store holds under their clear id (the one table keyed by it).
                try db.execute(sql: "DELETE FROM feature_value WHERE entity_key = ?", arguments: [subject])
                let featureValues = db.changesCount
                let id = (try Int64.fetchOne(db, sql: "SELECT max(id) FROM audit_erasure") ?? 0) + 1
                let erasedAt = Int64(instant.timeIntervalSince1970)
                try db.execute(
                    sql: "INSERT INTO audit_erasure (id, erased_at, records, mac) VALUES (?, ?, ?, ?)",
                    arguments: [id, erasedAt, count, Self.erasureMAC(id: id, erasedAt: erasedAt, records: Int64(count), key: macKey)])
                sealKeys.remove(tag: tag)
                return ErasureReceipt(
                    records: count, consentEvents: consentEvents, budgetSpends: budgetSpends,
                    trainingSetMemberships: memberships, featureValues: featureValues)
            }
        }
        try truncateWAL()
        return receipt
    }

    /// Old page images holding the key or the clear id may still sit in the WAL: copy back and truncate it.
    /// Deleted rows are zeroed in the file itself (`secure_delete`); `feature_value` is a WITHOUT ROWID table, a
    /// B-tree whose interior cells are entries themselves rather than copies of keys, so no divider is left behind.
    func truncateWAL() throws {
        // A reader on another connection can hold the WAL back for a moment; after that the erasure is reported incomplete.
        for attempt in 0..<50 {
            let result = try queue.writeWithoutTransaction { db in try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
            if let result, (result[0] as Int?) == 0, (result[1] as Int?) == (result[2] as Int?) { return }
            if attempt < 49 { usleep(20_000) }
        }
        throw StoreError.unavailable(
            "the subject's key is deleted, but the write-ahead log could not be truncated (another "
                + "connection is reading): old copies of it may stay in \(path)-wal until the next checkpoint")
    }
}
