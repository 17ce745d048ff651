import AccordCore
import Crypto
import Foundation

/// One recorded decision. Append-only: each record carries the previous record's hash and its own hash
/// over a canonical encoding, so an edit, a deletion or a reordering breaks the chain where it happened.
public struct AuditRecord: Sendable, Equatable {
    public var sequence: Int64
    public var decisionID: String
    /// Whole seconds, UTC.
    public var recordedAt: Date
    public var revision: String
    public var actor: String
    public var purpose: String
    public var action: String
    /// HMAC-SHA256 of the decision id under the subject's own key: binds the record to its subject while the
    /// key exists, and to no one once `erase(subject:)` has destroyed it. Neither the clear id nor the
    /// pseudonym is in the record.
    public var subjectSeal: Data
    public var jurisdiction: String?
    public var effect: String
    /// The per-resource outcomes as compact JSON: resource, category, effect, reason codes, rule ids, obligations.
    public var resources: String
    public var processingRegion: String?
    public var previousHash: Data
    public var hash: Data
    /// HMAC over `hash` with a key only the engine holds: a record appended behind its back has none that verifies.
    public var mac: Data

    /// The predecessor hash of the first record.
    public static let genesis = Data(count: 32)

    /// The bytes hashed: every field but the hash and MAC, in a fixed order (the subject seal and previous hash
    /// last), each as a 4-byte big-endian length and its bytes (0xFFFFFFFF for an absent value), after a
    /// version tag. Unambiguous: no two records share one.
    public var canonicalEncoding: [UInt8] {
        var encoder = CanonicalEncoder(capacity: 160 + resources.utf8.count)
        encode(into: &encoder)
        return encoder.bytes
    }

    private func encode(into encoder: inout CanonicalEncoder) {
        encodeBody(into: &encoder)
        encoder.appendChain(subjectSeal: subjectSeal, previousHash: previousHash)
    }

    func encodeBody(into encoder: inout CanonicalEncoder) {
        encoder.appendBody(
            sequence: sequence, decisionID: decisionID, recordedAt: Int64(recordedAt.timeIntervalSince1970), revision: revision,
            actor: actor, purpose: purpose, action: action, jurisdiction: jurisdiction, effect: effect, resources: resources,
            processingRegion: processingRegion)
    }

    /// SHA-256 of the canonical encoding (which includes the previous hash).
    public var computedHash: Data { canonicalEncoding.withUnsafeBytes { FastSHA256.hash($0) }.data }

    /// The record before chaining (no seal, previous hash, hash or MAC yet), and the SHA-256 state after
    /// its tag and body: chaining only adds the last two fields.
    static func unchained(sequence: Int64, entry: AuditEntry, recordedAt: Int64, encoder: inout CanonicalEncoder) -> (
        AuditRecord, HashState
    ) {
        let record = AuditRecord(
            sequence: sequence, decisionID: entry.decisionID, recordedAt: Date(timeIntervalSince1970: Double(recordedAt)),
            revision: entry.decision.revision, actor: entry.request.actor.id, purpose: entry.decision.purpose,
            action: entry.decision.action, subjectSeal: Data(), jurisdiction: entry.decision.jurisdiction,
            effect: entry.decision.effect.rawValue, resources: resourcesJSON(entry.decision.resources),
            processingRegion: entry.request.context.processingRegion, previousHash: Data(), hash: Data(), mac: Data())
        encoder.clear()
        encoder.beginRecord()
        record.encodeBody(into: &encoder)
        var state = HashState()
        encoder.bytes.withUnsafeBytes { state.update($0) }
        return (record, state)
    }

    /// The resources column: written directly, as this is on the path of every append.
    static func resourcesJSON(_ resources: [ResourceDecision]) -> String {
        var out = JSONBytes(capacity: 96 * resources.count)
        var lastObligations = (value: Obligations(), json: [UInt8]())
        out.raw("[")
        for (i, resource) in resources.enumerated() {
            out.raw(i == 0 ? "{\"resource\":" : ",{\"resource\":")
            out.string(resource.resource)
            if let category = resource.category {
                out.raw(",\"category\":")
                out.string(category)
            }
            out.raw(",\"effect\":")
            out.string(resource.effect.rawValue)
            out.raw(",\"reasons\":[")
            for (j, reason) in resource.reasons.enumerated() {
                if j > 0 { out.raw(",") }
                out.string(reason.code.rawValue)
            }
            out.raw("],\"rules\":[")
            var first = true
            for reason in resource.reasons {
                guard let rule = reason.rule else { continue }
                if !first { out.raw(",") }
                first = false
                out.string(rule.id)
            }
            out.raw("]")
            if !resource.obligations.isEmpty {
                // Resources of one decision mostly share their obligations: serialised once.
                if resource.obligations != lastObligations.value {
                    lastObligations = (resource.obligations, Array(resource.obligations.json.serialized().utf8))
                }
                out.raw(",\"obligations\":")
                out.append(lastObligations.json)
            }
            if !resource.consentEvents.isEmpty {
                out.raw(",\"consent_events\":")
                out.integers(resource.consentEvents)
            }
            if let epsilon = resource.epsilonSpent {
                out.raw(",\"epsilon_spent\":")
                out.value(.double(epsilon))
            }
            out.raw("}")
        }
        out.raw("]")
        return String(decoding: out.bytes, as: UTF8.self)
    }
}

