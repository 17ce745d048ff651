import AccordCore
import AccordTestSupport
import Crypto
import Foundation
import GRDB
import Testing

@testable import AccordStore

/// A trail of the sixteen example requests decided twice, a day apart, one hour between requests: 32 records.
struct QueryFixture {
    let directory: URL
    let trail: SQLiteAuditTrail
    let records: [AuditRecord]
    /// The clear subject id behind each record, by decision id (what the requests said).
    let subjects: [String: String]

    init() throws {
        directory = try Fixtures.temporaryFolder("accord-query")
        trail = try SQLiteAuditTrail(path: directory.appendingPathComponent("audit.sqlite").path)
        let plan = try Fixtures.referencePlan()
        let requests = try Fixtures.exampleRequests()
        var records: [AuditRecord] = []
        var subjects: [String: String] = [:]
        for day in 0..<2 {
            for (i, request) in requests.enumerated() {
                let id = "d\(day)-\(i + 1)"
                let instant = Fixtures.asOf.addingTimeInterval(Double(day * 86_400 + i * 3_600))
                records.append(
                    try trail.record(plan.evaluate(request, asOf: Fixtures.asOf), for: request, decisionID: id, at: instant))
                subjects[id] = request.subject.id
            }
        }
        self.records = records
        self.subjects = subjects
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

@Suite struct AuditQueryTests {
    /// Each filter against a plain scan of every record: same records, newest first, and the filter narrows.
    @Test func everyFilterMatchesAPlainScan() throws {
        let fixture = try QueryFixture()
        defer { fixture.remove() }
        let all = fixture.records
        let noon = Fixtures.asOf.addingTimeInterval(12 * 3_600)
        let cases: [(String, AuditQuery, (AuditRecord) -> Bool)] = [
            ("from", AuditQuery(from: noon), { $0.recordedAt >= noon }),
            ("to", AuditQuery(to: noon), { $0.recordedAt < noon }),
            ("subject", AuditQuery(subject: "u-2003"), { fixture.subjects[$0.decisionID] == "u-2003" }),
            (
                "purpose", AuditQuery(purpose: "personalization"),
                { $0.purpose.hasPrefix("personalization.") || $0.purpose == "personalization" }
            ),
            ("purpose leaf", AuditQuery(purpose: "ads.targeting"), { $0.purpose == "ads.targeting" }),
            ("action", AuditQuery(action: "train"), { $0.action == "train" }),
            ("effect", AuditQuery(effect: "deny"), { $0.effect == "deny" }),
            ("effect partial", AuditQuery(effect: "partial"), { $0.effect == "partial" }),
            ("rule", AuditQuery(rule: "recs-behavioural"), { $0.ruleIDs.contains("recs-behavioural") }),
            ("reason", AuditQuery(reason: "consent.missing"), { $0.reasonCodes.contains("consent.missing") }),
            ("actor", AuditQuery(actor: "trainer"), { $0.actor == "trainer" }),
            ("decision id", AuditQuery(decisionID: "d1-5"), { $0.decisionID == "d1-5" }),
            (
                "combined", AuditQuery(from: noon, purpose: "personalization", effect: "permit", actor: "recsys-online"),
                { $0.recordedAt >= noon && $0.purpose.hasPrefix("personalization") && $0.effect == "permit" && $0.actor == "recsys-online" }
            ),
            (
                "two terms", AuditQuery(reason: "consent.missing", actor: "recsys-online"),
                { $0.reasonCodes.contains("consent.missing") && $0.actor == "recsys-online" }
            ),
            (
                "time and term", AuditQuery(from: noon, to: noon.addingTimeInterval(86_400), reason: "consent.missing"),
                { $0.recordedAt >= noon && $0.recordedAt < noon.addingTimeInterval(86_400) && $0.reasonCodes.contains("consent.missing") }
            ),
            (
                "subject and reason", AuditQuery(subject: "u-1001", reason: all[0].reasonCodes[0]),
                { fixture.subjects[$0.decisionID] == "u-1001" && $0.reasonCodes.contains(all[0].reasonCodes[0]) }
            ),
        ]
        for (name, query, predicate) in cases {
            let expected = all.filter(predicate).reversed().map(\.decisionID)
            let found = try fixture.trail.query(query).map(\.decisionID)
            #expect(found == Array(expected), "\(name)")
            #expect(!found.isEmpty && found.count < all.count, "\(name) should narrow the trail, not empty it")
        }
        // One policy revision decided everything here: its prefix finds all, another finds none.
        #expect(try fixture.trail.query(AuditQuery(revision: String(all[0].revision.prefix(8)))).count == all.count)
        #expect(try fixture.trail.query(AuditQuery(revision: "ffff" + all[0].revision.prefix(4))).isEmpty)
        #expect(
            try fixture.trail.query(AuditQuery(purpose: "personalization", limit: 3)).map(\.decisionID)
                == Array(all.filter { $0.purpose.hasPrefix("personalization") }.reversed().prefix(3).map(\.decisionID)))
    }

    @Test func purposeMatchesWholeNamesOnly() throws {
        let fixture = try QueryFixture()
        defer { fixture.remove() }
        #expect(try fixture.trail.query(AuditQuery(purpose: "personal")).isEmpty, "a prefix of a name is not a parent")
        #expect(try fixture.trail.query(AuditQuery(purpose: "ads.target")).isEmpty)
        #expect(try fixture.trail.query(AuditQuery(subject: "nobody")).isEmpty)
    }

    /// Each query starts from the narrowest structure it can: the subject index, the decision id's unique
    /// index, or the postings of one term; only column filters scan.
    @Test func eachQueryStartsFromItsNarrowestIndex() throws {
        let fixture = try QueryFixture()
        defer { fixture.remove() }
        let trail = fixture.trail
        let tag = AuditTerm.subjectTag(trail.pseudonym(for: "u-1001"))
        #expect(trail.strategy(for: AuditQuery(subject: "u-1001", reason: "consent.missing")) == .subject(tag: tag))
        #expect(trail.strategy(for: AuditQuery(purpose: "ads", rule: "r1", actor: "a")) == .postings(term: "u:r1"))
        #expect(trail.strategy(for: AuditQuery(reason: "consent.missing")) == .postings(term: "r:consent.missing"))
        #expect(trail.strategy(for: AuditQuery(purpose: "ads", effect: "deny")) == .postings(term: "p:ads"))
        #expect(trail.strategy(for: AuditQuery(effect: "deny")) == .postings(term: "e:deny"))
        #expect(trail.strategy(for: AuditQuery(actor: "x", decisionID: "d1-1")) == .scan)
        #expect(trail.strategy(for: AuditQuery(revision: "abc")) == .scan)
    }

    /// A small commit's postings wait in one row (all its terms); they are folded into one `audit_term` row per
    /// term.
    @Test func postingsOfSmallCommitsWaitInOneRowEach() throws {
        let fixture = try QueryFixture()
        defer { fixture.remove() }
        let trail = fixture.trail
        func trainer() throws -> [Int64] {
            try trail.queue.read { db in
                try SQLiteAuditTrail.pendingPostings(db, from: 0).filter { $0.term == "a:trainer" }.flatMap(\.sequences)
            }
        }
        #expect(try trail.queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM audit_term_pending") } == 32, "one row per commit")
        #expect(try trainer() == [14, 15, 30, 31])
        try trail.queue.write { db in try trail.foldPendingPostings(db) }
        let rows = try trail.queue.read { db in
            try Row.fetchAll(db, sql: "SELECT term, sequences FROM audit_term WHERE term = 'a:trainer'")
        }
        #expect(rows.count == 1 && rows.compactMap { Postings.decode($0["sequences"]) }.first == [14, 15, 30, 31])
        #expect(try trainer().isEmpty)
        #expect(try trail.query(AuditQuery(actor: "trainer")).map(\.sequence) == [31, 30, 15, 14])
        #expect(Postings.decode(Postings.encode([1, 2, 300, 70_000, 70_001])) == [1, 2, 300, 70_000, 70_001])
        #expect(Postings.decode(Data([0x80])) == nil, "a truncated varint is refused")
        #expect(Postings.decodePending(Data([5, 0x61])) == nil, "a term longer than its row is refused")
    }

    /// Small and large commits mixed: pending rows are folded every few hundred commits and before a large
    /// commit, and queries (newest first, with limits) and stats see exactly what a scan sees throughout.
    @Test func queriesSeePendingAndFoldedPostingsAlike() throws {
        let directory = try Fixtures.temporaryFolder("accord-pending")
        defer { try? FileManager.default.removeItem(at: directory) }
        let trail = try SQLiteAuditTrail(path: directory.appendingPathComponent("audit.sqlite").path, durability: .off)
        let plan = try Fixtures.referencePlan()
        let requests = try Fixtures.exampleRequests()
        var count = 0
        func commit(_ size: Int) throws {
            _ = try trail.record(
                batch: (0..<size).map { _ in
                    count += 1
                    let request = requests[count % requests.count]
                    return AuditEntry(
                        decision: plan.evaluate(request, asOf: Fixtures.asOf), request: request, decisionID: "m-\(count)",
                        instant: Fixtures.asOf)
                })
        }
        func pending() throws -> Int { try trail.queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM audit_term_pending") } ?? -1 }
        func check(_ stage: String) throws {
            let all = try trail.query(AuditQuery())
            for query in [
                AuditQuery(reason: "consent.missing"), AuditQuery(actor: "trainer", limit: 7), AuditQuery(effect: "permit", limit: 40),
                AuditQuery(from: Fixtures.asOf, purpose: "personalization"),
            ] {
                let expected = all.filter { record in
                    (query.reason.map { record.reasonCodes.contains($0) } ?? true) && (query.actor.map { record.actor == $0 } ?? true)
                        && (query.effect.map { record.effect == $0 } ?? true)
                        && (query.purpose.map { record.purpose.hasPrefix($0) } ?? true)
                }.prefix(query.limit ?? .max).map(\.sequence)
                #expect(try trail.query(query).map(\.sequence) == Array(expected), "\(stage)")
            }
            var reasons: [String: Int] = [:]
            for record in all { for code in Set(record.reasonCodes) { reasons[code, default: 0] += 1 } }
            for (code, records) in try trail.stats(topReasons: 50).topReasons { #expect(reasons[code] == records, "\(stage): \(code)") }
        }
        for _ in 0..<10 { try commit(1) }
        #expect(try pending() == 10)
        try check("ten small commits, all pending")
        try commit(100)
        #expect(try pending() == 0, "a large commit folds what is pending first")
        for _ in 0..<5 { try commit(3) }
        try check("pending after folded")
        for _ in 0..<SQLiteAuditTrail.foldEvery - 5 { try commit(1) }
        #expect(try pending() == 0, "folded at \(SQLiteAuditTrail.foldEvery) pending commits")
        for _ in 0..<2 { try commit(1) }
        // A new connection counts what is already pending.
        let reopened = try SQLiteAuditTrail(path: trail.path, durability: .off)
        #expect(try reopened.queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM audit_term_pending") } == 2)
        try check("after the second fold")
        #expect(try trail.verify().isIntact)
    }

    @Test func statsCountWhatTheRecordsSay() throws {
        let fixture = try QueryFixture()
        defer { fixture.remove() }
        let secondDay = Fixtures.asOf.addingTimeInterval(86_400)
        let stats = try fixture.trail.stats(from: secondDay)
        let window = fixture.records.filter { $0.recordedAt >= secondDay }
        #expect(stats.records == 16 && window.count == 16)
        #expect(stats.first == secondDay)
        for entry in stats.byPurpose {
            let mine = window.filter { $0.purpose == entry.purpose }
            #expect(entry.permit == mine.filter { $0.effect == "permit" }.count)
            #expect(entry.deny == mine.filter { $0.effect == "deny" }.count)
            #expect(entry.partial == mine.filter { $0.effect == "partial" }.count)
        }
        #expect(stats.byPurpose.map(\.total).reduce(0, +) == 16)
        var reasons: [String: Int] = [:]
        for record in window { for code in record.reasonCodes { reasons[code, default: 0] += 1 } }
        #expect(stats.topReasons.first?.records == reasons.values.max())
        for (code, count) in stats.topReasons { #expect(reasons[code] == count, "\(code)") }
        #expect(try fixture.trail.stats().records == 32)
    }

    @Test func exportHoldsOnePersonsRecordsInPlainWords() throws {
        let fixture = try QueryFixture()
        defer { fixture.remove() }
        let mine = try fixture.trail.export(subject: "u-1010")
        #expect(mine.map(\.decisionID) == ["d0-14", "d1-14"], "oldest first")
        #expect(try fixture.trail.export(subject: "nobody").isEmpty)
        // Someone with file access points a lookup entry at another person's record: the seal refuses it.
        let pseudonym = fixture.trail.pseudonym(for: "u-1010")
        try DatabaseQueue(path: fixture.trail.path).write { db in
            try db.execute(
                sql: "INSERT INTO audit_subject (bucket, tag, sequence) VALUES (0, ?, 3)", arguments: [AuditTerm.subjectTag(pseudonym)])
        }
        #expect(try fixture.trail.query(AuditQuery(subject: "u-1010")).count == 2, "the query checks each record's seal")
        #expect(try fixture.trail.export(subject: "u-1010").map(\.decisionID) == ["d0-14", "d1-14"], "and so does the export")
    }
}

/// Crypto-shredding: a subject's records stay in the chain but no longer lead to them.
@Suite struct AuditErasureTests {
    @Test func erasedSubjectIsUnfindableAndTheTrailStillVerifies() throws {
        let fixture = try QueryFixture()
        defer { fixture.remove() }
        let trail = fixture.trail
        try trail.checkpoint(at: Fixtures.asOf)
        let pseudonym = trail.pseudonym(for: "u-1001")
        let key = try #require(
            try trail.queue.read { db in
                try SQLiteAuditTrail.subjectKey(db, pseudonym: pseudonym)
            })
        let theirs = try trail.export(subject: "u-1001")
        #expect(theirs.count == 2)
        let proofBefore = try #require(try trail.prove(decisionID: theirs[0].decisionID))

        #expect(try trail.erase(subject: "u-1001", at: Fixtures.asOf) == 2)

        #expect(try trail.query(AuditQuery(subject: "u-1001")).isEmpty)
        #expect(try trail.export(subject: "u-1001").isEmpty)
        #expect(try trail.count() == 32, "the records stay in the chain")
        let verification = try trail.verify()
        #expect(verification.isIntact, "\(verification.problems)")
        #expect(try #require(try trail.prove(decisionID: theirs[0].decisionID)) == proofBefore)
        #expect(proofBefore.verify(publicKey: trail.publicKey))
        #expect(try trail.stats().erasures == 1)
        #expect(try trail.export(subject: "u-1002").count == 2, "others are untouched")

        // Neither the destroyed key nor the pseudonym is left anywhere in the files.
        let files = [trail.path, trail.path + "-wal"].compactMap { try? Data(contentsOf: URL(fileURLWithPath: $0)) }.reduce(Data(), +)
        #expect(files.range(of: key) == nil, "the erased key is still on disk")
        #expect(files.range(of: pseudonym) == nil)
        #expect(files.range(of: pseudonym.prefix(8)) == nil, "the subject index's tag")
        // Without the key, the seals cannot be tied back to the person by recomputing them.
        let guess = RecordMAC(key: SymmetricKey(data: pseudonym))
        #expect(theirs.allSatisfy { guess.mac(Data($0.decisionID.utf8)) != $0.subjectSeal })

        // The person comes back: new records under a new key, findable again, the old ones still not.
        let plan = try Fixtures.referencePlan()
        let request = try Fixtures.exampleRequests()[0]
        try trail.record(plan.evaluate(request, asOf: Fixtures.asOf), for: request, decisionID: "again", at: Fixtures.asOf)
        #expect(try trail.export(subject: "u-1001").map(\.decisionID) == ["again"])
        #expect(try trail.verify().isIntact)
    }

    /// A second process erases while this one keeps a key cached: the next record must not reuse the dead key.
    @Test func erasureFromAnotherConnectionIsSeen() throws {
        let fixture = try QueryFixture()
        defer { fixture.remove() }
        let other = try SQLiteAuditTrail(path: fixture.trail.path)
        #expect(try other.erase(subject: "u-1001") == 2)
        let plan = try Fixtures.referencePlan()
        let request = try Fixtures.exampleRequests()[0]
        try fixture.trail.record(
            plan.evaluate(request, asOf: Fixtures.asOf), for: request, decisionID: "after", at: Fixtures.asOf)
        #expect(try other.export(subject: "u-1001").map(\.decisionID) == ["after"], "sealed under a key that exists")
    }
}

/// RFC 6962 consistency proofs between checkpoints.
@Suite struct ConsistencyProofTests {
    @Test func everyPrefixIsProvablyConsistent() {
        let leaves = (0..<37).map { Data([UInt8($0), 0xAB]) }
        for newSize in 1...leaves.count {
            let newRoot = MerkleTree.root(leaves.prefix(newSize))
            for oldSize in 1...newSize {
                let oldRoot = MerkleTree.root(leaves.prefix(oldSize))
                let proof = MerkleTree.consistencyProof(oldSize: oldSize, leaves: leaves.prefix(newSize))
                #expect(
                    MerkleTree.verifyConsistency(oldSize: oldSize, newSize: newSize, oldRoot: oldRoot, newRoot: newRoot, proof: proof),
                    "\(oldSize) → \(newSize)")
                if oldSize < newSize {
                    // A history rewritten before the old size is caught.
                    var rewritten = leaves
                    rewritten[oldSize - 1] = Data([0xFF])
                    let forgedOld = MerkleTree.root(rewritten.prefix(oldSize))
                    #expect(
                        !MerkleTree.verifyConsistency(
                            oldSize: oldSize, newSize: newSize, oldRoot: forgedOld, newRoot: newRoot, proof: proof))
                    // A proof for one extension does not vouch for another.
                    var otherExtension = leaves
                    otherExtension[newSize - 1] = Data([0xEE])
                    let otherRoot = MerkleTree.root(otherExtension.prefix(newSize))
                    #expect(
                        !MerkleTree.verifyConsistency(
                            oldSize: oldSize, newSize: newSize, oldRoot: oldRoot, newRoot: otherRoot, proof: proof))
                }
            }
        }
    }

