import Foundation

/// Ascending sequences as LEB128 deltas from zero: a commit's records carrying one term, in a few bytes each.
enum Postings {
    static func encode(_ sequences: [Int64]) -> Data { encode(sequences.map { Int($0) }, from: 0) }

    /// The sequences `base + offset` for ascending `offsets`.
    static func encode(_ offsets: [Int], from base: Int64) -> Data {
        var out: [UInt8] = []
        out.reserveCapacity(offsets.count * 2)
        var previous: Int64 = 0
        for offset in offsets {
            let sequence = base + Int64(offset)
            var delta = UInt64(bitPattern: sequence - previous)
            previous = sequence
            repeat {
                let low = UInt8(delta & 0x7F)
                delta >>= 7
                out.append(delta == 0 ? low : low | 0x80)
            } while delta != 0
        }
        return Data(out)
    }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var value = value
        repeat {
            let low = UInt8(value & 0x7F)
            value >>= 7
            out.append(value == 0 ? low : low | 0x80)
        } while value != 0
    }

    /// A pending row: (term, its sequences) pairs; nil if malformed.
    static func decodePending(_ data: Data) -> [(term: String, sequences: [Int64])]? {
        let bytes = [UInt8](data)
        var at = 0
        func varint() -> Int? {
            var value: UInt64 = 0, shift: UInt64 = 0
            while at < bytes.count, shift < 63 {
                let byte = bytes[at]
                at += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value <= UInt64(bytes.count) ? Int(value) : nil }
                shift += 7
            }
            return nil
        }
        var out: [(term: String, sequences: [Int64])] = []
        while at < bytes.count {
            guard let length = varint(), at + length <= bytes.count else { return nil }
            let term = String(decoding: bytes[at..<at + length], as: UTF8.self)
            at += length
            guard let count = varint(), at + count <= bytes.count, let sequences = decode(Data(bytes[at..<at + count])) else { return nil }
            at += count
            out.append((term, sequences))
        }
        return out
    }

    /// nil if the bytes are not a valid encoding (a truncated or overlong varint).
    static func decode(_ data: Data) -> [Int64]? {
        var out: [Int64] = []
        var value: UInt64 = 0, shift: UInt64 = 0, previous: Int64 = 0
        for byte in data {
            // The tenth byte may carry only the 64th bit.
            guard shift < 64, shift < 63 || byte & 0x7E == 0 else { return nil }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                previous &+= Int64(bitPattern: value)
                out.append(previous)
                value = 0
                shift = 0
            } else {
                shift += 7
            }
        }
        return shift == 0 ? out : nil
    }
}
