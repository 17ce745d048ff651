import AccordCore
import AccordStore
import Crypto
import Foundation

// MARK: - Masks and content hashes

extension FeatureGate {
    /// A value under a mask: `redact` removes it; `hash` replaces it with the SHA-256 of its text (stable, so it
    /// can still join and count — but a value from a small set, an age or a postcode, can be found again by
    /// hashing every candidate: use `redact` for those); `truncate` keeps a string's first four characters
    /// (shorter strings are removed) and a number's two leading digits.
    static func masked(_ value: FeatureValue, _ mask: MaskStrategy?) -> FeatureValue? {
        switch mask {
        case nil: return value
        case .redact: return nil
        case .hash: return .string("sha256:" + Self.hex(SHA256.hash(data: Data(value.description.utf8))))
        case .truncate:
            switch value {
            case .string(let text): return text.count <= 4 ? nil : .string(String(text.prefix(4)))  // a short string would stay whole
            case .int(let number): return .int(Self.twoDigits(number))
            case .double(let number):
                guard number != 0, number.isFinite else { return value }
                let scale = pow(10, floor(log10(abs(number))) - 1)
                return .double((number / scale).rounded(.towardZero) * scale)
            case .bool: return value
            }
        }
    }

    static func twoDigits(_ number: Int64) -> Int64 {
        var scale: Int64 = 1
        while (number / scale).magnitude >= 100 { scale *= 10 }
        return number / scale * scale
    }

    /// SHA-256 over rows, each as its entity, feature, event time (Unix seconds) and value, every field ended
    /// by a zero byte; fed in blocks rather than row by row.
    struct ContentHash {
        private var hasher = SHA256()
        private var buffer: [UInt8] = []

        mutating func add(_ row: FeatureRow) {
            for part in [row.entity, row.feature, String(Int64(row.eventTime.timeIntervalSince1970.rounded(.down))), row.value.description]
            {
                buffer.append(contentsOf: part.utf8)
                buffer.append(0)
            }
            if buffer.count >= 1 << 16 {
                hasher.update(data: buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }

        mutating func finish() -> String {
            hasher.update(data: buffer)
            return FeatureGate.hex(hasher.finalize())
        }
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in digest { out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 0xF)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
