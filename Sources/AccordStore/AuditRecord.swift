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
    public var canonicalEncoding: String { String(decoding: canonicalBytes, as: UTF8.self) }

    /// `canonicalEncoding` as bytes, written directly: this is on the path of every append and every verify.
    var canonicalBytes: [UInt8] {
        var out = CanonicalJSON(capacity: 256 + resources.utf8.count * 2)
        out.begin()
        out.field("sequence", number: sequence)
        out.field("decision_id", decisionID)
        out.field("recorded_at", Timestamps.format(recordedAt))
        out.field("revision", revision)
        out.field("actor", actor)
        out.field("purpose", purpose)
        out.field("action", action)
        out.field("subject", subject)
        out.field("jurisdiction", jurisdiction)
        out.field("effect", effect)
        out.field("resources", resources)
        out.field("processing_region", processingRegion)
        out.field("previous_hash", previousHash)
        out.end()
        return out.bytes
    }

    /// SHA-256 of the canonical encoding (which includes the previous hash).
    public var computedHash: String {
        Data(SHA256.hash(data: canonicalBytes)).hexString
    }

    /// Builds the record for a decision, chained to `previousHash`; hash and MAC are filled in.
    static func make(
        sequence: Int64, decisionID: String, decision: Decision, request: DecisionRequest, subject: String,
        recordedAt: Date, previousHash: String, macKey: RecordMAC
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
        record.mac = macKey.mac(record.hash)
        return record
    }

}

/// HMAC-SHA256 with the key schedule done once: each MAC starts from a copy of the keyed state.
struct RecordMAC: @unchecked Sendable {
    private let keyed: HMAC<SHA256>

    init(key: SymmetricKey) { keyed = HMAC<SHA256>(key: key) }

    func mac(_ hash: String) -> String {
        var hmac = keyed
        hmac.update(data: Data(hash.utf8))
        return Data(hmac.finalize()).hexString
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

/// Compact JSON for the canonical encoding, written byte by byte with the same escapes as `JSONValue`.
struct CanonicalJSON {
    private(set) var bytes: [UInt8] = []
    private var first = true

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func begin() { bytes.append(UInt8(ascii: "{")) }
    mutating func end() { bytes.append(UInt8(ascii: "}")) }

    private mutating func key(_ name: String) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        string(name)
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func field(_ name: String, number: Int64) {
        key(name)
        bytes.append(contentsOf: String(number).utf8)
    }

    mutating func field(_ name: String, _ value: String?) {
        key(name)
        if let value { string(value) } else { bytes.append(contentsOf: "null".utf8) }
    }

    private mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
