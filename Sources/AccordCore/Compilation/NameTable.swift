/// An immutable string → index table for the decision path: open addressing over an FNV-1a hash of the
/// UTF-8 bytes. Names are short and the table is built once, so this beats `Dictionary`'s seeded SipHash
/// by several times per lookup. Hash flooding is not a concern: the keys come from the policy author.
struct NameTable: Sendable {
    private let slots: [Int32]       // index into `names`, or -1
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
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        if let done = name.utf8.withContiguousStorageIfAvailable({ bytes -> UInt64 in
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
            return hash
        }) {
            hash = done
        } else {
            for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        }
        // Mix the high bits down so the low bits used for the slot depend on every byte.
        return hash ^ (hash >> 29)
    }
}
