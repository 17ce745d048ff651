import Crypto
import Foundation
import GRDB
import GRDBSQLite

/// What `verify` found. Intact when there are no problems.
public struct AuditVerification: Sendable {
    public var records: Int
    public var checkpoints: Int
    public var problems: [AuditProblem]

    public var isIntact: Bool { problems.isEmpty }
}

/// One way the trail is not what the engine wrote.
public struct AuditProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case edited, missing, chainBroken = "chain_broken", forged, truncated, checkpointMismatch = "checkpoint_mismatch",
            conflictingCheckpoints = "conflicting_checkpoints", badSignature = "bad_signature",
            /// Records a published checkpoint vouches for are gone or changed (a rollback, truncation or wipe).
            rolledBack = "rolled_back",
            /// The lookup tables (subject index, postings) disagree with the records: rows removed hide records
            /// from `query` and `export`; rows added point at records that do not carry them.
            lookupMismatch = "lookup_mismatch"
    }

    public var kind: Kind
    /// The first record concerned, if one is.
    public var sequence: Int64?
    public var decisionID: String?
    public var message: String

    public var description: String {
        let at = sequence.map { "record \($0)" + (decisionID.map { " (\($0))" } ?? "") + ": " } ?? ""
        return "\(kind.rawValue): \(at)\(message)"
    }
}

extension SQLiteAuditTrail {
    /// Recomputes the chain, every record's hash and MAC, and every checkpoint; names the first bad record.
    /// One pass over the rows as SQLite stores them: this thread reads and re-encodes a chunk while another
    /// hashes the one before, and the Merkle roots of every checkpointed size accumulate on the way.
    public func verify() throws -> AuditVerification {
        try verify(against: [], publicKey: nil)
    }

    /// `verify()`, and also: the trail must still hold the tree of every published checkpoint in `notes` (its
    /// first `size` records with that root), each signed by `publicKey` (hex; default: this trail's own key). A
    /// trail rolled back, truncated or emptied below a published checkpoint fails, even with its in-database
    /// checkpoints deleted too.
    public func verify(against notes: [CheckpointNote], publicKey pinned: String? = nil) throws -> AuditVerification {
        try queue.read { db in
            let checkpoints = try Self.checkpoints(db)
            var verifier = AuditVerifier(macKey: macKey, publicKey: publicKey, checkpoints: checkpoints)
            let signer = CheckpointNote.publicKey(hex: pinned ?? publicKey) ?? Data()
            let published = notes.filter { note in
                guard note.isSigned(by: signer) else {
                    verifier.add(
                        AuditProblem(
                            kind: .badSignature, sequence: nil, decisionID: nil,
                            message:
                                "the published checkpoint of \(note.size) records is not signed by key \((pinned ?? publicKey).prefix(16))…"
                        ))
                    return false
                }
                return true
            }
            // GRDB owns (and finalizes) the statement; the loop drives it through SQLite's C interface.
            let owner = try db.makeStatement(sql: "SELECT \(Self.columns) FROM audit_record ORDER BY sequence")
            let statement = owner.sqliteStatement
            // Hashing and the Merkle tree run on a serial queue, chunk after chunk in order, while this thread reads.
            let hashing = DispatchQueue(label: "accord.audit.verify")
            let tree = CheckpointRoots(sizes: Set(checkpoints.map(\.size) + published.map(\.size)))
            var inFlight: (chunk: VerifyChunk, done: DispatchGroup)?
            var finished = false
            while !finished {
                var records = VerifyRecords()
                finished = try Self.read(statement, upTo: 8_192, into: &records, db)
                let chunk = VerifyChunk(records: records)
                if let previous = inFlight {
                    previous.done.wait()
                    verifier.merge(previous.chunk)
                }
                let done = DispatchGroup()
                let key = macKey
                hashing.async(group: done) {
                    chunk.hash(macKey: key)
                    tree.append(chunk.leaves)
                }
                inFlight = (chunk, done)
            }
            if let last = inFlight {
                last.done.wait()
                verifier.merge(last.chunk)
            }
            withExtendedLifetime(owner) {}
            for note in published { verifier.check(published: note, roots: tree.roots, size: tree.size) }
            var verification = verifier.finish(roots: tree.roots, size: tree.size)
            // The lookup tables are checked against a trail that verified; a broken or cut chain is reported on its own.
            if verification.isIntact { verification.problems += try Self.lookupProblems(db, macKey: macKey) }
            return verification
        }
    }

