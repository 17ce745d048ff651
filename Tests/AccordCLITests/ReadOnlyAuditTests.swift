import AccordTestSupport
import Foundation
import GRDB
import Testing

/// The auditing commands read a trail without writing anything: a copy on read-only storage (a folder its user
/// cannot write, no `-wal` or `-shm` beside the file) answers verify, query, stats, export and prove.
@Suite(.serialized) struct ReadOnlyAuditTests {
    @Test func auditCommandsWorkOnACopyInAReadOnlyFolder() throws {
        let folder = try Fixtures.temporaryFolder("accord-readonly")
        defer {
            chmod(folder.appendingPathComponent("copy").path, 0o755)
            try? FileManager.default.removeItem(at: folder)
            // The copy of the binary made for the unprivileged user (this suite is its only user).
            try? FileManager.default.removeItem(atPath: (publicAccordBinary as NSString).deletingLastPathComponent)
        }
        // A trail as a server leaves it, then copied for an auditor: the database file and its keys, nothing else.
        let live = folder.appendingPathComponent("live.sqlite").path
        let eval = try runAccord([
            "eval", "--policies", Repository.path("policies"), "--requests", Repository.path("examples/requests.jsonl"),
            "--as-of", "2026-06-01T00:00:00Z", "--record", "--db", live,
        ])
        #expect(eval.status == 0, "\(eval.stderr)")
        let ids = eval.stdout.split(separator: "\n").compactMap { line in (try? jsonObject(String(line)))?["decision_id"] as? String }
        let decision = try #require(ids.first)
        #expect(try runAccord(["audit", "checkpoint", "--db", live]).status == 0)
        try DatabaseQueue(path: live).writeWithoutTransaction { db in _ = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        let copy = folder.appendingPathComponent("copy").path
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: false)
        for suffix in ["", ".subject-key", ".signing-key"] {
            try FileManager.default.copyItem(atPath: live + suffix, toPath: copy + "/accord.sqlite" + suffix)
            chmod(copy + "/accord.sqlite" + suffix, 0o444)
        }
        chmod(copy, 0o555)
        chmod(folder.path, 0o755)
        let db = copy + "/accord.sqlite"
        let before = try FileManager.default.contentsOfDirectory(atPath: copy).sorted()

        let commands: [[String]] = [
            ["audit", "verify", "--db", db], ["audit", "query", "--db", db, "--limit", "3", "--format", "json"],
            ["audit", "stats", "--db", db], ["audit", "export", "--db", db, "--subject", "u-1001"],
            ["audit", "prove", "--db", db, "--decision", decision],
        ]
        for command in commands {
            let result = try runAccord(command, in: "/tmp", asUser: "nobody")
            #expect(result.status == 0, "\(command[1]): \(result.stderr)")
            #expect(!result.stdout.isEmpty)
        }
        #expect(
            try runAccord(["audit", "verify", "--db", db], in: "/tmp", asUser: "nobody").stdout.hasPrefix(
                "ok: \(ids.count) records, 1 checkpoints verified"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: copy).sorted() == before, "nothing was created beside the copy")
        // Writing commands are refused there, with the reason, rather than half-done.
        let erase = try runAccord(["audit", "erase", "--db", db, "--subject", "u-1001"], in: "/tmp", asUser: "nobody")
        #expect(erase.status != 0 && !erase.stderr.isEmpty)
    }
}
