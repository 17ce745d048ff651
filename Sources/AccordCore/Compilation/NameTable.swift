/// An immutable string → index table for the decision path: open addressing over a word-at-a-time hash
/// of the UTF-8 bytes. Names are short and the table is built once, so this beats `Dictionary`'s seeded SipHash
/// by several times per lookup. Hash flooding is not a concern: the keys come from the policy author.
struct NameTable: Sendable {
    private let slots: [Int32]  // index into `names`, or -1
    private let hashes: [UInt64]
    private let names: [String]
    private let mask: Int

    init(_ names: [String]) {
        self.names = names
        var capacity = 8
        while capacity < names.count * 2 { capacity <<= 1 }
        var slots = [Int32](repeating: -1, count: capacity)
        var hashes = [UInt64](repeating: 0, count: capacity)
        for (index, name) in names.enumerated() {
            let hash = NameTable.hash(name)
            var slot = Int(truncatingIfNeeded: hash) & (capacity - 1)
            while slots[slot] >= 0 { slot = (slot + 1) & (capacity - 1) }
            slots[slot] = Int32(index)
            hashes[slot] = hash
        }
        self.slots = slots
        self.hashes = hashes
        self.mask = capacity - 1
    }

    /// The index of `name` in the list the table was built from, or nil.
    subscript(name: String) -> Int? {
        let hash = NameTable.hash(name)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let index = slots[slot]
            if index < 0 { return nil }
            if hashes[slot] == hash && names[Int(index)] == name { return Int(index) }
            slot = (slot + 1) & mask
        }
    }

    @inline(__always)
    static func hash(_ name: String) -> UInt64 {
        if let hash = name.utf8.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) { return hash }
        var copy = name
        return copy.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }

    /// Eight bytes at a time: multiply and fold, then a final avalanche (in the spirit of wyhash/murmur's
    /// finaliser). Names are short, so this is a handful of multiplications.
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        var offset = 0
        while offset + 8 <= bytes.count {
            let word = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            hash = (hash ^ word) &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 31
            offset += 8
        }
        if offset < bytes.count {
            var tail: UInt64 = 0
            for (shift, index) in (offset..<bytes.count).enumerated() { tail |= UInt64(bytes[index]) << UInt64(shift * 8) }
            hash = (hash ^ tail) &* 0x94D0_49BB_1331_11EB
        }
        hash ^= hash >> 33
        hash = hash &* 0xFF51_AFD7_ED55_8CCD
        return hash ^ (hash >> 33)
    }
}
