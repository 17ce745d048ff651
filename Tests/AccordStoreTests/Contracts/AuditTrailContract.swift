import AccordCore
import AccordStore
import AccordTestSupport
import Foundation
import Testing

/// `AuditTrail`'s contract (Sources/AccordStore/Audit/AuditTrail.swift), for every backend.
@Suite struct AuditTrailContract {
    static let asOf = Date(timeIntervalSince1970: 1_780_000_000)

    static func entries(_ count: Int, subject: String = "u-1001", from first: Int = 0) throws -> [AuditEntry] {
        let plan = try Fixtures.referencePlan()
        var request = try Fixtures.exampleRequests()[0]
        request.subject.id = subject
        let decision = plan.evaluate(request, asOf: asOf)
        return (first..<first + count).map { AuditEntry(decision: decision, request: request, decisionID: "contract-\($0)", instant: asOf) }
    }

    @Test(arguments: StorageBackends.names) func appendsInOrderInOneUnbrokenChain(backend: String) throws {
        try StorageBackends.with(backend) { stores in
            let first = try stores.trail.record(batch: try Self.entries(3))
            let second = try stores.trail.record(batch: try Self.entries(2, from: 3))
            #expect((first + second).map(\.sequence) == [1, 2, 3, 4, 5], "sequences contiguous, in the order given")
            #expect((first + second).map(\.decisionID) == (0..<5).map { "contract-\($0)" })
            let verification = try stores.trail.verify()
            #expect(verification.isIntact && verification.records == 5)
        }
    }

    @Test(arguments: StorageBackends.names) func findsRecordsByQueryNewestFirst(backend: String) throws {
        try StorageBackends.with(backend) { stores in
            _ = try stores.trail.record(batch: try Self.entries(2, subject: "u-1") + Self.entries(1, subject: "u-2", from: 2))
            #expect(try stores.trail.query(AuditQuery(subject: "u-1")).map(\.decisionID) == ["contract-1", "contract-0"])
            #expect(try stores.trail.query(AuditQuery(decisionID: "contract-2")).map(\.sequence) == [3])
            #expect(try stores.trail.query(AuditQuery(subject: "nobody")).isEmpty)
        }
    }

    @Test(arguments: StorageBackends.names) func erasureLeavesNoRecordLinkedToThePerson(backend: String) throws {
        try StorageBackends.with(backend) { stores in
            _ = try stores.trail.record(batch: try Self.entries(2, subject: "u-1") + Self.entries(1, subject: "u-2", from: 2))
            #expect(try stores.trail.erase(subject: "u-1", at: Self.asOf) == 2)
            #expect(try stores.trail.query(AuditQuery(subject: "u-1")).isEmpty)
            #expect(try stores.trail.query(AuditQuery(subject: "u-2")).count == 1, "others keep theirs")
            #expect(try stores.trail.verify().isIntact, "an erasure is not tampering")
        }
    }

    @Test(arguments: StorageBackends.names) func checkpointsCoverEveryRecordSoFar(backend: String) throws {
        try StorageBackends.with(backend) { stores in
            _ = try stores.trail.record(batch: try Self.entries(4))
            let checkpoint = try stores.trail.checkpoint(at: Self.asOf)
            #expect(checkpoint.size == 4)
            _ = try stores.trail.record(batch: try Self.entries(1, from: 4))
            #expect(try stores.trail.checkpoint(at: Self.asOf).size == 5)
            #expect(try stores.trail.verify().checkpoints == 2)
        }
    }

    @Test(arguments: StorageBackends.names) func countsWhatItHoldsOverAWindow(backend: String) throws {
        try StorageBackends.with(backend) { stores in
            _ = try stores.trail.record(batch: try Self.entries(3, subject: "u-1") + Self.entries(2, subject: "u-2", from: 3))
            let stats = try stores.trail.stats(from: nil, to: nil, topReasons: 5)
            #expect(stats.decisions == 5)
            #expect(stats.byPurpose.map(\.purpose) == [try Fixtures.exampleRequests()[0].purpose])
            let activity = try stores.trail.activity(from: nil, to: nil)
            #expect(activity.map(\.records).reduce(0, +) == 5, "every record counted once")
            #expect(try stores.trail.activity(from: nil, to: Self.asOf.addingTimeInterval(-1)).isEmpty, "nothing before the first")
            #expect(try stores.trail.stats(from: Self.asOf.addingTimeInterval(1), to: nil, topReasons: 5).decisions == 0)
            // A window after the last record, and one that ends before the first: nothing, not a crash.
            #expect(try stores.trail.query(AuditQuery(from: Self.asOf.addingTimeInterval(60))).isEmpty)
            #expect(try stores.trail.query(AuditQuery(to: Self.asOf.addingTimeInterval(-60), subject: "u-1")).isEmpty)
            #expect(try stores.trail.checkpoints().isEmpty)
            _ = try stores.trail.checkpoint(at: Self.asOf)
            #expect(try stores.trail.checkpoints().map(\.size) == [5])
        }
    }

    @Test(arguments: StorageBackends.names) func knowsItsSizeAndSignsNotesWitnessesCanCheck(backend: String) throws {
        try StorageBackends.with(backend) { stores in
            #expect(try stores.trail.latestSequence() == 0, "an empty trail")
            #expect(stores.trail.refusal == nil, "a fresh store takes writes")
            _ = try stores.trail.record(batch: try Self.entries(3))
            #expect(try stores.trail.latestSequence() == 3)
            let checkpoint = try stores.trail.checkpoint(at: Self.asOf)
            let note = try stores.trail.note(for: checkpoint)
            #expect(
                note.size == 3 && note.root.map { String(format: "%02x", $0) }.joined() == checkpoint.root,
                "the note states the checkpoint's tree")
            let key = try #require(CheckpointNote.publicKey(hex: checkpoint.publicKey))
            #expect(note.isSigned(by: key), "signed with the trail's own key")
            var forged = note
            forged.size = 4
            #expect(!forged.isSigned(by: key), "a changed size no longer verifies")
        }
    }
}
