import Crypto
import Foundation

/// A checkpoint as a C2SP signed note (`tlog-checkpoint`): the log's origin line, the tree size, the RFC 6962
/// root hash in base64, then a blank line and one Ed25519 signature line per signer
/// (`— <name> <base64(key id ‖ signature)>`, the key id being the first 4 bytes of
/// SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)). Published outside the database, it lets `verify --against` catch a
/// trail rolled back, truncated or emptied below it — which the database alone cannot show, since whoever can
/// rewrite it can also delete its own checkpoints.
public struct CheckpointNote: Sendable, Equatable {
    public var origin: String
    public var size: Int64
    public var root: Data
    public struct Signature: Sendable, Equatable {
        public var name: String
        public var keyID: Data
        public var signature: Data
    }
    public var signatures: [Signature]
    /// The signed text: the three body lines, each ending in a newline.
    public var body: String { "\(origin)\n\(size)\n\(root.base64EncodedString())\n" }

    /// The origin line of a trail's notes: names the log by its public key, so that two trails never share one.
    public static func origin(publicKey: String) -> String { "accord.audit/\(publicKey.prefix(16))" }

    /// An Ed25519 public key from its 64 hexadecimal digits (as `publicKey` prints it), or nil.
    public static func publicKey(hex: String) -> Data? {
        guard hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0 | 0x20) }), let key = Data(hex: hex),
            key.count == 32
        else { return nil }
        return key
    }

    /// The C2SP key id of an Ed25519 key under `name`.
    public static func keyID(name: String, publicKey: Data) -> Data {
        var input = Data(name.utf8)
        input.append(0x0A)
        input.append(0x01)
        input.append(publicKey)
        return Data(SHA256.hash(data: input).prefix(4))
    }

    /// A note for a tree of `size` records with `root`, signed with `key` under the name `origin`.
    public static func signed(origin: String, size: Int64, root: Data, key: Curve25519.Signing.PrivateKey) throws -> CheckpointNote {
        var note = CheckpointNote(origin: origin, size: size, root: root, signatures: [])
        let signature = try key.signature(for: Data(note.body.utf8))
        note.signatures = [
            Signature(name: origin, keyID: keyID(name: origin, publicKey: key.publicKey.rawRepresentation), signature: signature)
        ]
        return note
    }

    /// The note as text: body, blank line, signature lines.
    public var text: String {
        body + "\n" + signatures.map { "\u{2014} \($0.name) \(($0.keyID + $0.signature).base64EncodedString())\n" }.joined()
    }

    /// Whether a signature by `publicKey` (raw 32 bytes) under the note's origin verifies over its body.
    public func isSigned(by publicKey: Data) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        let id = Self.keyID(name: origin, publicKey: publicKey)
        return signatures.contains { $0.name == origin && $0.keyID == id && key.isValidSignature($0.signature, for: Data(body.utf8)) }
    }

    public struct ParseError: Error, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Every note in `text` (notes one after another, as `--publish FILE` appends them), in order.
    public static func parseAll(_ text: String) throws(ParseError) -> [CheckpointNote] {
        var notes: [CheckpointNote] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var i = 0
        while i < lines.count {
            if lines[i].isEmpty { i += 1; continue }
            guard i + 3 < lines.count else {
                throw ParseError(line: i + 1, message: "a note needs an origin, a size, a root hash and a blank line")
            }
            let origin = lines[i]
            guard let size = Int64(lines[i + 1]), size >= 0, lines[i + 1] == String(size) else {
                throw ParseError(line: i + 2, message: "the tree size must be a decimal number")
            }
            guard let root = Data(base64Encoded: lines[i + 2]), root.count == 32 else {
                throw ParseError(line: i + 3, message: "the root hash must be 32 bytes in base64")
            }
            // Extension lines may follow the root hash (C2SP allows them); they are signed with the body, and Accord
            // writes none, so a note carrying them is refused rather than checked on a body it did not sign.
            guard lines[i + 3].isEmpty else { throw ParseError(line: i + 4, message: "expected a blank line before the signatures") }
            var signatures: [Signature] = []
            var j = i + 4
            while j < lines.count, lines[j].hasPrefix("\u{2014} ") {
                let parts = lines[j].dropFirst(2).split(separator: " ")
                guard parts.count == 2, let blob = Data(base64Encoded: String(parts[1])), blob.count > 4 else {
                    throw ParseError(line: j + 1, message: "a signature line is '\u{2014} NAME BASE64'")
                }
                signatures.append(Signature(name: String(parts[0]), keyID: blob.prefix(4), signature: blob.dropFirst(4)))
                j += 1
            }
            guard !signatures.isEmpty else { throw ParseError(line: i + 5, message: "the note has no signature") }
            notes.append(CheckpointNote(origin: origin, size: size, root: root, signatures: signatures))
            i = j
        }
        return notes
    }

    /// Appends the note to `path`: a file (notes one after another, a blank line between them), or a folder (as
    /// `<size>.checkpoint`, and `checkpoint` for the latest). Flushed to disk before it returns.
    public func publish(to path: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            try Self.write(Data(text.utf8), to: path + "/\(size).checkpoint", append: false)
            try Self.write(Data(text.utf8), to: path + "/checkpoint", append: false)
        } else {
            try Self.write(Data(("\n" + text).utf8), to: path, append: true)
        }
    }

    private static func write(_ data: Data, to path: String, append: Bool) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0o644)
        guard descriptor >= 0 else { throw StoreError.unavailable("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let written = data.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        guard written == data.count, fsync(descriptor) == 0 else {
            throw StoreError.unavailable("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// A published-checkpoint file that cannot be used, with where (`file:line: …`).
    public struct ReadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The notes at `path`: a file of notes, or a folder's `*.checkpoint` files and `checkpoint`.
    public static func read(from path: String) throws(ReadError) -> [CheckpointNote] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw ReadError(description: "\(path): no such checkpoint file or folder")
        }
        let files =
            isFolder.boolValue
            ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter {
                $0 == "checkpoint" || $0.hasSuffix(".checkpoint")
            }.sorted()
                .map { path + "/" + $0 }
            : [path]
        var notes: [CheckpointNote] = []
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ReadError(description: "\(file): unreadable or not UTF-8 text")
            }
            do {
                notes += try parseAll(text)
            } catch {
                throw ReadError(description: "\(file):\(error.line): \(error.message)")
            }
        }
        return notes
    }
}

extension SQLiteAuditTrail {
    /// The checkpoint as a C2SP signed note under this trail's origin, signed with its key.
    public func note(for checkpoint: Checkpoint) throws -> CheckpointNote {
        guard let root = Data(hex: checkpoint.root), root.count == 32 else {
            throw StoreError.corruptIndex("checkpoint \(checkpoint.id) has no 32-byte root")
        }
        return try CheckpointNote.signed(
            origin: CheckpointNote.origin(publicKey: publicKey), size: checkpoint.size, root: root, key: signingKey)
    }

    public var refusal: String? { health.poisoned }
}