/// Keys of the subject index (`audit_subject`); `TermKey` keys the postings.
enum AuditTerm {
    /// The pseudonym's first 8 bytes as a big-endian integer.
    static func subjectTag(_ pseudonym: Data) -> Int64 {
        Int64(bitPattern: pseudonym.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    }

    /// The `audit_subject` partition a record's entry goes to.
    static func subjectBucket(_ sequence: Int64) -> Int64 { sequence >> 12 }
}

/// A lookup term before it is written: its kind and value, kept apart so that gathering a commit's
/// postings hashes the value in place instead of building a string per record.
struct TermKey: Hashable, Sendable {
    enum Kind: String, Sendable {
        case actor = "a:", purpose = "p:", action = "c:", effect = "e:", revision = "v:", reason = "r:", rule = "u:"
    }

    let kind: Kind
    let value: Substring

    init(_ kind: Kind, _ value: Substring) {
        self.kind = kind
        self.value = value
    }

    init(_ kind: Kind, _ value: String) { self.init(kind, value[...]) }

    /// As stored in `audit_term.term`.
    var text: String { kind.rawValue + value }
}

/// The canonical encoding, written field by field.
struct CanonicalEncoder {
    private(set) var bytes: [UInt8] = []

    static let tag = Array("accord-audit-record/v1\n".utf8)

    init(capacity: Int, tagged: Bool = true) {
        bytes.reserveCapacity(capacity)
        if tagged { bytes.append(contentsOf: Self.tag) }
    }

    /// Everything known before the record is chained, in order.
    mutating func appendBody(
        sequence: Int64, decisionID: String, recordedAt: Int64, revision: String, actor: String, purpose: String, action: String,
        jurisdiction: String?, effect: String, resources: String, processingRegion: String?
    ) {
        integer(sequence)
        text(decisionID)
        integer(recordedAt)
        text(revision)
        text(actor)
        text(purpose)
        text(action)
        text(jurisdiction)
        text(effect)
        text(resources)
        text(processingRegion)
    }

    /// What chaining adds last: the subject seal and the previous record's hash.
    mutating func appendChain(subjectSeal: Data, previousHash: Data) {
        blob(subjectSeal)
        blob(previousHash)
    }

    private mutating func length(_ count: Int) { bigEndian(UInt64(truncatingIfNeeded: count), bytes: 4) }

    mutating func integer(_ value: Int64) {
        length(8)
        bigEndian(UInt64(bitPattern: value), bytes: 8)
    }

    private mutating func bigEndian(_ value: UInt64, bytes count: Int) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0.suffix(count)) }
    }

    mutating func text(_ value: String?) {
        guard var value else { return absent() }
        value.withUTF8 { utf8 in
            length(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func blob(_ value: Data) {
        length(value.count)
        bytes.append(contentsOf: value)
    }

    /// The same for a column read raw from SQLite.
    mutating func raw(_ pointer: UnsafeRawPointer?, count: Int, isNull: Bool) {
        if isNull { return absent() }
        length(count)
        if let pointer { bytes.append(contentsOf: UnsafeRawBufferPointer(start: pointer, count: count)) }
    }

    mutating func absent() { bigEndian(0xFFFF_FFFF, bytes: 4) }

    mutating func clear() { bytes.removeAll(keepingCapacity: true) }

    /// The sequence and decision id at the start of one record's encoding (after the tag), or nil if the bytes
    /// are not laid out that way.
    static func header(of bytes: [UInt8]) -> (sequence: Int64, decisionID: String)? {
        let t = tag.count
        guard bytes.count >= t + 16, Array(bytes[0..<t]) == tag, bytes[t..<(t + 4)].elementsEqual([0, 0, 0, 8]) else { return nil }
        let sequence = bytes[(t + 4)..<(t + 12)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let length = bytes[(t + 12)..<(t + 16)].reduce(0) { $0 << 8 | Int($1) }
        guard length <= bytes.count - (t + 16) else { return nil }
        return (Int64(bitPattern: sequence), String(decoding: bytes[(t + 16)..<(t + 16 + length)], as: UTF8.self))
    }

    /// Starts another record after the ones already encoded (records laid back to back).
    mutating func beginRecord() { bytes.append(contentsOf: Self.tag) }
}

/// A signed commitment to the first `size` records: the RFC 6962 Merkle root of their hashes.
public struct Checkpoint: Sendable, Equatable {
    public var id: Int64
    public var size: Int64
    /// Hex SHA-256.
    public var root: String
    public var createdAt: Date
    /// Hex Ed25519 signature over `signedText`.
    public var signature: String
    public var publicKey: String

    /// What is signed: the size and root, in a form a verifier can rebuild.
    public var signedText: String { "accord-audit-checkpoint/v1\n\(size)\n\(root)\n" }

    /// Whether the signature over size and root holds for the key the checkpoint names.
    public var signatureHolds: Bool {
        guard let keyData = Data(hex: publicKey), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyData),
            let signature = Data(hex: signature)
        else { return false }
        return key.isValidSignature(signature, for: Data(signedText.utf8))
    }

    var json: JSONValue {
        .object([
            ("id", .int(Int(id))), ("size", .int(Int(size))), ("root", .string(root)),
            ("created_at", .string(Timestamps.format(createdAt))), ("signature", .string(signature)),
            ("public_key", .string(publicKey)),
        ])
    }

    init?(json: [String: Any]) {
        guard let id = json["id"] as? Int, let size = json["size"] as? Int, let root = json["root"] as? String,
            let signature = json["signature"] as? String, let publicKey = json["public_key"] as? String,
            let createdAt = (json["created_at"] as? String).flatMap(Timestamps.parse)
        else { return nil }
        self.init(id: Int64(id), size: Int64(size), root: root, createdAt: createdAt, signature: signature, publicKey: publicKey)
    }

    public init(id: Int64, size: Int64, root: String, createdAt: Date, signature: String, publicKey: String) {
        self.id = id
        self.size = size
        self.root = root
        self.createdAt = createdAt
        self.signature = signature
        self.publicKey = publicKey
    }
}
