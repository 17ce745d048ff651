import AccordCore
import AccordTestSupport
import Crypto
import Foundation
import GRDB
import Testing

@testable import AccordStore

/// Attacks that passed `verify` without any key before checkpoints were published outside the database and the
/// lookup tables were checked: each is caught now.
@Suite struct RollbackTests {
    let asOf = Fixtures.asOf

    /// A trail at `directory/audit.sqlite` with the example decisions `range` (1-based) recorded.
    func record(_ trail: SQLiteAuditTrail, _ range: ClosedRange<Int>) throws {
        let plan = try Fixtures.referencePlan()
        let requests = try Fixtures.exampleRequests()
        for i in range {
            let request = requests[(i - 1) % requests.count]
            try trail.record(plan.evaluate(request, asOf: asOf), for: request, decisionID: "decision-\(i)", at: asOf)
        }
    }

    /// A trail of 16 decisions with a checkpoint published after them, in a new folder.
    func publishedTrail(_ name: String) throws -> (directory: URL, path: String, published: String, trail: SQLiteAuditTrail) {
        let directory = try Fixtures.temporaryFolder(name)
        let path = directory.appendingPathComponent("audit.sqlite").path, published = directory.appendingPathComponent("checkpoints").path
        let trail = try SQLiteAuditTrail(path: path)
        try record(trail, 1...16)
        try trail.checkpoint(publishingTo: published, at: asOf)
        return (directory, path, published, trail)
    }

    /// Everything an attacker drops and deletes to empty the trail.
    static let wipe = """
        DROP TRIGGER audit_record_no_delete; DROP TRIGGER audit_checkpoint_no_delete; DROP TRIGGER audit_subject_no_delete;
        DROP TRIGGER audit_term_no_delete; DROP TRIGGER audit_term_pending_no_delete;
        DELETE FROM audit_record; DELETE FROM audit_checkpoint; DELETE FROM audit_merkle_state; DELETE FROM audit_subject;
        DELETE FROM audit_term; DELETE FROM audit_term_pending;
        """

    func tamper(_ path: String, _ sql: String) throws {
        try DatabaseQueue(path: path).write { db in try db.execute(sql: sql) }
    }

