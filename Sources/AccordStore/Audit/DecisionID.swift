import Foundation

/// Time-ordered decision ids in the UUIDv7 layout (RFC 9562): 48 bits of Unix milliseconds, the version and
/// variant bits, and 74 random bits — sortable by time, unique without coordination.
public enum DecisionID {
    private static let hex = Array("0123456789abcdef".utf8)

    public static func next(at instant: Date = Date()) -> String {
        var random = SystemRandomNumberGenerator()
        let millis = UInt64(max(0, instant.timeIntervalSince1970 * 1000))
        let (a, b) = (random.next() as UInt64, random.next() as UInt64)
        // 48 bits of time, version 7 and 12 random bits; then variant 0b10 and 62 random bits.
        let words = [millis << 16 | 0x7000 | (a & 0x0FFF), 0x8000_0000_0000_0000 | (b >> 2)]
        var out = [UInt8]()
        out.reserveCapacity(36)
        for n in 0..<32 {
            if n == 8 || n == 12 || n == 16 || n == 20 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(words[n / 16] >> UInt64(60 - 4 * (n % 16)) & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
