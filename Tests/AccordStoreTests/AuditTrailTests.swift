import AccordCore
import AccordRuntime
import AccordTestSupport
import Foundation
import GRDB
import Testing

@testable import AccordStore

/// The audit trail on real SQLite files: append-only, tamper-evident, fail closed.
@Suite struct AuditTrailTests {
    static let asOf = Fixtures.asOf

    /// A fresh folder with a trail holding the example decisions and one checkpoint after the first ten.
    func makeTrail(checkpointAfter: Int = 10) throws -> (directory: URL, trail: SQLiteAuditTrail, records: [AuditRecord]) {
        let directory = try Fixtures.temporaryFolder("accord-audit")
        let trail = try SQLiteAuditTrail(path: directory.appendingPathComponent("audit.sqlite").path)
        let plan = try Fixtures.referencePlan()
        var records: [AuditRecord] = []
        for (i, request) in try Fixtures.exampleRequests().enumerated() {
            records.append(
                try trail.record(plan.evaluate(request, asOf: Self.asOf), for: request, decisionID: "decision-\(i + 1)", at: Self.asOf))
            if i + 1 == checkpointAfter { try trail.checkpoint(at: Self.asOf) }
        }
        return (directory, trail, records)
    }

    /// A second, raw connection to the same file: what someone with file access could do.
    func tamper(_ trail: SQLiteAuditTrail, _ sql: String) throws {
        let queue = try DatabaseQueue(path: trail.path)
        try queue.write { db in try db.execute(sql: sql) }
    }

    @Test func recordsChainAndVerify() throws {
        let (directory, trail, records) = try makeTrail()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(records.count == 16)
        #expect(records.map(\.sequence) == Array(1...16))
        #expect(records[0].previousHash == AuditRecord.genesis)
        for (previous, next) in zip(records, records.dropFirst()) { #expect(next.previousHash == previous.hash) }
        let verification = try trail.verify()
        #expect(verification.isIntact, "\(verification.problems)")
        #expect(verification.records == 16 && verification.checkpoints == 1)
        #expect(try trail.records() == records)
    }

    @Test func triggersRefuseUpdateAndDelete() throws {
        let (directory, trail, _) = try makeTrail()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: DatabaseError.self) { try tamper(trail, "UPDATE audit_record SET effect = 'permit' WHERE sequence = 2") }
        #expect(throws: DatabaseError.self) { try tamper(trail, "DELETE FROM audit_record WHERE sequence = 2") }
        #expect(throws: DatabaseError.self) { try tamper(trail, "DELETE FROM audit_checkpoint") }
        #expect(try trail.verify().isIntact)
    }

    @Test func noClearSubjectIdInTheFile() throws {
        let (directory, trail, records) = try makeTrail()
        defer { try? FileManager.default.removeItem(at: directory) }
        let bytes =
            try Data(contentsOf: URL(fileURLWithPath: trail.path))
            + ((try? Data(contentsOf: URL(fileURLWithPath: trail.path + "-wal"))) ?? Data())
        for subject in ["u-1001", "u-1002", "u-2001", "u-3001"] {
            #expect(bytes.range(of: Data(subject.utf8)) == nil, "\(subject) appears in the database file")
        }
        // The pseudonym is only in the lookup table; the record holds a seal under the subject's own key.
        #expect(records[0].subjectSeal.count == 32)
        #expect(records[0].subjectSeal != trail.pseudonym(for: "u-1001"))
        #expect(try trail.query(AuditQuery(subject: "u-1001")).map(\.decisionID) == ["decision-1"])
    }

    @Test func detectsAnEditedField() throws {
        let (directory, trail, _) = try makeTrail()
        defer { try? FileManager.default.removeItem(at: directory) }
        try tamper(trail, "DROP TRIGGER audit_record_no_update; UPDATE audit_record SET effect = 'permit' WHERE sequence = 5")
        let problems = try trail.verify().problems
        #expect(problems.first?.kind == .edited)
        #expect(problems.first?.sequence == 5)
        #expect(problems.first?.decisionID == "decision-5")
    }