    /// RFC 6962 §2.1.3's example tree of seven leaves: the proof from 4 to 7 is one node; from 3 to 7, four.
    @Test func proofSizesFollowTheRFCExample() {
        let leaves = (0..<7).map { Data([UInt8($0)]) }
        #expect(MerkleTree.consistencyProof(oldSize: 4, leaves: leaves[...]).count == 1)
        #expect(MerkleTree.consistencyProof(oldSize: 3, leaves: leaves[...]).count == 4)
        #expect(MerkleTree.consistencyProof(oldSize: 6, leaves: leaves[...]).count == 3)
    }

    @Test func checkpointsOfATrailAreConsistent() throws {
        let fixture = try QueryFixture()
        defer { fixture.remove() }
        // Checkpoints at 32, then after 4 more records.
        let first = try fixture.trail.checkpoint(at: Fixtures.asOf)
        let plan = try Fixtures.referencePlan()
        let request = try Fixtures.exampleRequests()[3]
        for i in 0..<4 {
            try fixture.trail.record(plan.evaluate(request, asOf: Fixtures.asOf), for: request, decisionID: "more-\(i)")
        }
        let second = try fixture.trail.checkpoint(at: Fixtures.asOf)
        let proof = try #require(try fixture.trail.proveConsistency(from: first.id, to: second.id))
        #expect(proof.verify(publicKey: fixture.trail.publicKey))
        #expect(ConsistencyProof(json: try jsonObject(proof.json.serialized())) == proof)
        var swapped = proof
        swapped.old.root = second.root
        #expect(!swapped.verify(), "a root the old signature does not cover")
        #expect(try fixture.trail.proveConsistency(from: second.id, to: first.id) == nil)
    }
}

