import Crypto
import Foundation

#if canImport(CCryptoBoringSSL)
    internal import CCryptoBoringSSL
#endif

// SHA-256 and HMAC-SHA256 for the append and verify loops, which run them several times per record. Where
// swift-crypto is built on BoringSSL (Linux), its C interface is called directly: hash states are plain values
// on the stack, copied without allocating, and the keyed HMAC states are computed once per key. Elsewhere
// swift-crypto's own types do the same work. A test checks both against swift-crypto's HMAC and SHA256.

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
        #if canImport(CCryptoBoringSSL)
            var context = SHA256_CTX()
            CCryptoBoringSSL_SHA256_Init(&context)
            for part in parts where part.count > 0 { CCryptoBoringSSL_SHA256_Update(&context, part.baseAddress, part.count) }
            return finish(&context)
        #else
            var hasher = SHA256()
            for part in parts { hasher.update(bufferPointer: part) }
            return hasher.finalize().withUnsafeBytes { SHA256Digest($0.baseAddress!) }
        #endif
    }

    #if canImport(CCryptoBoringSSL)
        static func finish(_ context: inout SHA256_CTX) -> SHA256Digest {
            var out = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
            Swift.withUnsafeMutableBytes(of: &out) {
                _ = CCryptoBoringSSL_SHA256_Final($0.baseAddress!.assumingMemoryBound(to: UInt8.self), &context)
            }
            return Swift.withUnsafeBytes(of: out) { SHA256Digest($0.baseAddress!) }
        }
    #endif
}

/// A SHA-256 computation in progress, copyable as a value (to continue from a common prefix).
struct HashState {
    #if canImport(CCryptoBoringSSL)
        private var context = SHA256_CTX()
        init() { CCryptoBoringSSL_SHA256_Init(&context) }
        mutating func update(_ bytes: UnsafeRawBufferPointer) {
            if bytes.count > 0 { CCryptoBoringSSL_SHA256_Update(&context, bytes.baseAddress, bytes.count) }
        }
        func finalize() -> SHA256Digest {
            var context = context
            return FastSHA256.finish(&context)
        }
    #else
        private var hasher = SHA256()
        init() {}
        mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }
        func finalize() -> SHA256Digest { hasher.finalize().withUnsafeBytes { SHA256Digest($0.baseAddress!) } }
    #endif

    /// A 32-byte field as the canonical encoding writes it: its length, then its bytes.
    mutating func update(field digest: SHA256Digest) {
        var length = UInt32(32).bigEndian
        Swift.withUnsafeBytes(of: &length) { update($0) }
        digest.withUnsafeBytes { update($0) }
    }
}

/// HMAC-SHA256 with the key schedule done once: each MAC starts from copies of the keyed states.
struct RecordMAC: @unchecked Sendable {
    #if canImport(CCryptoBoringSSL)
        private var inner = SHA256_CTX()
        private var outer = SHA256_CTX()
    #else
        private let keyed: HMAC<SHA256>
    #endif

    /// For a 32-byte key held inline.
    init(key: SHA256Digest) {
        #if canImport(CCryptoBoringSSL)
            var block = (key.words.0, key.words.1, key.words.2, key.words.3, UInt64(0), UInt64(0), UInt64(0), UInt64(0))
            Swift.withUnsafeMutableBytes(of: &block) { bytes in
                for i in 0..<64 { bytes[i] ^= 0x36 }
                CCryptoBoringSSL_SHA256_Init(&inner)
                CCryptoBoringSSL_SHA256_Update(&inner, bytes.baseAddress, 64)
                for i in 0..<64 { bytes[i] ^= 0x36 ^ 0x5C }
                CCryptoBoringSSL_SHA256_Init(&outer)
                CCryptoBoringSSL_SHA256_Update(&outer, bytes.baseAddress, 64)
            }
        #else
            self.init(key: SymmetricKey(data: key.data))
        #endif
    }

    init(key: SymmetricKey) {
        #if canImport(CCryptoBoringSSL)
            var block = [UInt8](repeating: 0, count: 64)
            key.withUnsafeBytes { bytes in
                if bytes.count > 64 {
                    FastSHA256.hash(bytes).withUnsafeBytes { for (i, byte) in $0.enumerated() { block[i] = byte } }
                } else {
                    for (i, byte) in bytes.enumerated() { block[i] = byte }
                }
            }
            CCryptoBoringSSL_SHA256_Init(&inner)
            CCryptoBoringSSL_SHA256_Init(&outer)
            let innerPad = block.map { $0 ^ 0x36 }, outerPad = block.map { $0 ^ 0x5C }
            CCryptoBoringSSL_SHA256_Update(&inner, innerPad, 64)
            CCryptoBoringSSL_SHA256_Update(&outer, outerPad, 64)
        #else
            keyed = HMAC<SHA256>(key: key)
        #endif
    }

    /// The MAC of `message`, without allocating.
    func digest(_ message: UnsafeRawBufferPointer) -> SHA256Digest {
        #if canImport(CCryptoBoringSSL)
            var context = inner
            if message.count > 0 { CCryptoBoringSSL_SHA256_Update(&context, message.baseAddress, message.count) }
            let innerDigest = FastSHA256.finish(&context)
            var outerContext = outer
            innerDigest.withUnsafeBytes { _ = CCryptoBoringSSL_SHA256_Update(&outerContext, $0.baseAddress, 32) }
            return FastSHA256.finish(&outerContext)
        #else
            var hmac = keyed
            hmac.update(bufferPointer: message)
            return hmac.finalize().withUnsafeBytes { SHA256Digest($0.baseAddress!) }
        #endif
    }

    func mac(_ message: Data) -> Data { message.withUnsafeBytes { digest($0) }.data }
}
