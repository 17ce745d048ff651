import AccordCore
import Foundation
import GRDB

/// Proof that one recorded decision is in the trail a signed checkpoint commits to. Verifiable offline from
/// the proof alone and the trail's public key: no database needed.
public struct InclusionProof: Sendable, Equatable {
    public var decisionID: String
    /// 0-based position of the record (its sequence minus one).
    public var leafIndex: Int
    /// The record's hash (hex): the Merkle leaf.
    public var recordHash: String
    /// The record's canonical encoding (hex): what the hash is of, so that the proof is about this decision.
    public var record: String
    public var auditPath: [String]
    public var checkpoint: Checkpoint

    /// Checks that the record hashes to the leaf and names this decision at this position, the signature on
    /// the checkpoint, and the audit path up to its root. `publicKey` pins the expected signer; without it,
    /// the key named in the proof is used.
    public func verify(publicKey expected: String? = nil) -> Bool {
        if let expected, expected != checkpoint.publicKey { return false }
        guard checkpoint.signatureHolds, let leaf = Data(hex: recordHash), let root = Data(hex: checkpoint.root),
            let path = [Data](hex: auditPath), let bytes = Data(hex: record),
            bytes.withUnsafeBytes({ FastSHA256.hash($0) }).data == leaf,
            let header = CanonicalEncoder.header(of: [UInt8](bytes)),
            header.decisionID == decisionID, header.sequence == Int64(leafIndex) + 1
        else { return false }
        return MerkleTree.verifyInclusion(leaf: leaf, index: leafIndex, size: Int(checkpoint.size), proof: path, root: root)
    }

    public var json: JSONValue {
        .object([
            ("type", .string("inclusion")), ("decision_id", .string(decisionID)), ("leaf_index", .int(leafIndex)),
            ("record_hash", .string(recordHash)), ("record", .string(record)), ("audit_path", .array(auditPath.map(JSONValue.string))),
            ("checkpoint", checkpoint.json),
        ])
    }

    /// Reads a proof from its JSON form; nil if a field is missing or of the wrong type.
    public init?(json: [String: Any]) {
        guard json["type"] as? String == "inclusion", let decisionID = json["decision_id"] as? String,
            let leafIndex = json["leaf_index"] as? Int, let recordHash = json["record_hash"] as? String,
            let record = json["record"] as? String, let auditPath = json["audit_path"] as? [String],
            let checkpoint = (json["checkpoint"] as? [String: Any]).flatMap(Checkpoint.init(json:))
        else { return nil }
        self.init(
            decisionID: decisionID, leafIndex: leafIndex, recordHash: recordHash, record: record, auditPath: auditPath,
            checkpoint: checkpoint)
    }

    public init(decisionID: String, leafIndex: Int, recordHash: String, record: String, auditPath: [String], checkpoint: Checkpoint) {
        self.decisionID = decisionID
        self.leafIndex = leafIndex
        self.recordHash = recordHash
        self.record = record
        self.auditPath = auditPath
        self.checkpoint = checkpoint
    }
}

/// Proof that a later signed checkpoint extends an earlier one: the trail the first committed to is an
/// unchanged prefix of the trail the second commits to (nothing edited, removed or reordered in between).
public struct ConsistencyProof: Sendable, Equatable {
    public var old: Checkpoint
    public var new: Checkpoint
    public var path: [String]

    /// Checks both signatures and the path between the two roots; `publicKey` pins the expected signer.
    public func verify(publicKey expected: String? = nil) -> Bool {
        if let expected, expected != old.publicKey || expected != new.publicKey { return false }
        guard old.publicKey == new.publicKey, old.signatureHolds, new.signatureHolds,
            let oldRoot = Data(hex: old.root), let newRoot = Data(hex: new.root), let proof = [Data](hex: path)
        else { return false }
        return MerkleTree.verifyConsistency(
            oldSize: Int(old.size), newSize: Int(new.size), oldRoot: oldRoot, newRoot: newRoot, proof: proof)
    }

    public var json: JSONValue {
        .object([
            ("type", .string("consistency")), ("old", old.json), ("new", new.json),
            ("consistency_path", .array(path.map(JSONValue.string))),
        ])
    }

    public init?(json: [String: Any]) {
        guard json["type"] as? String == "consistency",
            let old = (json["old"] as? [String: Any]).flatMap(Checkpoint.init(json:)),
            let new = (json["new"] as? [String: Any]).flatMap(Checkpoint.init(json:)),
            let path = json["consistency_path"] as? [String]
        else { return nil }
        self.init(old: old, new: new, path: path)
    }

    public init(old: Checkpoint, new: Checkpoint, path: [String]) {
        self.old = old
        self.new = new
        self.path = path
    }
}

extension SQLiteAuditTrail {
    /// An inclusion proof for a recorded decision against the latest checkpoint that covers it, or nil if
    /// the decision is not recorded or no checkpoint covers it yet.
    public func prove(decisionID: String) throws -> InclusionProof? {
        try queue.read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT \(Self.columns) FROM audit_record WHERE decision_id = ?", arguments: [decisionID]),
                case let stored = Self.record(row),
                let index = try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_record WHERE sequence < ?", arguments: [stored.sequence]),
                let checkpoint = try Self.checkpoints(db).last(where: { $0.size > Int64(index) })
            else { return nil }
            let leaves = try Self.hashes(db, count: checkpoint.size)
            guard leaves.count == Int(checkpoint.size) else { return nil }
            return InclusionProof(
                decisionID: decisionID, leafIndex: index, recordHash: leaves[index].hexString,
                record: Data(stored.canonicalEncoding).hexString,
                auditPath: MerkleTree.inclusionProof(index: index, leaves: leaves[...]).map(\.hexString),
                checkpoint: checkpoint)
        }
    }

    /// A consistency proof between two checkpoints (by id; the older one first), or nil if either is unknown,
    /// the first is larger than the second, or the records they cover are no longer all there.
    public func proveConsistency(from oldID: Int64, to newID: Int64) throws -> ConsistencyProof? {
        try queue.read { db in
            let checkpoints = try Self.checkpoints(db)
            guard let old = checkpoints.first(where: { $0.id == oldID }), let new = checkpoints.first(where: { $0.id == newID }),
                old.size > 0, old.size <= new.size
            else { return nil }
            let leaves = try Self.hashes(db, count: new.size)
            guard leaves.count == Int(new.size) else { return nil }
            return ConsistencyProof(
                old: old, new: new,
                path: MerkleTree.consistencyProof(oldSize: Int(old.size), leaves: leaves[...]).map(\.hexString))
        }
    }

    static func hashes(_ db: Database, count: Int64) throws -> [Data] {
        try Data.fetchAll(db, sql: "SELECT hash FROM audit_record ORDER BY sequence LIMIT ?", arguments: [count])
    }
}

extension [Data] {
    /// Hex strings decoded, or nil if any is not hex.
    init?(hex strings: [String]) {
        let decoded = strings.compactMap { Data(hex: $0) }
        guard decoded.count == strings.count else { return nil }
        self = decoded
    }
}
