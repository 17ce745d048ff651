import AccordCore
import AccordStore
import AccordTestSupport
import Foundation
import GRDB
import Testing

/// Failing closed is loud: an operator sees it in the logs, `/readyz`, `/metrics` and the CLI's exit status, and
/// a damaged database is never written again by the process that found it damaged.
@Suite(.serialized) struct FailClosedTests {
    /// Overwrites every page of `table`'s b-tree in the main file with garbage (the WAL folded in first).
    static func damage(_ table: String, in path: String) throws -> [Int] {
        let queue = try DatabaseQueue(path: path)
        let (pages, pageSize) = try queue.writeWithoutTransaction { db -> ([Int], Int) in
            _ = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            return (
                try Int.fetchAll(db, sql: "SELECT pageno FROM dbstat WHERE name = ?", arguments: [table]),
                try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
            )
        }
        try queue.close()
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        for page in pages where page > 1 {
            try handle.seek(toOffset: UInt64((page - 1) * pageSize))
            try handle.write(contentsOf: Data(repeating: 0xA5, count: pageSize))
        }
        try handle.synchronize()
        try handle.close()
        return pages
    }

    static func reasons(_ reply: RunningServer.Reply) -> [[String: Any]] {
        ((reply.body["context"] as? [String: Any])?["reasons"] as? [[String: Any]]) ?? []
    }

