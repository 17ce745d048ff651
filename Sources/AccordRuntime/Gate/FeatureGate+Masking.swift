import AccordCore
import AccordStore
import Crypto
import Foundation

// MARK: - Masks and content hashes

extension FeatureGate {
    /// A value under a mask, as `Obligations.masked(_:_:)` defines it for every caller (nil: removed).
    static func masked(_ value: FeatureValue, _ mask: MaskStrategy?) -> FeatureValue? {
        guard mask != nil else { return value }
        let json: JSONValue =
            switch value {
            case .int(let number): .int(Int(number))
            case .double(let number): .double(number)
            case .string(let text): .string(text)
            case .bool(let flag): .bool(flag)
            }
        switch Obligations.masked(json, mask) {
        case .int(let number)?: return .int(Int64(number))
        case .double(let number)?: return .double(number)
        case .string(let text)?: return .string(text)
        case .bool(let flag)?: return .bool(flag)
        default: return nil
        }
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