/// The released schema is frozen: editing a migration that users' trails already ran would fork them.
@Suite struct MigrationTests {
    @Test func releasedMigrationsAreUnchanged() {
        let pinned = [
            "0001-audit-trail": "4d1a459d0624e140c4d28f1a6de5355ba972cbee3b4fc4df87908c0c810f5b38",
            "0002-consent": "9fe6ebd40b53e3b58775d837baf8639bca94590ef8e9ad1ccad4673da51e81fe",
            "0003-privacy-budget": "951cbce5123bbc5c172beb0f77866e855481fc85403d95ace42b007178d3d302",
            "0004-erasure-across-stores": "0a7029c62438522b4974fe3499968d4f4e42f24fda5e854793cff9740db33227",
            "0005-merkle-state": "77be10275b087e480d588e04f36618db985ae89ab6cb991f022dd7baccc36e04",
            "0006-feature-store": "2e7d962ef93b9dca61d4ce88ea7d5b8c4ded24bfd6c6e7743839507dc75148d2",
            "0007-lineage": "47ce1c6857c86b45f055cc7cb8b0627aa751a3718e2beedfece8fb80fef977ab",
            "0008-pending-postings": "098443aea6f1e9317feccc19240aa597c07dc1cec76226b407516479985ea9d9",
            "0009-append-only-lookups": "34244b0490565ac3665caa060d4fcaeb250fdcc35214104e71bc06361b65cc73",
        ]
        for migration in StoreMigrations.migrations {
            let digest = Data(SHA256.hash(data: Data(migration.sql.utf8))).hexString
            #expect(pinned[migration.name] == digest, "\(migration.name) was edited (sha256 \(digest)); add a new migration instead")
        }
    }
}

