import Crypto
import Foundation

/// RFC 6962 §2.1 Merkle tree hashes over a list of leaves (here: audit record hashes).
public enum MerkleTree {
    /// MTH({}) = SHA-256(), MTH({d}) = SHA-256(0x00 || d), and for n > 1, with k the largest power of two
    /// below n: SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])).
    public static func root(_ leaves: ArraySlice<Data>) -> Data {
        var accumulator = MerkleAccumulator()
        for leaf in leaves { accumulator.append(leafHash: leafHash(leaf)) }
        return accumulator.root
    }

    public static func leafHash<Bytes: DataProtocol>(_ leaf: Bytes) -> Data {
        let contiguous = Data(leaf)
        return withUnsafeBytes(of: UInt8(0)) { prefix in contiguous.withUnsafeBytes { FastSHA256.hash(prefix, $0) } }.data
    }

    static func nodeHash(_ left: Data, _ right: Data) -> Data {
        withUnsafeBytes(of: UInt8(1)) { prefix in
            left.withUnsafeBytes { l in right.withUnsafeBytes { r in FastSHA256.hash(prefix, l, r) } }
        }.data
    }

    static func largestPowerOfTwo(below n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// The audit path for leaf `index` in the tree over `leaves` (RFC 6962 §2.1.1, PATH(m, D[n])).
    public static func inclusionProof(index: Int, leaves: ArraySlice<Data>) -> [Data] {
        guard leaves.count > 1 else { return [] }
        let k = largestPowerOfTwo(below: leaves.count)
        let split = leaves.startIndex + k
        if index < k {
            return inclusionProof(index: index, leaves: leaves[leaves.startIndex..<split]) + [root(leaves[split...])]
        }
        return inclusionProof(index: index - k, leaves: leaves[split...]) + [root(leaves[leaves.startIndex..<split])]
    }

    /// Whether `proof` shows `leaf` at `index` in a tree of `size` leaves with `root` (RFC 9162 §2.1.3.2).
    public static func verifyInclusion(leaf: Data, index: Int, size: Int, proof: [Data], root expected: Data) -> Bool {
        guard index >= 0, index < size else { return false }
        var fn = index, sn = size - 1
        var hash = leafHash(leaf)
        for sibling in proof {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                hash = nodeHash(sibling, hash)
                if fn & 1 == 0 {
                    repeat { fn >>= 1; sn >>= 1 } while fn & 1 == 0 && fn != 0
                }
            } else {
                hash = nodeHash(hash, sibling)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && hash == expected
    }

    /// The proof that the tree of the first `oldSize` leaves is a prefix of the tree over all `leaves`
    /// (RFC 6962 §2.1.2, PROOF(m, D[n])).
    public static func consistencyProof(oldSize: Int, leaves: ArraySlice<Data>) -> [Data] {
        guard oldSize > 0, oldSize < leaves.count else { return [] }
        return subproof(oldSize, leaves, complete: true)
    }

    private static func subproof(_ m: Int, _ leaves: ArraySlice<Data>, complete: Bool) -> [Data] {
        let n = leaves.count
        if m == n { return complete ? [] : [root(leaves)] }
        let k = largestPowerOfTwo(below: n)
        let split = leaves.startIndex + k
        if m <= k {
            return subproof(m, leaves[leaves.startIndex..<split], complete: complete) + [root(leaves[split...])]
        }
        return subproof(m - k, leaves[split...], complete: false) + [root(leaves[leaves.startIndex..<split])]
    }

    /// Whether `proof` shows the tree of `oldSize` leaves with `oldRoot` is a prefix of the tree of `newSize`
    /// leaves with `newRoot` (RFC 9162 §2.1.4.2).
    public static func verifyConsistency(oldSize: Int, newSize: Int, oldRoot: Data, newRoot: Data, proof: [Data]) -> Bool {
        guard oldSize > 0, oldSize <= newSize else { return false }
        if oldSize == newSize { return proof.isEmpty && oldRoot == newRoot }
        guard !proof.isEmpty else { return false }
        var path = proof
        if oldSize & (oldSize - 1) == 0 { path.insert(oldRoot, at: 0) }
        var fn = oldSize - 1, sn = newSize - 1
        while fn & 1 == 1 { fn >>= 1; sn >>= 1 }
        var fr = path[0], sr = path[0]
        for c in path.dropFirst() {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
                }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return fr == oldRoot && sr == newRoot && sn == 0
    }
}

/// The RFC 6962 root of a growing list of leaves in O(log n) memory: the roots of the perfect subtrees of the
/// leaves so far (the binary decomposition of the size), folded right to left when asked.
struct MerkleAccumulator {
    private var peaks: [(height: Int, hash: Data)] = []
    private(set) var size = 0

    init() {}

    /// The accumulator as bytes: the size (8 bytes big-endian), then per peak its height (1 byte) and hash.
    var serialized: Data {
        var out = Data()
        withUnsafeBytes(of: UInt64(size).bigEndian) { out.append(contentsOf: $0) }
        for peak in peaks {
            out.append(UInt8(peak.height))
            out.append(peak.hash)
        }
        return out
    }

    /// Reads `serialized`; nil unless the peaks are exactly the binary decomposition of the size.
    init?(serialized data: Data) {
        let bytes = [UInt8](data)
        guard bytes.count >= 8, (bytes.count - 8) % 33 == 0 else { return nil }
        size = Int(bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        var offset = 8
        while offset < bytes.count {
            peaks.append((Int(bytes[offset]), Data(bytes[(offset + 1)..<(offset + 33)])))
            offset += 33
        }
        guard peaks.reduce(0, { $0 + (1 << $1.height) }) == size,
            zip(peaks, peaks.dropFirst()).allSatisfy({ $0.height > $1.height })
        else { return nil }
    }

    mutating func append(leafHash: Data) {
        var node = (height: 0, hash: leafHash)
        while let last = peaks.last, last.height == node.height {
            peaks.removeLast()
            node = (node.height + 1, MerkleTree.nodeHash(last.hash, node.hash))
        }
        peaks.append(node)
        size += 1
    }

    /// MTH of the leaves so far.
    var root: Data {
        guard var hash = peaks.last?.hash else { return Data(SHA256.hash(data: Data())) }
        for peak in peaks.dropLast().reversed() { hash = MerkleTree.nodeHash(peak.hash, hash) }
        return hash
    }
}
