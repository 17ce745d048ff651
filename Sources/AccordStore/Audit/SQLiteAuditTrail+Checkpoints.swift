import AccordCore
import Crypto
import Foundation
import GRDB
import GRDBSQLite

// MARK: - Checkpoints

extension SQLiteAuditTrail {
    /// Commits the Merkle root of every record so far, signed.
    @discardableResult
    public func checkpoint(at instant: Date = Date()) throws -> Checkpoint {
        try health.guarding { try writeCheckpoint(at: instant) }
    }

    func writeCheckpoint(at instant: Date) throws -> Checkpoint {
        try queue.write { db in
            // Start from the tree as the last checkpoint left it, if its records are still the first ones:
            // a checkpoint then costs the records since, not the whole trail.
            var tree = MerkleAccumulator()
            if let row = try Row.fetchOne(db, sql: "SELECT size, peaks FROM audit_merkle_state ORDER BY size DESC LIMIT 1"),
                let saved = Data.fromDatabaseValue(row[1]).flatMap(MerkleAccumulator.init(serialized:)),
                saved.size == (Int.fromDatabaseValue(row[0]) ?? -1),
                try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_record WHERE sequence <= ?", arguments: [saved.size]) == saved.size
            {
                tree = saved
            }
            let hashes = try Data.fetchCursor(
                db, sql: "SELECT hash FROM audit_record WHERE sequence > ? ORDER BY sequence",
                arguments: [tree.size])
            while let hash = try hashes.next() { tree.append(leafHash: MerkleTree.leafHash(hash)) }
            try db.execute(
                sql: "INSERT OR REPLACE INTO audit_merkle_state (size, peaks) VALUES (?, ?)",
                arguments: [tree.size, tree.serialized])
            var checkpoint = Checkpoint(
                id: 0, size: Int64(tree.size), root: tree.root.hexString,
                createdAt: Date(timeIntervalSince1970: instant.timeIntervalSince1970.rounded(.down)),
                signature: "", publicKey: publicKey)
            checkpoint.signature = try signingKey.signature(for: Data(checkpoint.signedText.utf8)).hexString
            try db.execute(
                sql: "INSERT INTO audit_checkpoint (size, root, created_at, signature, public_key) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    checkpoint.size, checkpoint.root, Timestamps.format(checkpoint.createdAt), checkpoint.signature,
                    checkpoint.publicKey,
                ])
            checkpoint.id = db.lastInsertedRowID
            return checkpoint
        }
    }
}
