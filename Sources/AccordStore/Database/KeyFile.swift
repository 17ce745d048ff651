import Crypto
import Foundation

/// A 32-byte secret kept in its own file, created on first use with owner-only permissions.
/// Losing it makes pseudonyms unlinkable and the trail unverifiable, so it is never overwritten.
public struct KeyFile: Sendable {
    public let path: String
    public let bytes: [UInt8]

    /// Reads the key at `path`, or creates it (0600) if there is none and `mayCreate` — which the stores allow
    /// only while their database holds nothing: a new key for existing data would leave it unverifiable (a new
    /// signing key) or unfindable (a new subject key), so a missing key there is an error.
    public static func loadOrCreate(at path: String, mayCreate: Bool = true) throws -> KeyFile {
        if let data = FileManager.default.contents(atPath: path) {
            guard data.count == 32 else { throw StoreError.badKeyFile(path: path, reason: "expected 32 bytes, found \(data.count)") }
            return KeyFile(path: path, bytes: [UInt8](data))
        }
        guard mayCreate else {
            throw StoreError.badKeyFile(
                path: path,
                reason: "missing, and the database already holds data written with a key: "
                    + "point --subject-key / --signing-key at the right file")
        }
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { [UInt8]($0) }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // O_EXCL: two processes creating the key at once must not end up with different keys.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { return try loadOrCreate(at: path, mayCreate: false) }
            throw StoreError.badKeyFile(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        let written = key.withUnsafeBytes { write(fd, $0.baseAddress, 32) }
        guard written == 32, fsync(fd) == 0 else { throw StoreError.badKeyFile(path: path, reason: "could not write the key") }
        return KeyFile(path: path, bytes: key)
    }
}

/// Errors of the stores.
public enum StoreError: Error, CustomStringConvertible, Sendable {
    case badKeyFile(path: String, reason: String)
    case unavailable(String)
    case durabilityNotGuaranteed(String)
    case corruptIndex(String)
    /// SQLite found the file damaged (`quick_check` at open, or a malformed page since): not written again.
    case corrupt(path: String, detail: String)

    public var description: String {
        switch self {
        case .badKeyFile(let path, let reason): "\(path): key file unusable: \(reason)"
        case .corrupt(let path, let detail):
            "\(path): the database is damaged (\(detail)); it is not written to again — restore it from a copy and restart"
        case .unavailable(let reason): "audit trail unavailable: \(reason)"
        case .durabilityNotGuaranteed(let reason): "durability setting not in force: \(reason)"
        case .corruptIndex(let what): "audit trail index damaged (\(what)); the records themselves are checked by `accord audit verify`"
        }
    }
}

/// Keyed HMAC-SHA256 pseudonyms for subject ids: stable for one key, unlinkable without it, never the clear id.
public struct SubjectPseudonymizer: Sendable {
    private let keyed: RecordMAC

    public init(key: KeyFile) { keyed = RecordMAC(key: SymmetricKey(data: key.bytes)) }

    public func pseudonym(for subject: String) -> Data {
        var subject = subject
        return subject.withUTF8 { keyed.digest(UnsafeRawBufferPointer($0)) }.data
    }
}

extension Data {
    var hexString: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: count * 2)
        for (i, byte) in enumerated() {
            out[2 * i] = digits[Int(byte >> 4)]
            out[2 * i + 1] = digits[Int(byte & 0x0F)]
        }
        return String(decoding: out, as: UTF8.self)
    }

    init?(hex: String) {
        guard hex.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }
}