    @Test func aTrailThatCannotBeWrittenIsVisibleInReadinessMetricsAndLogs() throws {
        let server = try RunningServer("accord-serve-loud")
        #expect(try server.get("/readyz").status == 200)
        try DatabaseQueue(path: server.db).write { db in
            try db.execute(sql: "CREATE TRIGGER refuse BEFORE INSERT ON audit_record BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        }
        for _ in 0..<5 {
            let refused = try server.post("/access/v1/evaluation", ServerFixtures.item("clicks_7d"))
            #expect(refused.body["decision"] as? Bool == false)
            #expect(Self.reasons(refused).contains { $0["code"] as? String == "audit.unavailable" })
        }
        let ready = try server.get("/readyz")
        #expect(ready.status == 503 && (ready.body["error"] as? [String: Any])?["code"] as? String == "audit.unavailable", "\(ready.body)")
        let metrics = try server.raw("GET", "/metrics")
        #expect(
            metrics.body.contains(#"accord_decisions_failed_closed_total{reason="audit.unavailable"} 5"#), "\(metrics.body.prefix(2000))")
        // Logged once for the cause, not once per request.
        server.stop()
        let log = server.log
        #expect(log.components(separatedBy: "could not be made safely").count - 1 == 1, "\(log)")
        #expect(log.contains("disk full"))
    }

    /// The gate's reads over HTTP: nothing served, 503 with the cause, counted and reflected in readiness.
    @Test func aGateReadThatCannotBeRecordedServesNothingAndSaysSo() throws {
        let server = try RunningServer("accord-serve-gate-loud")
        try SQLiteFeatureStore(path: server.db, durability: .normal)
            .write([FeatureRow(entity: "g-1", feature: "clicks_7d", value: .int(7), eventTime: Date().addingTimeInterval(-86_400))])
        #expect(try server.post("/v1/consent/g-1/grant", ["scope": "personalization", "version": 3], headers: server.auth).status == 201)
        let read: [String: Any] = [
            "subjects": [["id": "g-1", "age": 30, "jurisdiction": "EU"]], "features": ["clicks_7d"],
            "purpose": "personalization.recommendations", "actor": ["id": "recsys"], "context": ["processing_region": "EU"],
        ]
        #expect(try server.post("/v1/features/online", read, headers: server.auth).status == 200)
        try DatabaseQueue(path: server.db).write { db in
            try db.execute(sql: "CREATE TRIGGER refuse BEFORE INSERT ON audit_record BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        }
        let refused = try server.post("/v1/features/online", read, headers: server.auth)
        #expect(
            refused.status == 503 && (refused.body["error"] as? [String: Any])?["code"] as? String == "audit.unavailable", "\(refused.body)"
        )
        #expect(refused.body["results"] == nil, "no value is served")
        #expect(try server.get("/readyz").status == 503)
        #expect(try server.raw("GET", "/metrics").body.contains(#"accord_decisions_failed_closed_total{reason="audit.unavailable"} 1"#))
    }

    @Test func readinessComesBackOnceTheTrailIsWrittenAgain() throws {
        let server = try RunningServer("accord-serve-recover")
        try DatabaseQueue(path: server.db).write { db in
            try db.execute(sql: "CREATE TRIGGER refuse BEFORE INSERT ON audit_record BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        }
        _ = try server.post("/access/v1/evaluation", ServerFixtures.item("clicks_7d"))
        #expect(try server.get("/readyz").status == 503)
        try DatabaseQueue(path: server.db).write { db in try db.execute(sql: "DROP TRIGGER refuse") }
        #expect(try server.post("/access/v1/evaluation", ServerFixtures.item("clicks_7d")).body["decision"] as? Bool == true)
        #expect(try server.get("/readyz").status == 200)
    }

    /// Pages of the trail overwritten behind the server's back: the first write that meets them fails, and from then
    /// on the process writes nothing to the file — every decision is a deny naming the damage — until a restart,
    /// which the damaged file refuses.
    @Test func aDamagedDatabaseIsNeverWrittenAgain() throws {
        let server = try RunningServer("accord-serve-damaged")
        for _ in 0..<300 { _ = try server.post("/access/v1/evaluation", ServerFixtures.item("clicks_7d")) }
        let pages = try Self.damage("audit_record", in: server.db)
        #expect(pages.count > 3)
        // Another process's commit makes the server drop its page cache and read the damaged pages.
        try DatabaseQueue(path: server.db).write { db in try db.execute(sql: "UPDATE consent_version SET n = n + 1") }
        let first = try server.post("/access/v1/evaluation", ServerFixtures.item("clicks_7d"))
        #expect(first.body["decision"] as? Bool == false)
        let detail = Self.reasons(first).first { $0["code"] as? String == "audit.unavailable" }?["detail"] as? String ?? ""
        #expect(detail.contains("damaged"), "\(Self.reasons(first))")
        let size = { (try? FileManager.default.attributesOfItem(atPath: server.db + "-wal")[.size] as? Int) ?? 0 }
        let walBefore = size()
        for _ in 0..<3 {
            let later = try server.post("/access/v1/evaluation", ServerFixtures.item("clicks_7d"))
            #expect(later.body["decision"] as? Bool == false)
            #expect(Self.reasons(later).contains { ($0["detail"] as? String)?.contains("damaged") == true })
        }
        #expect(size() == walBefore, "nothing more was written to the damaged file")
        #expect(try server.get("/readyz").status == 503)
        server.stop()

        // A restart on the damaged file is refused, with the cause.
        let restarted = try runAccord(["serve", "--policies", server.policies, "--db", server.db, "--port", "\(server.port)"])
        #expect(restarted.status != 0 && restarted.stderr.contains("damaged"), "\(restarted.stderr)")
    }

    @Test func evalRecordSaysSoAndExitsNonZero() throws {
        let folder = try Fixtures.temporaryFolder("accord-eval-failclosed")
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("trail.sqlite").path
        let requests = Repository.path("examples/requests.jsonl")
        #expect(
            try runAccord(["eval", "--policies", Repository.path("policies"), "--requests", requests, "--record", "--db", db]).status == 0)
        try DatabaseQueue(path: db).write { db in
            try db.execute(sql: "CREATE TRIGGER refuse BEFORE INSERT ON audit_record BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        }
        let failed = try runAccord(["eval", "--policies", Repository.path("policies"), "--requests", requests, "--record", "--db", db])
        #expect(failed.status == 3)
        #expect(failed.stderr.contains("fail closed") && failed.stderr.contains("disk full"), "\(failed.stderr)")
        #expect(failed.stderr.components(separatedBy: "fail closed").count - 1 == 1, "the cause once, not per decision")
        #expect(!failed.stdout.contains(#""effect":"permit""#), "every decision is a deny")
    }
}
