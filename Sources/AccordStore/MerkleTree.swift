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
}