    /// A value rewritten with another type converts back to the original: the type itself is checked, and
    /// reading such rows never traps.
    @Test func detectsAValueStoredWithAnotherType() throws {
        let (directory, trail, records) = try makeTrail()
        defer { try? FileManager.default.removeItem(at: directory) }
        let seconds = Int64(records[4].recordedAt.timeIntervalSince1970)
        try tamper(trail, "DROP TRIGGER audit_record_no_update; UPDATE audit_record SET recorded_at = \(seconds).4 WHERE sequence = 5")
        let problems = try trail.verify().problems
        #expect(problems.map(\.kind) == [.edited])
        #expect(problems.first?.sequence == 5)
        try tamper(trail, "UPDATE audit_record SET recorded_at = 'soon', hash = 'x' WHERE sequence = 6")
        #expect(try trail.records().count == 16, "read without trapping")
        #expect(try trail.query(AuditQuery(from: AuditTrailTests.asOf)).count <= 16)
        #expect(try trail.verify().problems.contains { $0.kind == .edited && $0.sequence == 6 })
    }

    @Test func detectsADeletedRecord() throws {
        let (directory, trail, _) = try makeTrail()
        defer { try? FileManager.default.removeItem(at: directory) }
        try tamper(trail, "DROP TRIGGER audit_record_no_delete; DELETE FROM audit_record WHERE sequence = 7")
        let problems = try trail.verify().problems
        #expect(problems.first?.kind == .missing)
        #expect(problems.first?.sequence == 7)
        #expect(problems.contains { $0.kind == .chainBroken && $0.sequence == 8 })
        #expect(problems.contains { $0.kind == .checkpointMismatch })
    }

    @Test func detectsReorderedRecords() throws {
        let (directory, trail, _) = try makeTrail()
        defer { try? FileManager.default.removeItem(at: directory) }
        try tamper(
            trail,
            """
            DROP TRIGGER audit_record_no_update;
            UPDATE audit_record SET sequence = -1 WHERE sequence = 12;
            UPDATE audit_record SET sequence = 12 WHERE sequence = 13;
            UPDATE audit_record SET sequence = 13 WHERE sequence = -1;
            """)
        let problems = try trail.verify().problems
        #expect(problems.first?.kind == .chainBroken)
        #expect(problems.first?.sequence == 12)
    }

    @Test func detectsARecordAppendedBehindTheEnginesBack() throws {
        let (directory, trail, records) = try makeTrail()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A forger who knows the format computes a valid chain hash, but not the engine's MAC.
        var forged = records[15]
        forged.sequence = 17
        forged.decisionID = "forged"
        forged.previousHash = records[15].hash
        forged.hash = forged.computedHash
        try tamper(
            trail,
            """
            INSERT INTO audit_record (sequence, decision_id, recorded_at, revision, actor, purpose, action, subject_seal, jurisdiction,
                effect, resources, processing_region, previous_hash, hash, mac)
            SELECT 17, 'forged', recorded_at, revision, actor, purpose, action, subject_seal, jurisdiction, effect, resources,
                processing_region, X'\(forged.previousHash.hexString)', X'\(forged.hash.hexString)', mac FROM audit_record WHERE sequence = 16
            """)
        let problems = try trail.verify().problems
        #expect(problems.map(\.kind) == [.forged])
        #expect(problems.first?.sequence == 17)
    }

    @Test func detectsTruncationBeforeTheLastCheckpoint() throws {
        let (directory, trail, _) = try makeTrail(checkpointAfter: 16)
        defer { try? FileManager.default.removeItem(at: directory) }
        try tamper(trail, "DROP TRIGGER audit_record_no_delete; DELETE FROM audit_record WHERE sequence > 13")
        let problems = try trail.verify().problems
        #expect(problems.map(\.kind) == [.truncated])
        #expect(problems.first?.sequence == 14)
    }

    @Test func detectsTwoCheckpointsForTheSameSize() throws {
        let (directory, trail, _) = try makeTrail()
        defer { try? FileManager.default.removeItem(at: directory) }
        try tamper(
            trail,
            """
            INSERT INTO audit_checkpoint (size, root, created_at, signature, public_key)
            SELECT size, '\(String(repeating: "ab", count: 32))', created_at, signature, public_key FROM audit_checkpoint WHERE id = 1
            """)
        let kinds = try trail.verify().problems.map(\.kind)
        #expect(kinds.contains(.conflictingCheckpoints))
        #expect(kinds.contains(.badSignature))
    }