/// The audit commands through the real binary.
@Suite struct AuditCLITests {
    /// A trail written by `accord eval --record`, checkpointed.
    func recordedTrail() throws -> (directory: URL, db: String, ids: [String]) {
        let directory = try Fixtures.temporaryFolder("accord-cli-query")
        let db = directory.appendingPathComponent("trail.sqlite").path
        let eval = try runAccord([
            "eval", "--policies", "policies", "--requests", "examples/requests.jsonl", "--as-of", "2026-06-01T00:00:00Z",
            "--record", "--db", db,
        ])
        #expect(eval.status == 0, "\(eval.stderr)")
        let ids = eval.stdout.split(separator: "\n").compactMap { try? jsonObject(String($0))["decision_id"] as? String }
        return (directory, db, ids)
    }

    @Test func queryInEveryFormat() throws {
        let (directory, db, ids) = try recordedTrail()
        defer { try? FileManager.default.removeItem(at: directory) }
        let library = try SQLiteAuditTrail(path: db).query(AuditQuery(purpose: "personalization"))
        #expect(!library.isEmpty)

        let jsonl = try runAccord(["audit", "query", "--db", db, "--purpose", "personalization", "--format", "jsonl"])
        #expect(jsonl.status == 0, "\(jsonl.stderr)")
        let lines = try jsonl.stdout.split(separator: "\n").map { try jsonObject(String($0)) }
        #expect(lines.compactMap { $0["decision_id"] as? String } == library.map(\.decisionID))
        #expect(lines.allSatisfy { ($0["purpose"] as? String)?.hasPrefix("personalization.") == true })
        #expect(lines.allSatisfy { ($0["resources"] as? [[String: Any]])?.isEmpty == false })

        let json = try runAccord(["audit", "query", "--db", db, "--actor", "trainer", "--format", "json"])
        let array = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(array.count == 2)
        #expect(Set(array.compactMap { $0["decision_id"] as? String }) == Set(ids[13...14]))

        let csv = try runAccord(["audit", "query", "--db", db, "--effect", "deny", "--format", "csv"])
        let rows = csv.stdout.split(separator: "\n")
        #expect(rows.first?.hasPrefix("sequence,decision_id,recorded_at,actor,purpose") == true)
        let denied = try SQLiteAuditTrail(path: db).query(AuditQuery(effect: "deny"))
        #expect(rows.count == denied.count + 1)
        #expect(rows.dropFirst().allSatisfy { $0.contains(",deny,") })

        let table = try runAccord(["audit", "query", "--db", db, "--subject", "u-2003"])
        #expect(table.stdout.contains("RECORDED"))
        #expect(table.stdout.contains(ids[9]))
        #expect(table.stdout.hasSuffix("(1 record)\n"))

        let limited = try runAccord(["audit", "query", "--db", db, "--limit", "3", "--format", "jsonl"])
        #expect(limited.stdout.split(separator: "\n").count == 3)
        let windowed = try runAccord(["audit", "query", "--db", db, "--to", "2000-01-01T00:00:00Z", "--format", "jsonl"])
        #expect(windowed.status == 0 && windowed.stdout.isEmpty, "nothing recorded before 2000")

        let bad = try runAccord(["audit", "query", "--db", db, "--effect", "maybe"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--effect must be permit, deny or partial"))
        let missing = try runAccord(["audit", "query", "--db", directory.appendingPathComponent("none.sqlite").path])
        #expect(missing.status == 2)
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("none.sqlite").path), "querying creates nothing")
    }

