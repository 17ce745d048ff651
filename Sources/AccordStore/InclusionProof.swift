import AccordCore
import Crypto
import Foundation

/// Proof that one recorded decision is in the trail a signed checkpoint commits to. Verifiable offline from
/// the proof alone and the trail's public key: no database needed.
public struct InclusionProof: Sendable, Equatable {
    public var decisionID: String
    /// 0-based position of the record (its sequence minus one).
    public var leafIndex: Int
    /// The record's hash: the Merkle leaf.
    public var recordHash: String
    public var auditPath: [String]
    public var checkpoint: Checkpoint

    /// Checks the signature on the checkpoint and the audit path up to its root. `publicKey` pins the
    /// expected signer; without it, the key named in the proof is used.
    public func verify(publicKey expected: String? = nil) -> Bool {
        if let expected, expected != checkpoint.publicKey { return false }
        guard let keyData = Data(hex: checkpoint.publicKey), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyData),
              let signature = Data(hex: checkpoint.signature), key.isValidSignature(signature, for: Data(checkpoint.signedText.utf8)),
              let leaf = Data(hex: recordHash), let root = Data(hex: checkpoint.root)
        else { return false }
        let path = auditPath.compactMap { Data(hex: $0) }
        guard path.count == auditPath.count else { return false }
        return MerkleTree.verifyInclusion(leaf: leaf, index: leafIndex, size: Int(checkpoint.size), proof: path, root: root)
    }

    public var json: [String: Any] {
        ["decision_id": decisionID, "leaf_index": leafIndex, "record_hash": recordHash, "audit_path": auditPath,
         "checkpoint": ["id": Int(checkpoint.id), "size": Int(checkpoint.size), "root": checkpoint.root,
                        "created_at": Timestamps.format(checkpoint.createdAt),
                        "signature": checkpoint.signature, "public_key": checkpoint.publicKey]]
    }

    /// Reads a proof from its JSON form; nil if a field is missing or of the wrong type.
    public init?(json: [String: Any]) {
        guard let decisionID = json["decision_id"] as? String, let leafIndex = json["leaf_index"] as? Int,
              let recordHash = json["record_hash"] as? String, let auditPath = json["audit_path"] as? [String],
              let c = json["checkpoint"] as? [String: Any], let id = c["id"] as? Int, let size = c["size"] as? Int,
              let root = c["root"] as? String, let signature = c["signature"] as? String, let publicKey = c["public_key"] as? String,
              let createdAt = (c["created_at"] as? String).flatMap(Timestamps.parse)
        else { return nil }
        self.init(decisionID: decisionID, leafIndex: leafIndex, recordHash: recordHash, auditPath: auditPath,
                  checkpoint: Checkpoint(id: Int64(id), size: Int64(size), root: root, createdAt: createdAt,
                                         signature: signature, publicKey: publicKey))
    }

    public init(decisionID: String, leafIndex: Int, recordHash: String, auditPath: [String], checkpoint: Checkpoint) {
        self.decisionID = decisionID
        self.leafIndex = leafIndex
        self.recordHash = recordHash
        self.auditPath = auditPath
        self.checkpoint = checkpoint
    }
}

extension SQLiteAuditTrail {
    /// An inclusion proof for a recorded decision against the latest checkpoint that covers it, or nil if
    /// the decision is not recorded or no checkpoint covers it yet.
    public func prove(decisionID: String) throws -> InclusionProof? {
        let records = try records()
        guard let index = records.firstIndex(where: { $0.decisionID == decisionID }),
              let checkpoint = try checkpoints().last(where: { $0.size > Int64(index) && $0.size <= Int64(records.count) })
        else { return nil }
        let leaves = records.prefix(Int(checkpoint.size)).map { Data(hex: $0.hash) ?? Data() }
        let path = MerkleTree.inclusionProof(index: index, leaves: leaves[...]).map(\.hexString)
        return InclusionProof(decisionID: decisionID, leafIndex: index, recordHash: records[index].hash, auditPath: path, checkpoint: checkpoint)
    }
}
