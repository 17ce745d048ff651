import AccordTestSupport
import Crypto
import Foundation
import Testing

@testable import AccordStore

/// The trail's own SHA-256 and HMAC-SHA256 (over the system libcrypto, states copied as values) give what
/// swift-crypto gives for every message length around the block boundaries and for keys of every kind.
struct HashingTests {
    static let lengths = [0, 1, 31, 32, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 4099]

    static func bytes(_ count: Int, seed: UInt8) -> Data { Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) ^ seed }) }

    @Test func sha256AgreesWithSwiftCrypto() {
        for length in Self.lengths {
            let message = Self.bytes(length, seed: 7)
            let expected = Data(SHA256.hash(data: message))
            #expect(message.withUnsafeBytes { FastSHA256.hash($0) }.data == expected, "\(length) bytes")
            // Split in two parts, and continued from a copied state: the same digest.
            let cut = length / 3
            let split = message.prefix(cut).withUnsafeBytes { a in message.dropFirst(cut).withUnsafeBytes { b in FastSHA256.hash(a, b) } }
            #expect(split.data == expected, "\(length) bytes in two parts")
            var prefix = HashState()
            message.prefix(cut).withUnsafeBytes { prefix.update($0) }
            var copy = prefix
            message.dropFirst(cut).withUnsafeBytes { copy.update($0) }
            #expect(copy.finalize().data == expected, "continued from a copy")
            #expect(prefix.finalize().data == Data(SHA256.hash(data: message.prefix(cut))), "the copied-from state unchanged")
        }
    }

    @Test func hmacAgreesWithSwiftCrypto() {
        let digestKey = SHA256Digest(Self.bytes(32, seed: 99))!
        let keys: [(RecordMAC, SymmetricKey)] =
            [(RecordMAC(key: digestKey), SymmetricKey(data: digestKey.data))]
            + [0, 16, 32, 63, 64, 65, 200].map { count in
                let key = SymmetricKey(data: Self.bytes(count, seed: UInt8(count)))
                return (RecordMAC(key: key), key)
            }
        for (mac, key) in keys {
            for length in Self.lengths {
                let message = Self.bytes(length, seed: 3)
                let expected = Data(HMAC<SHA256>.authenticationCode(for: message, using: key))
                #expect(mac.mac(message) == expected, "key of \(key.bitCount / 8) bytes, message of \(length)")
                #expect(mac.mac(message) == expected, "the keyed state is reused unchanged")
            }
        }
    }
}