    @Test func statsExportAndErase() throws {
        let (directory, db, ids) = try recordedTrail()
        defer { try? FileManager.default.removeItem(at: directory) }
        let stats = try runAccord(["audit", "stats", "--db", db, "--format", "json"])
        let object = try jsonObject(stats.stdout)
        #expect(object["records"] as? Int == 16)
        let purposes = try #require(object["by_purpose"] as? [[String: Any]])
        #expect(purposes.compactMap { $0["total"] as? Int }.reduce(0, +) == 16)
        #expect((object["top_reasons"] as? [[String: Any]])?.isEmpty == false)
        #expect(try runAccord(["audit", "stats", "--db", db]).stdout.contains("16 decisions"))

        let export = try runAccord(["audit", "export", "--db", db, "--subject", "u-1010"])
        #expect(export.status == 0)
        #expect(export.stdout.contains("What Accord holds and has recorded about u-1010"))
        #expect(export.stdout.contains("1 decision about uses of your data, and 0 retention purges, recorded"))
        #expect(export.stdout.contains("trainer asked to train data for the purpose \"model.training\""))
        #expect(export.stdout.contains(ids[13]))
        #expect(!export.stdout.contains(ids[14]), "another person's decision")

        let erase = try runAccord(["audit", "erase", "--db", db, "--subject", "u-1010"])
        #expect(erase.status == 0)
        #expect(erase.stdout.contains("audit trail:    1 record can no longer be found or tied to them"))
        let after = try runAccord(["audit", "export", "--db", db, "--subject", "u-1010", "--format", "json"])
        #expect((try jsonObject(after.stdout)["records"] as? [Any])?.isEmpty == true)
        #expect(try runAccord(["audit", "verify", "--db", db]).status == 0, "the chain still verifies after erasure")
    }

