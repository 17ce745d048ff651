import AccordCore
import AccordStore
import AccordTestSupport
import Foundation
import GRDB
import Testing

/// Promises of the server that once did not hold (issue 14), each through the real binary on loopback.
@Suite(.serialized) struct ServerPromiseTests {
    static func evaluation(subject: String) -> [String: Any] {
        var item = ServerFixtures.item("clicks_7d", consent: nil)
        item["subject"] = ["type": "user", "id": subject, "properties": ["age": 40, "jurisdiction": "EU"]]
        return item
    }

    /// Subject ids in a path are percent-decoded exactly once: a withdrawal through an encoded URL reaches the
    /// person the decisions name (it once answered 201 and changed nothing).
    @Test func encodedSubjectIdsInPathsNameTheSamePerson() throws {
        let server = try RunningServer("accord-serve-ids")
        let ids: [(raw: String, encoded: String)] = [
            ("José Díaz", "Jos%C3%A9%20D%C3%ADaz"), ("a@b.example", "a%40b.example"), ("team/u-7", "team%2Fu-7"),
            ("100%", "100%25"), ("u+1", "u+1"), ("u 2", "u%202"), ("who?", "who%3F"), ("Jos%C3%A9", "Jos%25C3%25A9"),
        ]
        for (raw, encoded) in ids {
            let item = Self.evaluation(subject: raw)
            #expect(try server.post("/access/v1/evaluation", item).body["decision"] as? Bool == false, "\(raw): nothing granted yet")
            #expect(
                try server.post("/v1/consent/\(encoded)/grant", ["scope": "personalization", "version": 3], headers: server.auth).status
                    == 201)
            #expect(try server.post("/access/v1/evaluation", item).body["decision"] as? Bool == true, "\(raw): permitted after the grant")
            #expect(try server.post("/v1/consent/\(encoded)/withdraw", ["scope": "personalization"], headers: server.auth).status == 201)
            #expect(
                try server.post("/access/v1/evaluation", item).body["decision"] as? Bool == false, "\(raw): denied after the withdrawal")
            let history = try server.get("/v1/consent/\(encoded)/history", headers: server.auth)
            #expect(history.body["subject"] as? String == raw)
            #expect((history.body["events"] as? [[String: Any]])?.map { $0["kind"] as? String } == ["grant", "withdraw"], "\(raw)")
        }
        // "José" and "Jos%C3%A9" are two people: decoding happens once, never twice.
        let store = try SQLiteConsentStore(path: server.db, durability: .normal)
        #expect(try store.history(subject: "José Díaz").count == 2)
        #expect(try store.history(subject: "Jos%C3%A9").count == 2)
        #expect(try store.history(subject: "José").isEmpty)
        // Not UTF-8 once decoded, or a broken escape: 400 with a code, nothing recorded.
        // (Sent over a plain socket: URLSession would re-encode a malformed escape before sending it.)
        for bad in ["%FF%FE", "%C3", "u%2", "u%zz"] {
            let reply = try server.raw("POST", "/v1/consent/\(bad)/grant", body: #"{"scope":"personalization"}"#)
            #expect(reply.status == 400 && reply.body.contains(#""code":"request.invalid_path""#), "\(bad): \(reply)")
        }
        // Query parameters are decoded the same way.
        let records = try server.get("/v1/audit/records?subject=Jos%C3%A9%20D%C3%ADaz&limit=50", headers: server.auth)
        #expect((records.body["records"] as? [Any])?.count == 3, "\(records.body)")
        let badQuery = try server.get("/v1/audit/records?subject=%FF", headers: server.auth)
        #expect(badQuery.status == 400 && (badQuery.body["error"] as? [String: Any])?["code"] as? String == "request.invalid_query")
        let badLimit = try server.get("/v1/audit/records?limit=many", headers: server.auth)
        #expect(badLimit.status == 400, "a limit that is not a number is refused, not defaulted")
    }

    /// A deploy that truncated a policy file must not drop its rules: the reload is refused (A0015) and the running
    /// set keeps deciding.
    @Test func aTruncatedPolicyFileIsRefusedOnReload() throws {
        let server = try RunningServer("accord-serve-truncated")
        let before = try server.post("/access/v1/evaluation", ServerFixtures.item("gps_last"))
        #expect(before.body["decision"] as? Bool == false, "forbidden by recommendations.yaml")
        try Data().write(to: URL(fileURLWithPath: server.policies + "/recommendations.yaml"))
        let reload = try server.post("/admin/reload", [:] as [String: Any], headers: server.auth)
        #expect(
            reload.status == 422 && ((reload.body["error"] as? [String: Any])?["message"] as? String)?.contains("A0015") == true,
            "\(reload.body)")
        #expect(
            try server.post("/access/v1/evaluation", ServerFixtures.item("gps_last")).headers["accord-revision"]
                == before.headers["accord-revision"])
    }

    /// The server spends privacy budgets as `accord eval --budgets` does: the reference aggregate rule's budget of
    /// 5 pays for ten queries at ε 0.5, and the eleventh is refused with budget.exhausted.
    @Test func aggregatesThroughTheServerSpendTheirBudget() throws {
        let server = try RunningServer("accord-serve-budget")
        let line = try String(contentsOfFile: Repository.path("examples/requests.jsonl"), encoding: .utf8).split(separator: "\n")[12]
        var request = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        request["id"] = nil
        var effects: [String] = []
        for _ in 0..<11 {
            let reply = try server.post("/v1/decide", request)
            #expect(reply.status == 200, "\(reply.body)")
            let first = (reply.body["resources"] as? [[String: Any]])?.first
            effects.append(
                (first?["reasons"] as? [[String: Any]])?.contains { $0["code"] as? String == "budget.exhausted" } == true
                    ? "exhausted" : first?["effect"] as? String ?? "?")
        }
        #expect(effects == Array(repeating: "permit", count: 10) + ["exhausted"], "\(effects)")
        let spent = try SQLiteBudgetLedger(path: server.db, durability: .normal)
        let plan = try Fixtures.referencePlan()
        let budget = try #require(
            plan.evaluate(try Fixtures.exampleRequests()[12], asOf: Date()).resources[0].obligations.differentialPrivacy?.budget)
        #expect(try spent.remaining(budget, purpose: "analytics.aggregate", subject: "u-1009", at: Date()) == 0)
    }

    static func maximalBatch(_ count: Int) -> [String: Any] {
        var batch = ServerFixtures.item("clicks_7d")
        batch["evaluations"] = (0..<count).map { i in
            ["subject": ["type": "user", "id": "u-\(i)", "properties": ["age": 30, "jurisdiction": "EU"]]] as [String: Any]
        }
        return batch
    }

    @Test func batchesAreBoundedInItems() throws {
        let server = try RunningServer("accord-serve-items", arguments: ["--max-items", "50"])
        let ok = try server.post("/access/v1/evaluations", Self.maximalBatch(50))
        #expect(ok.status == 200 && (ok.body["evaluations"] as? [Any])?.count == 50)
        let over = try server.post("/access/v1/evaluations", Self.maximalBatch(51))
        #expect(
            over.status == 413 && (over.body["error"] as? [String: Any])?["code"] as? String == "request.too_many_items", "\(over.body)")
        let native = [
            "requests": Array(
                repeating: [
                    "actor": ["id": "a"], "subject": ["id": "s"], "purpose": "analytics.product", "action": "read_online",
                    "resources": [["feature": "clicks_7d"]],
                ] as [String: Any], count: 51)
        ]
        let overNative = try server.post("/v1/decide/batch", native)
        #expect(overNative.status == 413 && (overNative.body["error"] as? [String: Any])?["code"] as? String == "request.too_many_items")
        #expect(try SQLiteAuditTrail(path: server.db, durability: .normal).count() == 50, "refused batches decide and record nothing")
    }

    @Test func decisionEndpointsCanRequireTheToken() throws {
        let server = try RunningServer("accord-serve-decision-token", arguments: ["--require-token", "decisions"])
        for path in ["/access/v1/evaluation", "/access/v1/evaluations", "/v1/decide", "/v1/decide/batch"] {
            let refused = try server.post(path, ServerFixtures.item("clicks_7d"))
            #expect(
                refused.status == 401 && (refused.body["error"] as? [String: Any])?["code"] as? String == "auth.invalid_token", "\(path)")
        }
        #expect(
            try server.post("/access/v1/evaluation", ServerFixtures.item("clicks_7d"), headers: server.auth).body["decision"] as? Bool
                == true)
        #expect(try server.get("/healthz").status == 200, "health stays open")
        let unknown = try runAccord(["serve", "--require-token", "everything", "--port", "1"])
        #expect(unknown.status == 2 && unknown.stderr.contains("unknown group"))
    }

    /// A burst of maximal batches leaves no lasting growth: resident memory after 100 of them is within 96 MiB of
    /// what it was after the first 10 (when the allocator has grown to what one maximal request needs). The bound
    /// is the writer's SQLite page cache (64 MiB, which fills as these 100,000 records grow the trail past it) and
    /// 32 MiB besides; a leak of a kilobyte per decision would exceed it.
    @Test func memoryReturnsAfterABurstOfMaximalBatches() throws {
        let server = try RunningServer("accord-serve-memory")
        let batch = Self.maximalBatch(1_000)
        func residentMiB() -> Int {
            let status = (try? String(contentsOfFile: "/proc/\(server.process.processIdentifier)/status", encoding: .utf8)) ?? ""
            let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
            return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) / 1_024
        }
        for _ in 0..<10 { #expect(try server.post("/access/v1/evaluations", batch).status == 200) }
        let start = residentMiB()
        for _ in 0..<100 { #expect(try server.post("/access/v1/evaluations", batch).status == 200) }
        let end = residentMiB()
        #expect(start > 0 && end - start <= 96, "resident memory went from \(start) MiB to \(end) MiB")
    }
}

extension RunningServer {
    /// One HTTP/1.1 request written byte for byte on a socket (the path exactly as given), and its status and body.
    func raw(_ method: String, _ path: String, body: String = "", headers: [String: String]? = nil) throws -> (status: Int, body: String) {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw CorpusError("no socket") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw CorpusError("cannot connect to port \(port)") }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n"
        for (name, value) in headers ?? auth { head += "\(name): \(value)\r\n" }
        let request = Array((head + "Content-Length: \(body.utf8.count)\r\n\r\n" + body).utf8)
        guard write(socket, request, request.count) == request.count else { throw CorpusError("short write") }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = read(socket, &buffer, buffer.count)
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        let status = text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        return (status, text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n"))
    }
}
