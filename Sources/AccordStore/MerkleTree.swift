import Crypto
import Foundation

/// RFC 6962 §2.1 Merkle tree hashes over a list of leaves (here: audit record hashes).
public enum MerkleTree {
    /// MTH({}) = SHA-256(), MTH({d}) = SHA-256(0x00 || d), and for n > 1, with k the largest power of two
    /// below n: SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])).
    public static func root(_ leaves: ArraySlice<Data>) -> Data {
        switch leaves.count {
        case 0: return Data(SHA256.hash(data: Data()))
        case 1: return leafHash(leaves[leaves.startIndex])
        default:
            let k = largestPowerOfTwo(below: leaves.count)
            let split = leaves.startIndex + k
            return nodeHash(root(leaves[leaves.startIndex..<split]), root(leaves[split...]))
        }
    }

    public static func leafHash(_ leaf: Data) -> Data {
        var hasher = SHA256()
        hasher.update(data: Data([0x00]))
        hasher.update(data: leaf)
        return Data(hasher.finalize())
    }

    static func nodeHash(_ left: Data, _ right: Data) -> Data {
        var hasher = SHA256()
        hasher.update(data: Data([0x01]))
        hasher.update(data: left)
        hasher.update(data: right)
        return Data(hasher.finalize())
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
}