    @Test func consistencyProofOffline() throws {
        let (directory, db, _) = try recordedTrail()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try runAccord(["audit", "checkpoint", "--db", db]).status == 0)
        let more = try runAccord([
            "eval", "--policies", "policies", "--requests", "examples/requests.jsonl", "--as-of", "2026-06-01T00:00:00Z",
            "--record", "--db", db,
        ])
        #expect(more.status == 0)
        #expect(try runAccord(["audit", "checkpoint", "--db", db]).status == 0)
        let prove = try runAccord(["audit", "prove", "--db", db, "--from", "1"])
        #expect(prove.status == 0, "\(prove.stderr)")
        let publicKey = try SQLiteAuditTrail(path: db).publicKey
        let verified = try runAccord(["audit", "verify-proof", "-", "--public-key", publicKey], stdin: Data(prove.stdout.utf8))
        #expect(verified.status == 0)
        #expect(verified.stdout.contains("ok: checkpoint 2 (32 records) extends checkpoint 1 (16 records) unchanged"))
        // A path element flipped: refused.
        var proof = try jsonObject(prove.stdout)
        var path = try #require(proof["consistency_path"] as? [String])
        path[0] = String(repeating: "0", count: 64)
        proof["consistency_path"] = path
        let tampered = try JSONSerialization.data(withJSONObject: proof)
        #expect(try runAccord(["audit", "verify-proof", "-"], stdin: tampered).status == 1)
        #expect(try runAccord(["audit", "prove", "--db", db, "--from", "2", "--to", "1"]).status == 1)
    }
}