    @Test func cliRecordsAndVerifies() throws {
        let directory = try Fixtures.temporaryFolder("accord-cli-audit")
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("trail.sqlite").path
        let eval = try runAccord([
            "eval", "--policies", "policies", "--requests", "examples/requests.jsonl", "--as-of", "2026-06-01T00:00:00Z",
            "--record", "--db", db,
        ])
        #expect(eval.status == 0, "\(eval.stderr)")
        let ids = eval.stdout.split(separator: "\n").compactMap { try? jsonObject(String($0))["decision_id"] as? String }
        #expect(ids.count == 16)
        #expect(try runAccord(["audit", "checkpoint", "--db", db]).status == 0)
        let verify = try runAccord(["audit", "verify", "--db", db])
        #expect(verify.status == 0)
        #expect(verify.stdout.contains("ok: 16 records, 1 checkpoints verified"))
        let recorded = try SQLiteAuditTrail(path: db).records()
        #expect(recorded.map(\.decisionID) == ids)
        #expect(Set(recorded.map(\.revision)).count == 1, "one policy revision decided them all")

        let queue = try DatabaseQueue(path: db)
        try queue.write {
            try $0.execute(
                sql: "DROP TRIGGER audit_record_no_update; UPDATE audit_record SET purpose = 'fraud.detection' WHERE sequence = 4")
        }
        let tampered = try runAccord(["audit", "verify", "--db", db])
        #expect(tampered.status == 1)
        #expect(tampered.stdout.contains("edited: record 4 (\(ids[3]))"))
    }
}

/// Durability: a decision printed (so reported as recorded) survives SIGKILL of the recording process.
@Suite struct AuditCrashTests {
    @Test func killedMidBurstLosesNoReportedDecision() throws {
        let directory = try Fixtures.temporaryFolder("accord-crash")
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("trail.sqlite").path
        let request = try String(contentsOfFile: Repository.path("examples/requests.jsonl"), encoding: .utf8).split(separator: "\n")[0]

        spawnLock.lock()
        let (process, input, output) = try startAccord(
            ["eval", "--policies", "policies", "--requests", "-", "--as-of", "2026-06-01T00:00:00Z", "--record", "--db", db])
        // A burst far longer than we wait for: the process is killed while still writing.
        let burst = Data(String(repeating: request + "\n", count: 5_000).utf8)
        // The writer will hit a closed pipe once the child is killed: that must be an error, not SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let writer = Thread { try? input.fileHandleForWriting.write(contentsOf: burst) }
        writer.start()
        var received = Data()
        var reported: [String] = []
        while reported.count < 200 {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            received.append(chunk)
            let lines = received.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            reported = lines.dropLast().compactMap { try? jsonObject(String(decoding: $0, as: UTF8.self))["decision_id"] as? String }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? input.fileHandleForWriting.close()
        spawnLock.unlock()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(reported.count >= 200)

        let trail = try SQLiteAuditTrail(path: db)
        let recorded = Set(try trail.records().map(\.decisionID))
        let lost = reported.filter { !recorded.contains($0) }
        #expect(lost.isEmpty, "\(lost.count) decisions reported as recorded are missing")
        #expect(recorded.count >= reported.count)
        #expect(recorded.count < 5_000, "the burst should have been cut short")
        let verification = try trail.verify()
        #expect(verification.isIntact, "\(verification.problems)")
    }
}

/// The canonical encoding: length-prefixed fields, so no two different records encode alike.
@Suite struct CanonicalEncodingTests {
    static func record(actor: String, purpose: String, jurisdiction: String?) -> AuditRecord {
        AuditRecord(
            sequence: 42, decisionID: "d1", recordedAt: AuditTrailTests.asOf, revision: "r", actor: actor, purpose: purpose,
            action: "train", subjectSeal: Data(repeating: 7, count: 32), jurisdiction: jurisdiction, effect: "deny",
            resources: "[]", processingRegion: "EU", previousHash: AuditRecord.genesis, hash: Data(), mac: Data())
    }

