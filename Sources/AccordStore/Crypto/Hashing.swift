internal import CLibCrypto
import Crypto
import Foundation

// SHA-256 and HMAC-SHA256 for the append and verify loops, which run them several times per record. Hash states
// come from the system libcrypto's SHA-256 (our own CLibCrypto target): plain values on the stack, copied
// without allocating, and the keyed HMAC states are computed once per key. swift-crypto's types, whose states
// are copy-on-write objects, cost the batched appends about a third of their rate. A test checks both
// functions against swift-crypto's HMAC and SHA256.

/// A SHA-256-sized value held inline (no allocation per record).
struct SHA256Digest: Equatable, Hashable, Sendable {
    var words: (UInt64, UInt64, UInt64, UInt64)

    init(_ pointer: UnsafeRawPointer) {
        words = (
            pointer.loadUnaligned(as: UInt64.self), pointer.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
            pointer.loadUnaligned(fromByteOffset: 16, as: UInt64.self), pointer.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        )
    }

    init?(_ data: Data) {
        guard data.count == 32 else { return nil }
        self = data.withUnsafeBytes { SHA256Digest($0.baseAddress!) }
    }

    static let zero = SHA256Digest(Data(count: 32))!

    var data: Data { Swift.withUnsafeBytes(of: words) { Data(bytes: $0.baseAddress!, count: 32) } }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: words, body)
    }

    static func == (a: SHA256Digest, b: SHA256Digest) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    func hash(into hasher: inout Hasher) { hasher.combine(words.0) }
}

enum FastSHA256 {
    /// SHA-256 of the concatenated parts.
    static func hash(_ parts: UnsafeRawBufferPointer...) -> SHA256Digest {
        var state = HashState()
        for part in parts { state.update(part) }
        return state.finalize()
    }
}

/// A SHA-256 computation in progress, copyable as a value (to continue from a common prefix).
struct HashState {
    private var context = SHA256_CTX()

    init() { accord_sha256_init(&context) }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count > 0 { accord_sha256_update(&context, bytes.baseAddress, bytes.count) }
    }

    /// The digest of what was hashed so far; the state itself goes on unchanged.
    func finalize() -> SHA256Digest {
        var context = context
        var out = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        Swift.withUnsafeMutableBytes(of: &out) { accord_sha256_final($0.baseAddress!.assumingMemoryBound(to: UInt8.self), &context) }
        return Swift.withUnsafeBytes(of: out) { SHA256Digest($0.baseAddress!) }
    }

    /// A 32-byte field as the canonical encoding writes it: its length, then its bytes.
    mutating func update(field digest: SHA256Digest) {
        var length = UInt32(32).bigEndian
        Swift.withUnsafeBytes(of: &length) { update($0) }
        digest.withUnsafeBytes { update($0) }
    }
}

/// HMAC-SHA256 (RFC 2104) with the key schedule done once: each MAC starts from copies of the keyed states.
struct RecordMAC: Sendable {
    private var inner = HashState()
    private var outer = HashState()

    /// A key as one 64-byte block: zero-padded, or its digest when longer than a block.
    private typealias KeyBlock = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    /// For a 32-byte key held inline.
    init(key: SHA256Digest) {
        self.init(block: (key.words.0, key.words.1, key.words.2, key.words.3, 0, 0, 0, 0))
    }

    init(key: SymmetricKey) {
        var block: KeyBlock = (0, 0, 0, 0, 0, 0, 0, 0)
        key.withUnsafeBytes { bytes in
            Swift.withUnsafeMutableBytes(of: &block) { out in
                if bytes.count > 64 {
                    FastSHA256.hash(bytes).withUnsafeBytes { out.copyMemory(from: $0) }
                } else {
                    out.copyMemory(from: bytes)
                }
            }
        }
        self.init(block: block)
    }

    private init(block: KeyBlock) {
        var pad = block
        Swift.withUnsafeMutableBytes(of: &pad) { bytes in
            for i in 0..<64 { bytes[i] ^= 0x36 }
            inner.update(UnsafeRawBufferPointer(bytes))
            for i in 0..<64 { bytes[i] ^= 0x36 ^ 0x5C }
            outer.update(UnsafeRawBufferPointer(bytes))
        }
    }

    /// The MAC of `message`, without allocating.
    func digest(_ message: UnsafeRawBufferPointer) -> SHA256Digest {
        var inner = inner
        inner.update(message)
        var outer = outer
        inner.finalize().withUnsafeBytes { outer.update($0) }
        return outer.finalize()
    }

    func mac(_ message: Data) -> Data { message.withUnsafeBytes { digest($0) }.data }
}