/// New subjects' keys gather in a small table and move to the main one in key order; nothing is lost on the way.
@Suite struct SubjectKeyMergeTests {
    @Test func keysSurviveTheMergeAndErasureReachesBothTables() throws {
        let directory = try Fixtures.temporaryFolder("accord-keys")
        defer { try? FileManager.default.removeItem(at: directory) }
        let trail = try SQLiteAuditTrail(path: directory.appendingPathComponent("t.sqlite").path, durability: .off)
        let plan = try Fixtures.referencePlan()
        let template = try Fixtures.exampleRequests()[0]
        let decision = plan.evaluate(template, asOf: Fixtures.asOf)
        func entries(_ range: Range<Int>) -> [AuditEntry] {
            range.map { i in
                var request = template
                request.subject.id = "person-\(i)"
                return AuditEntry(decision: decision, request: request, decisionID: "d\(i)", instant: Fixtures.asOf)
            }
        }
        func counts() throws -> (main: Int, recent: Int) {
            try trail.queue.read { db in
                (
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM subject_key") ?? -1,
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM subject_key_recent") ?? -1
                )
            }
        }
        _ = try trail.record(batch: entries(0..<100))
        #expect(try counts() == (0, 100))
        #expect(try trail.erase(subject: "person-7") == 1, "erasure finds a key still in the recent table")
        _ = try trail.record(batch: entries(100..<9_000))
        #expect(try counts() == (8_999, 0), "merged once enough new keys gathered")
        _ = try trail.record(batch: entries(9_000..<9_010))
        #expect(try counts() == (8_999, 10))
        #expect(try trail.export(subject: "person-3").map(\.decisionID) == ["d3"], "a key from before the merge still opens its seals")
        #expect(try trail.export(subject: "person-9005").map(\.decisionID) == ["d9005"])
        #expect(try trail.export(subject: "person-7").isEmpty)
        #expect(try trail.erase(subject: "person-3") == 1)
        #expect(try counts() == (8_998, 10))
        #expect(try trail.verify().isIntact)
    }
}