    /// Copies the database (after folding its WAL in) — a backup an attacker could restore later.
    func snapshot(_ path: String, to copy: String) throws {
        try DatabaseQueue(path: path).writeWithoutTransaction { db in _ = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try FileManager.default.copyItem(atPath: path, toPath: copy)
    }

    func restore(_ copy: String, over path: String) throws {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        try FileManager.default.copyItem(atPath: copy, toPath: path)
    }

    @Test func restoringAnEarlierCopyIsCaughtByAPublishedCheckpoint() throws {
        let directory = try Fixtures.temporaryFolder("accord-rollback")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("audit.sqlite").path, published = directory.appendingPathComponent("checkpoints").path
        do {
            let trail = try SQLiteAuditTrail(path: path)
            try record(trail, 1...10)
            try trail.checkpoint(publishingTo: published, at: asOf)
        }
        try snapshot(path, to: path + ".backup")
        do {
            let trail = try SQLiteAuditTrail(path: path)
            try record(trail, 11...16)
            try trail.checkpoint(publishingTo: published, at: asOf)
        }
        try restore(path + ".backup", over: path)
        let trail = try SQLiteAuditTrail(path: path)
        #expect(try trail.verify().isIntact, "the database alone cannot tell: it is a consistent earlier trail")
        let notes = try CheckpointNote.read(from: published)
        #expect(notes.map(\.size) == [10, 16])
        let problems = try trail.verify(against: notes).problems
        #expect(problems.map(\.kind) == [.rolledBack])
        #expect(problems.first?.sequence == 11 && problems.first?.message.contains("records 11…16 are missing") == true, "\(problems)")
    }

    @Test func truncationBelowACheckpointWithTheCheckpointDeletedIsCaught() throws {
        let (directory, path, published, trail) = try publishedTrail("accord-truncate")
        defer { try? FileManager.default.removeItem(at: directory) }
        try tamper(
            path,
            """
            DROP TRIGGER audit_record_no_delete; DROP TRIGGER audit_checkpoint_no_delete; DROP TRIGGER audit_subject_no_delete;
            DELETE FROM audit_record WHERE sequence > 12; DELETE FROM audit_checkpoint; DELETE FROM audit_merkle_state;
            DELETE FROM audit_subject WHERE sequence > 12;
            """)
        let problems = try trail.verify(against: try CheckpointNote.read(from: published)).problems
        #expect(problems.contains { $0.kind == .rolledBack && $0.sequence == 13 }, "\(problems)")
    }

    @Test func anEmptiedTrailIsCaught() throws {
        let (directory, path, published, trail) = try publishedTrail("accord-wipe")
        defer { try? FileManager.default.removeItem(at: directory) }
        try tamper(path, Self.wipe)
        #expect(try trail.verify().isIntact, "an empty trail is a consistent trail")
        let problems = try trail.verify(against: try CheckpointNote.read(from: published)).problems
        #expect(problems.map(\.kind) == [.rolledBack] && problems.first?.message.contains("the trail has 0") == true, "\(problems)")
    }

    @Test func deletingAPersonsLookupRowsIsCaught() throws {
        let directory = try Fixtures.temporaryFolder("accord-lookups")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("audit.sqlite").path
        let trail = try SQLiteAuditTrail(path: path)
        try record(trail, 1...16)
        let theirs = try trail.export(subject: "u-1001").map(\.sequence)
        #expect(!theirs.isEmpty)
        let list = theirs.map(String.init).joined(separator: ", ")
        // The triggers refuse it…
        #expect(throws: DatabaseError.self) { try tamper(path, "DELETE FROM audit_subject WHERE sequence IN (\(list))") }
        #expect(throws: DatabaseError.self) { try tamper(path, "DELETE FROM audit_term_pending") }
        // …and without them, the person vanishes from export and query, and verify says so.
        try tamper(path, "DROP TRIGGER audit_subject_no_delete; DELETE FROM audit_subject WHERE sequence IN (\(list))")
        #expect(try trail.export(subject: "u-1001").isEmpty)
        let problems = try trail.verify().problems
        #expect(problems.map(\.kind) == [.lookupMismatch], "\(problems)")
        #expect(problems.first?.message.contains("\(theirs.count) record(s) are missing from the subject index") == true, "\(problems)")
        // An erasure row forged to account for them does not verify.
        try tamper(path, "INSERT INTO audit_erasure (erased_at, records) VALUES (0, \(theirs.count))")
        #expect(try trail.verify().problems.contains { $0.message.contains("was not written by this trail's engine") })
    }

    @Test func deletedPostingsAreCaught() throws {
        let directory = try Fixtures.temporaryFolder("accord-postings")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("audit.sqlite").path
        let trail = try SQLiteAuditTrail(path: path)
        try record(trail, 1...16)
        // Small commits keep their postings in the pending table.
        try tamper(path, "DROP TRIGGER audit_term_pending_no_delete; DELETE FROM audit_term_pending WHERE first_sequence = 3")
        let problems = try trail.verify().problems
        #expect(!problems.isEmpty && problems.allSatisfy { $0.kind == .lookupMismatch && $0.sequence == 3 }, "\(problems)")
    }

    @Test func erasureStillVerifiesAndIsAccountedFor() throws {
        let directory = try Fixtures.temporaryFolder("accord-erasure-count")
        defer { try? FileManager.default.removeItem(at: directory) }
        let trail = try SQLiteAuditTrail(path: directory.appendingPathComponent("audit.sqlite").path)
        try record(trail, 1...16)
        #expect(try trail.erase(subject: "u-1001") > 0)
        let verification = try trail.verify()
        #expect(verification.isIntact, "\(verification.problems)")
    }

    @Test func notesRoundTripAndRefuseOtherKeys() throws {
        let key = Curve25519.Signing.PrivateKey()
        let note = try CheckpointNote.signed(
            origin: "accord.audit/0123456789abcdef", size: 42, root: Data(repeating: 7, count: 32), key: key)
        let text = note.text + "\n" + note.text
        #expect(text.hasPrefix("accord.audit/0123456789abcdef\n42\n"))
        #expect(text.contains("\n\n\u{2014} accord.audit/0123456789abcdef "))
        let parsed = try CheckpointNote.parseAll(text)
        #expect(parsed == [note, note])
        #expect(parsed[0].isSigned(by: key.publicKey.rawRepresentation))
        #expect(!parsed[0].isSigned(by: Curve25519.Signing.PrivateKey().publicKey.rawRepresentation))
        var edited = note
        edited.size = 41
        #expect(!edited.isSigned(by: key.publicKey.rawRepresentation), "the size is signed")
        #expect(throws: CheckpointNote.ParseError.self) { try CheckpointNote.parseAll("origin\nnot-a-number\nAAAA\n\n") }
    }

    /// Through the real binaries: the server publishes checkpoints on its own; `verify --against` with a pinned
    /// key passes on the trail, fails on another key, and fails once the trail is rolled back.
    @Test func theServerPublishesAndTheCLIVerifiesAgainstIt() throws {
        let directory = try Fixtures.temporaryFolder("accord-publish")
        defer { try? FileManager.default.removeItem(at: directory) }
        let published = directory.appendingPathComponent("published").path
        try FileManager.default.createDirectory(atPath: published, withIntermediateDirectories: true)
        let server = try RunningServer("accord-serve-publish", arguments: ["--checkpoint-every", "5", "--publish", published])
        for _ in 0..<12 { #expect(try server.post("/access/v1/evaluation", ServerFixtures.item("clicks_7d")).status == 200) }
        var notes: [CheckpointNote] = []
        for _ in 0..<50 where notes.map(\.size).max() ?? 0 < 10 {
            Thread.sleep(forTimeInterval: 0.1)
            notes = (try? CheckpointNote.read(from: published)) ?? []
        }
        #expect(notes.map(\.size).max() ?? 0 >= 10, "the server published a checkpoint after every 5 records: \(notes.map(\.size))")
        server.stop()
        let db = server.db
        let key = try SQLiteAuditTrail(path: db, durability: .normal).publicKey
        let ok = try runAccord(["audit", "verify", "--db", db, "--against", published, "--public-key", key])
        #expect(ok.status == 0 && ok.stdout.contains("published checkpoint"), "\(ok.stdout)\(ok.stderr)")
        let other = String(repeating: "ab", count: 32)
        let wrongKey = try runAccord(["audit", "verify", "--db", db, "--against", published, "--public-key", other])
        #expect(wrongKey.status == 1 && wrongKey.stdout.contains("bad_signature"), "\(wrongKey.stdout)")
        #expect(try runAccord(["audit", "verify", "--db", db, "--against", published, "--public-key", "xyz"]).status == 2)

        // By hand: a checkpoint appended to a file, then the trail emptied behind Accord's back.
        let file = directory.appendingPathComponent("notes.txt").path
        #expect(try runAccord(["audit", "checkpoint", "--db", db, "--publish", file]).status == 0)
        #expect(try runAccord(["audit", "checkpoint", "--db", db, "--publish", file]).status == 0)
        #expect(try CheckpointNote.read(from: file).count == 2)
        try tamper(db, Self.wipe)
        #expect(try runAccord(["audit", "verify", "--db", db]).status == 0, "alone, an empty trail verifies")
        let caught = try runAccord(["audit", "verify", "--db", db, "--against", file, "--public-key", key])
        #expect(
            caught.status == 1 && caught.stdout.contains("rolled_back") && caught.stdout.contains("the trail has 0"), "\(caught.stdout)")
    }
}