    @Test func fieldBoundariesCannotShift() {
        // Moving a character across a field boundary, or an empty value against an absent one, changes the hash.
        let a = Self.record(actor: "ab", purpose: "c", jurisdiction: nil)
        let b = Self.record(actor: "a", purpose: "bc", jurisdiction: nil)
        let c = Self.record(actor: "ab", purpose: "c", jurisdiction: "")
        #expect(Set([a.computedHash, b.computedHash, c.computedHash]).count == 3)
    }

    @Test func layoutIsTheDocumentedOne() {
        let bytes = Self.record(actor: "ab", purpose: "c", jurisdiction: nil).canonicalEncoding
        let tag = Array("accord-audit-record/v1\n".utf8)
        #expect(Array(bytes.prefix(tag.count)) == tag)
        // sequence: length 8, then 42 big-endian
        #expect(Array(bytes[tag.count..<(tag.count + 12)]) == [0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 42])
        // decision id: length 2, "d1"
        #expect(Array(bytes[(tag.count + 12)..<(tag.count + 18)]) == [0, 0, 0, 2, UInt8(ascii: "d"), UInt8(ascii: "1")])
        // ends with the previous hash: length 32 and 32 zero bytes
        #expect(Array(bytes.suffix(36)) == [0, 0, 0, 32] + [UInt8](repeating: 0, count: 32))
    }

    @Test func recordsReadBackHashAsWritten() throws {
        let (directory, trail, records) = try AuditTrailTests().makeTrail()
        defer { try? FileManager.default.removeItem(at: directory) }
        let stored = try trail.records()
        #expect(stored == records)
        for record in stored { #expect(record.computedHash == record.hash) }
    }
}

/// Inclusion proofs against signed checkpoints, checked offline.
@Suite struct InclusionProofTests {
    @Test func everyCheckpointedRecordHasAProofThatVerifies() throws {
        let (directory, trail, records) = try AuditTrailTests().makeTrail(checkpointAfter: 11)
        defer { try? FileManager.default.removeItem(at: directory) }
        for record in records.prefix(11) {
            let proof = try #require(try trail.prove(decisionID: record.decisionID))
            #expect(proof.verify(publicKey: trail.publicKey), "record \(record.sequence)")
            #expect(proof.checkpoint.size == 11)
        }
        #expect(try trail.prove(decisionID: records[12].decisionID) == nil, "no checkpoint covers record 13 yet")
        try trail.checkpoint()
        #expect(try #require(try trail.prove(decisionID: records[12].decisionID)).verify())
    }

    @Test func aTamperedProofFails() throws {
        let (directory, trail, records) = try AuditTrailTests().makeTrail(checkpointAfter: 16)
        defer { try? FileManager.default.removeItem(at: directory) }
        let proof = try #require(try trail.prove(decisionID: records[5].decisionID))
        #expect(InclusionProof(json: try jsonObject(proof.json.serialized())) == proof, "a proof survives its JSON form unchanged")
        var relabelled = proof
        relabelled.decisionID = records[6].decisionID
        #expect(!relabelled.verify(), "a proof is about one decision: it cannot be given another's id")
        var otherRecord = proof
        otherRecord.record = Data(records[6].canonicalEncoding).hexString
        #expect(!otherRecord.verify(), "the record must hash to the leaf")
        var otherLeaf = proof
        otherLeaf.recordHash = records[6].hash.hexString
        #expect(!otherLeaf.verify())
        var otherIndex = proof
        otherIndex.leafIndex = 4
        #expect(!otherIndex.verify())
        var shortened = proof
        shortened.auditPath.removeLast()
        #expect(!shortened.verify())
        var wrongKey = proof
        #expect(!wrongKey.verify(publicKey: String(repeating: "00", count: 32)))
        wrongKey.checkpoint.root = records[0].hash.hexString
        #expect(!wrongKey.verify(), "a root the signature does not cover")
    }

