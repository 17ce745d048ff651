import Foundation

/// Fresh keys from the system's generator, drawn 4 KiB at a time rather than one system call per key.
struct RandomPool {
    private var buffer = [UInt8](repeating: 0, count: 4_096)
    private var offset = 4_096

    mutating func next32() -> Data {
        if offset + 32 > buffer.count {
            // The kernel's generator (getrandom on Linux, arc4random on Apple platforms), one call per refill.
            buffer.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
            offset = 0
        }
        defer {
            // Used bytes are wiped from the pool.
            for i in offset..<(offset + 32) { buffer[i] = 0 }
            offset += 32
        }
        return Data(buffer[offset..<(offset + 32)])
    }
}
