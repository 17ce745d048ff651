import AccordCore
import Crypto
import Foundation

/// One recorded decision. Append-only: each record carries the previous record's hash and its own hash
/// over a canonical encoding, so an edit, a deletion or a reordering breaks the chain where it happened.
public struct AuditRecord: Sendable, Equatable {
    public var sequence: Int64
    public var decisionID: String
    public var recordedAt: Date
    public var revision: String
    public var actor: String
    public var purpose: String
    public var action: String
    /// Keyed HMAC-SHA256 pseudonym of the subject id; the clear id is never stored.
    public var subject: String
    public var jurisdiction: String?
    public var effect: String
    /// The per-resource outcomes as canonical JSON: resource, category, effect, reason codes, rule ids, obligations.
    public var resources: String
    public var processingRegion: String?
    public var previousHash: String
    public var hash: String
    /// HMAC over `hash` with a key only the engine holds: a record appended behind its back has none that verifies.
    public var mac: String

    /// The hash of the record's first entry's predecessor.
    public static let genesis = String(repeating: "0", count: 64)

    /// The bytes hashed: every field but the hash and MAC, in a fixed order, as compact JSON.
    public var canonicalEncoding: String {
        JSONValue.object([
            ("sequence", .int(Int(sequence))),
            ("decision_id", .string(decisionID)),
            ("recorded_at", .string(Timestamps.format(recordedAt))),
            ("revision", .string(revision)),
            ("actor", .string(actor)),
            ("purpose", .string(purpose)),
            ("action", .string(action)),
            ("subject", .string(subject)),
            ("jurisdiction", jurisdiction.map(JSONValue.string) ?? .null),
            ("effect", .string(effect)),
            ("resources", .string(resources)),
            ("processing_region", processingRegion.map(JSONValue.string) ?? .null),
            ("previous_hash", .string(previousHash)),
        ]).serialized()
    }

    /// SHA-256 of the canonical encoding (which includes the previous hash).
    public var computedHash: String {
        Data(SHA256.hash(data: Data(canonicalEncoding.utf8))).hexString
    }

    /// Builds the record for a decision, chained to `previousHash`; hash and MAC are filled in.
    static func make(
        sequence: Int64, decisionID: String, decision: Decision, request: DecisionRequest, subject: String,
        recordedAt: Date, previousHash: String, macKey: SymmetricKey
    ) -> AuditRecord {
        let resources = JSONValue.array(decision.resources.map { resource in
            .object([
                ("resource", .string(resource.resource)),
                ("category", resource.category.map(JSONValue.string) ?? .null),
                ("effect", .string(resource.effect.rawValue)),
                ("reasons", .array(resource.reasons.map { .string($0.code.rawValue) })),
                ("rules", .array(resource.reasons.compactMap { $0.rule.map { .string($0.id) } })),
            ])
        }).serialized()
        var record = AuditRecord(
            sequence: sequence, decisionID: decisionID, recordedAt: Date(timeIntervalSince1970: recordedAt.timeIntervalSince1970.rounded(.down)),
            revision: decision.revision, actor: request.actor.id, purpose: decision.purpose, action: decision.action, subject: subject,
            jurisdiction: decision.jurisdiction, effect: decision.effect.rawValue, resources: resources,
            processingRegion: request.context.processingRegion, previousHash: previousHash, hash: "", mac: "")
        record.hash = record.computedHash
        record.mac = Self.mac(record.hash, key: macKey)
        return record
    }

    static func mac(_ hash: String, key: SymmetricKey) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(hash.utf8), using: key)).hexString
    }
}

/// A signed commitment to the first `size` records: the RFC 6962 Merkle root of their hashes.
public struct Checkpoint: Sendable, Equatable {
    public var id: Int64
    public var size: Int64
    public var root: String
    public var createdAt: Date
    /// Ed25519 signature over `signedText`.
    public var signature: String
    public var publicKey: String

    /// What is signed: the size and root, in a form a verifier can rebuild.
    public var signedText: String { "accord-audit-checkpoint/v1\n\(size)\n\(root)\n" }
}
