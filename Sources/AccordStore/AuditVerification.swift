import Crypto
import Foundation

/// What `verify` found. Intact when there are no problems.
public struct AuditVerification: Sendable {
    public var records: Int
    public var checkpoints: Int
    public var problems: [AuditProblem]

    public var isIntact: Bool { problems.isEmpty }
}

/// One way the trail is not what the engine wrote.
public struct AuditProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case edited, missing, chainBroken = "chain_broken", forged, truncated, checkpointMismatch = "checkpoint_mismatch",
             conflictingCheckpoints = "conflicting_checkpoints", badSignature = "bad_signature"
    }

    public var kind: Kind
    /// The first record concerned, if one is.
    public var sequence: Int64?
    public var decisionID: String?
    public var message: String

    public var description: String {
        let at = sequence.map { "record \($0)" + (decisionID.map { " (\($0))" } ?? "") + ": " } ?? ""
        return "\(kind.rawValue): \(at)\(message)"
    }
}

/// Checks records and checkpoints as read from storage.
struct AuditVerifier {
    let macKey: RecordMAC
    let publicKey: String

    func verify(records: [AuditRecord], checkpoints: [Checkpoint]) -> AuditVerification {
        var problems: [AuditProblem] = []
        var expected: Int64 = 1
        var previous = AuditRecord.genesis
        for record in records {
            if record.sequence != expected {
                problems.append(AuditProblem(kind: .missing, sequence: expected, decisionID: nil,
                                             message: "records \(expected)…\(record.sequence - 1) are missing (deleted)"))
            }
            if record.previousHash != previous {
                problems.append(AuditProblem(kind: .chainBroken, sequence: record.sequence, decisionID: record.decisionID,
                                             message: "does not follow the record before it (records removed or reordered)"))
            }
            if record.computedHash != record.hash {
                problems.append(AuditProblem(kind: .edited, sequence: record.sequence, decisionID: record.decisionID,
                                             message: "its content no longer matches its hash (a field was changed)"))
            } else if macKey.mac(record.hash) != record.mac {
                problems.append(AuditProblem(kind: .forged, sequence: record.sequence, decisionID: record.decisionID,
                                             message: "was not written by this trail's engine (its MAC does not verify)"))
            }
            previous = record.hash
            expected = record.sequence + 1
        }
        let hashes = records.map { Data(hex: $0.hash) ?? Data() }
        var rootsBySize: [Int64: Checkpoint] = [:]
        for checkpoint in checkpoints {
            if let earlier = rootsBySize[checkpoint.size], earlier.root != checkpoint.root {
                problems.append(AuditProblem(kind: .conflictingCheckpoints, sequence: nil, decisionID: nil,
                                             message: "checkpoints \(earlier.id) and \(checkpoint.id) commit to different trees of \(checkpoint.size) records"))
            }
            rootsBySize[checkpoint.size] = rootsBySize[checkpoint.size] ?? checkpoint
            if !signatureHolds(checkpoint) {
                problems.append(AuditProblem(kind: .badSignature, sequence: nil, decisionID: nil,
                                             message: "checkpoint \(checkpoint.id) is not signed by this trail's key"))
            }
            if checkpoint.size > Int64(records.count) {
                problems.append(AuditProblem(kind: .truncated, sequence: Int64(records.count) + 1, decisionID: nil,
                                             message: "checkpoint \(checkpoint.id) covers \(checkpoint.size) records but only \(records.count) remain"))
            } else if MerkleTree.root(hashes.prefix(Int(checkpoint.size))).hexString != checkpoint.root {
                problems.append(AuditProblem(kind: .checkpointMismatch, sequence: nil, decisionID: nil,
                                             message: "checkpoint \(checkpoint.id) does not match records 1…\(checkpoint.size)"))
            }
        }
        return AuditVerification(records: records.count, checkpoints: checkpoints.count, problems: problems)
    }

    private func signatureHolds(_ checkpoint: Checkpoint) -> Bool {
        guard checkpoint.publicKey == publicKey, let keyData = Data(hex: checkpoint.publicKey),
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyData),
              let signature = Data(hex: checkpoint.signature)
        else { return false }
        return key.isValidSignature(signature, for: Data(checkpoint.signedText.utf8))
    }
}