    /// RFC 6962's reference shape: in a tree of 7 leaves, leaf 6's path has two nodes.
    @Test func auditPathLengthsFollowTheTreeShape() {
        let leaves = (0..<7).map { Data([UInt8($0)]) }
        #expect(MerkleTree.inclusionProof(index: 0, leaves: leaves[...]).count == 3)
        #expect(MerkleTree.inclusionProof(index: 6, leaves: leaves[...]).count == 2)
        let root = MerkleTree.root(leaves[...])
        for i in 0..<7 {
            #expect(
                MerkleTree.verifyInclusion(
                    leaf: leaves[i], index: i, size: 7, proof: MerkleTree.inclusionProof(index: i, leaves: leaves[...]), root: root))
        }
    }

    @Test func cliProvesAndVerifiesOffline() throws {
        let directory = try Fixtures.temporaryFolder("accord-proof")
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("trail.sqlite").path
        let eval = try runAccord([
            "eval", "--policies", "policies", "--requests", "examples/requests.jsonl", "--as-of", "2026-06-01T00:00:00Z",
            "--record", "--db", db,
        ])
        let ids = eval.stdout.split(separator: "\n").compactMap { try? jsonObject(String($0))["decision_id"] as? String }
        #expect(try runAccord(["audit", "checkpoint", "--db", db]).status == 0)
        let prove = try runAccord(["audit", "prove", "--db", db, "--decision", ids[3]])
        #expect(prove.status == 0, "\(prove.stderr)")
        let proofFile = directory.appendingPathComponent("proof.json")
        try Data(prove.stdout.utf8).write(to: proofFile)
        // Offline: the database is gone; the proof and the public key are enough.
        let publicKey = try SQLiteAuditTrail(path: db).publicKey
        try FileManager.default.removeItem(atPath: db)
        let verified = try runAccord(["audit", "verify-proof", proofFile.path, "--public-key", publicKey])
        #expect(verified.status == 0)
        #expect(verified.stdout.contains("ok: decision \(ids[3]) is record 4 of 16"))
        let tampered = prove.stdout.replacingOccurrences(of: "\"leaf_index\":3", with: "\"leaf_index\":2")
        #expect(tampered != prove.stdout)
        let refused = try runAccord(["audit", "verify-proof", "-"], stdin: Data(tampered.utf8))
        #expect(refused.status == 1)
    }
}

/// Keys and schemas that do not belong to the data are refused, never silently replaced.
@Suite struct StoreOpeningTests {
    @Test func aMissingKeyForExistingDataIsAnError() throws {
        let (directory, trail, _) = try AuditTrailTests().makeTrail()
        defer { try? FileManager.default.removeItem(at: directory) }
        let moved = directory.appendingPathComponent("elsewhere.key").path
        try FileManager.default.moveItem(atPath: trail.path + ".signing-key", toPath: moved)
        #expect(throws: StoreError.self) { try SQLiteAuditTrail(path: trail.path) }
        #expect(!FileManager.default.fileExists(atPath: trail.path + ".signing-key"), "no new key was made")
        #expect(try SQLiteAuditTrail(path: trail.path, signingKeyPath: moved).verify().isIntact)

        let export = try runAccord(["audit", "export", "--db", trail.path, "--subject", "u-1001", "--subject-key", "/nonexistent/key"])
        #expect(export.status == 3)
        #expect(export.stderr.contains("missing, and the database already holds data"))
        // A new database may make its keys.
        let fresh = directory.appendingPathComponent("new.sqlite").path
        _ = try SQLiteAuditTrail(path: fresh)
        #expect(FileManager.default.fileExists(atPath: fresh + ".subject-key"))
    }

    @Test func aTrailFromAnEarlierDevelopmentSchemaIsRefused() throws {
        let directory = try Fixtures.temporaryFolder("accord-old-schema")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("old.sqlite").path
        try DatabaseQueue(path: path).write { db in
            try db.execute(
                sql: """
                    CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                    INSERT INTO grdb_migrations VALUES ('0001-audit-trail');
                    CREATE TABLE audit_record (sequence INTEGER PRIMARY KEY, subject TEXT NOT NULL, hash TEXT NOT NULL);
                    """)
        }
        #expect {
            try SQLiteAuditTrail(path: path)
        } throws: { error in
            "\(error)".contains("earlier audit-trail schema")
        }
    }
}