    /// Steps `statement` through up to `limit` rows into `records`, each encoded in the canonical order with its
    /// column types checked; returns whether the rows are exhausted.
    private static func read(_ statement: OpaquePointer, upTo limit: Int, into records: inout VerifyRecords, _ db: Database) throws -> Bool
    {
        while records.count < limit {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { return true }
            guard code == SQLITE_ROW else {
                throw DatabaseError(
                    resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            records.encoded.beginRecord()
            records.encoded.integer(sqlite3_column_int64(statement, 0))
            // A value stored with another type (a recorded_at of 1.5 or '17…abc') would hash like the original
            // once converted: the types are part of what is checked.
            var typesHold = sqlite3_column_type(statement, 2) == SQLITE_INTEGER
            for column: Int32 in [1, 3, 4, 5, 6, 9, 10] where sqlite3_column_type(statement, column) != SQLITE_TEXT {
                typesHold = false
            }
            for column: Int32 in [8, 11] where ![SQLITE_TEXT, SQLITE_NULL].contains(sqlite3_column_type(statement, column)) {
                typesHold = false
            }
            for column: Int32 in [7, 12, 13, 14] where sqlite3_column_type(statement, column) != SQLITE_BLOB { typesHold = false }
            // The canonical order: the body's columns, then the subject seal (7) and the previous hash (12).
            for column: Int32 in [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 7, 12] {
                if column == 2 {
                    records.encoded.integer(sqlite3_column_int64(statement, 2))
                } else {
                    records.encoded.raw(
                        sqlite3_column_blob(statement, column), count: Int(sqlite3_column_bytes(statement, column)),
                        isNull: sqlite3_column_type(statement, column) == SQLITE_NULL)
                }
            }
            records.endRecord(
                sequence: sqlite3_column_int64(statement, 0), previousHash: Self.digest(statement, 12),
                hash: Self.digest(statement, 13), mac: Self.digest(statement, 14), typesHold: typesHold)
        }
        return false
    }

    /// A 32-byte column as a digest; any other length (a damaged value) as nil.
    private static func digest(_ statement: OpaquePointer, _ column: Int32) -> SHA256Digest? {
        guard sqlite3_column_bytes(statement, column) == 32, let pointer = sqlite3_column_blob(statement, column) else { return nil }
        return SHA256Digest(pointer)
    }
}

/// Records read for verification, kept flat: canonical encodings back to back.
struct VerifyRecords {
    var sequences: [Int64] = []
    var encoded = CanonicalEncoder(capacity: 8_192 * 512, tagged: false)
    var ends: [Int] = []
    var previousHashes: [SHA256Digest?] = []
    var hashes: [SHA256Digest?] = []
    var macs: [SHA256Digest?] = []
    var typesHold: [Bool] = []

    var count: Int { sequences.count }

    mutating func endRecord(sequence: Int64, previousHash: SHA256Digest?, hash: SHA256Digest?, mac: SHA256Digest?, typesHold: Bool) {
        self.typesHold.append(typesHold)
        sequences.append(sequence)
        ends.append(encoded.bytes.count)
        previousHashes.append(previousHash)
        hashes.append(hash)
        macs.append(mac)
    }

    func canonical(_ i: Int) -> ArraySlice<UInt8> { encoded.bytes[(i == 0 ? 0 : ends[i - 1])..<ends[i]] }

    /// The decision id, read back from the canonical encoding (tag, sequence, then its length-prefixed bytes).
    func decisionID(_ i: Int) -> String {
        let field = canonical(i).dropFirst(CanonicalEncoder.tag.count + 12)
        let length = field.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        return String(decoding: field.dropFirst(4).prefix(length), as: UTF8.self)
    }
}

/// The Merkle roots at the checkpointed sizes, accumulated leaf by leaf. Used from one serial queue.
final class CheckpointRoots: @unchecked Sendable {
    private var tree = MerkleAccumulator()
    private let sizes: Set<Int64>
    private(set) var roots: [Int64: Data] = [:]

    var size: Int { tree.size }

    init(sizes: Set<Int64>) {
        self.sizes = sizes
        if sizes.contains(0) { roots[0] = tree.root }
    }

    func append(_ leaves: [Data]) {
        for leaf in leaves {
            tree.append(leafHash: leaf)
            if sizes.contains(Int64(tree.size)) { roots[Int64(tree.size)] = tree.root }
        }
    }
}

/// One chunk of records, hashed off the reading thread; handed over whole, never shared while in use.
final class VerifyChunk: @unchecked Sendable {
    let records: VerifyRecords

    init(records: VerifyRecords) { self.records = records }

    /// Filled by `hash`: whether each record's content matches its hash, and its MAC its hash; its Merkle leaf.
    var contentHolds: [Bool] = []
    var macHolds: [Bool] = []
    var leaves: [Data] = []

    func hash(macKey: RecordMAC) {
        contentHolds = (0..<records.count).map { i in
            records.canonical(i).withUnsafeBytes { FastSHA256.hash($0) } == records.hashes[i]
        }
        macHolds = (0..<records.count).map { i in
            guard let hash = records.hashes[i] else { return false }
            return hash.withUnsafeBytes { macKey.digest($0) } == records.macs[i]
        }
        leaves = records.hashes.map { hash in
            hash.map { withUnsafeBytes(of: $0.words) { MerkleTree.leafHash($0) } } ?? MerkleTree.leafHash(Data())
        }
    }
}

/// Checks records in sequence order, then the checkpoints against the roots of the sizes they claim.
struct AuditVerifier {
    let macKey: RecordMAC
    let publicKey: String
    let checkpoints: [Checkpoint]
    private var problems: [AuditProblem] = []
    private var expected: Int64 = 1
    private var previous: SHA256Digest? = SHA256Digest(AuditRecord.genesis)

    init(macKey: RecordMAC, publicKey: String, checkpoints: [Checkpoint]) {
        self.macKey = macKey
        self.publicKey = publicKey
        self.checkpoints = checkpoints
    }

    /// The next records in sequence order, hashed.
    mutating func merge(_ chunk: VerifyChunk) {
        let records = chunk.records
        for i in 0..<records.count {
            let sequence = records.sequences[i]
            if sequence != expected {
                problems.append(
                    AuditProblem(
                        kind: .missing, sequence: expected, decisionID: nil,
                        message: "records \(expected)…\(sequence - 1) are missing (deleted)"))
            }
            if records.previousHashes[i] != previous {
                problems.append(
                    AuditProblem(
                        kind: .chainBroken, sequence: sequence, decisionID: records.decisionID(i),
                        message: "does not follow the record before it (records removed or reordered)"))
            }
            if !chunk.contentHolds[i] || !records.typesHold[i] {
                problems.append(
                    AuditProblem(
                        kind: .edited, sequence: sequence, decisionID: records.decisionID(i),
                        message: "its content no longer matches its hash (a field was changed)"))
            } else if !chunk.macHolds[i] {
                problems.append(
                    AuditProblem(
                        kind: .forged, sequence: sequence, decisionID: records.decisionID(i),
                        message: "was not written by this trail's engine (its MAC does not verify)"))
            }
            previous = records.hashes[i]
            expected = sequence + 1
        }
    }

    mutating func add(_ problem: AuditProblem) { problems.append(problem) }

    /// A published checkpoint: its tree must be the first `note.size` records of the trail as it is.
    mutating func check(published note: CheckpointNote, roots: [Int64: Data], size: Int) {
        if Int64(size) < note.size {
            problems.append(
                AuditProblem(
                    kind: .rolledBack, sequence: Int64(size) + 1, decisionID: nil,
                    message:
                        "a published checkpoint covers \(note.size) records but the trail has \(size): records \(size + 1)…\(note.size) "
                        + "are missing (rolled back, truncated or emptied)"))
        } else if roots[note.size] != note.root {
            problems.append(
                AuditProblem(
                    kind: .rolledBack, sequence: nil, decisionID: nil,
                    message: "the first \(note.size) records no longer have the root of the published checkpoint "
                        + "(\(note.root.hexString.prefix(16))…): records within them were replaced"))
        }
    }

    /// `roots`: the Merkle root after each checkpointed size the records reached; `size`: how many records there were.
    mutating func finish(roots: [Int64: Data], size: Int) -> AuditVerification {
        var rootsBySize: [Int64: Checkpoint] = [:]
        for checkpoint in checkpoints {
            if let earlier = rootsBySize[checkpoint.size], earlier.root != checkpoint.root {
                problems.append(
                    AuditProblem(
                        kind: .conflictingCheckpoints, sequence: nil, decisionID: nil,
                        message: "checkpoints \(earlier.id) and \(checkpoint.id) commit to different trees of \(checkpoint.size) records"))
            }
            rootsBySize[checkpoint.size] = rootsBySize[checkpoint.size] ?? checkpoint
            if checkpoint.publicKey != publicKey || !checkpoint.signatureHolds {
                problems.append(
                    AuditProblem(
                        kind: .badSignature, sequence: nil, decisionID: nil,
                        message: "checkpoint \(checkpoint.id) is not signed by this trail's key"))
            }
            if let root = roots[checkpoint.size] {
                if root.hexString != checkpoint.root {
                    problems.append(
                        AuditProblem(
                            kind: .checkpointMismatch, sequence: nil, decisionID: nil,
                            message: "checkpoint \(checkpoint.id) does not match records 1…\(checkpoint.size)"))
                }
            } else {
                problems.append(
                    AuditProblem(
                        kind: .truncated, sequence: Int64(size) + 1, decisionID: nil,
                        message: "checkpoint \(checkpoint.id) covers \(checkpoint.size) records but only \(size) remain"))
            }
        }
        return AuditVerification(records: size, checkpoints: checkpoints.count, problems: problems)
    }
}