/// Large batches are chained in slices, by a worker when every seal key is known and by the writer when one
/// is not; whoever chains a slice hands its last hash to the next. The result must be one unbroken chain.
@Suite struct PipelinedAppendTests {
    @Test func slicesChainedByWorkerAndWriterFormOneChain() throws {
        let directory = try Fixtures.temporaryFolder("accord-pipeline")
        defer { try? FileManager.default.removeItem(at: directory) }
        let trail = try SQLiteAuditTrail(path: directory.appendingPathComponent("t.sqlite").path, durability: .off)
        let plan = try Fixtures.referencePlan()
        let templates = try Fixtures.exampleRequests()
        func entries(_ range: Range<Int>, people: (Int) -> String) -> [AuditEntry] {
            range.map { i in
                var request = templates[i % templates.count]
                request.subject.id = people(i)
                return AuditEntry(
                    decision: plan.evaluate(request, asOf: Fixtures.asOf), request: request, decisionID: "d\(i)",
                    instant: Fixtures.asOf)
            }
        }
        // 500 people seen once: their keys are created (and cached) by the writer.
        var written = try trail.record(batch: entries(0..<500) { "p\($0 % 500)" })
        #expect(trail.slicesChained.byWorker == 0, "new people: every key made by the writer")
        // The same people again, except one new person in the middle of every third slice.
        written += try trail.record(batch: entries(500..<2_000) { i in i % 768 == 400 ? "new-\(i)" : "p\(i % 500)" })
        #expect(trail.slicesChained.byWorker >= 2, "\(trail.slicesChained)")
        #expect(trail.slicesChained.byWriter >= 4, "\(trail.slicesChained)")
        #expect(written.map(\.sequence) == Array(1...2_000))
        for (previous, next) in zip(written, written.dropFirst()) { #expect(next.previousHash == previous.hash) }
        #expect(try trail.records() == written, "what the caller got back is what was stored")
        let verification = try trail.verify()
        #expect(verification.isIntact, "\(verification.problems.prefix(3))")
        #expect(try trail.export(subject: "p7").map(\.decisionID) == ["d7", "d507", "d1007", "d1507"])
        #expect(try trail.export(subject: "new-1168").map(\.decisionID) == ["d1168"])
    }
}

/// Checkpoints continue from the tree the previous one left, and agree with hashing the whole trail.
@Suite struct IncrementalCheckpointTests {
    @Test func eachCheckpointMatchesTheWholeTree() throws {
        let fixture = try QueryFixture()
        defer { fixture.remove() }
        let trail = fixture.trail
        let request = try Fixtures.exampleRequests()[0]
        let decision = try Fixtures.referencePlan().evaluate(request, asOf: Fixtures.asOf)
        for round in 0..<5 {
            let checkpoint = try trail.checkpoint(at: Fixtures.asOf)
            let all = try trail.records().map(\.hash)
            #expect(checkpoint.size == Int64(all.count))
            #expect(checkpoint.root == MerkleTree.root(all[...]).hexString, "round \(round)")
            _ = try trail.record(
                batch: (0..<(round * 7 + 1)).map { AuditEntry(decision: decision, request: request, decisionID: "r\(round)-\($0)") })
        }
        // A damaged saved state is not trusted: the next checkpoint hashes everything again.
        try DatabaseQueue(path: trail.path).write { try $0.execute(sql: "UPDATE audit_merkle_state SET peaks = x'00'") }
        let checkpoint = try trail.checkpoint(at: Fixtures.asOf)
        #expect(checkpoint.root == MerkleTree.root(try trail.records().map(\.hash)[...]).hexString)
        #expect(try trail.verify().isIntact)
        var accumulator = MerkleAccumulator()
        for i in 0..<13 { accumulator.append(leafHash: MerkleTree.leafHash(Data([UInt8(i)]))) }
        let restored = try #require(MerkleAccumulator(serialized: accumulator.serialized))
        #expect(restored.size == 13 && restored.root == accumulator.root)
        #expect(MerkleAccumulator(serialized: Data(accumulator.serialized.dropLast())) == nil)
    }
}
