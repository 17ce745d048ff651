import Foundation

/// Reads a file (or standard input) line by line in chunks, so a stream of requests of any length is
/// decided as it arrives without holding it all in memory.
struct LineReader: Sequence, IteratorProtocol {
    private let handle: FileHandle
    private var buffer = Data()
    private var finished = false

    init?(path: String) {
        if path == "-" {
            handle = FileHandle.standardInput
        } else {
            guard let file = FileHandle(forReadingAtPath: path) else { return nil }
            handle = file
        }
    }

    /// The next line without its terminator, or nil at the end.
    mutating func next() -> Data? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<newline]
                buffer = Data(buffer[buffer.index(after: newline)...])
                return Data(line)
            }
            if finished {
                guard !buffer.isEmpty else { return nil }
                defer { buffer = Data() }
                return buffer
            }
            let chunk = handle.availableData  // whatever has arrived, so a line is answered as soon as it is complete
            if chunk.isEmpty { finished = true } else { buffer.append(chunk) }
        }
    }
}
