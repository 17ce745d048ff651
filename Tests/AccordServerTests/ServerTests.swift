import AccordCore
import AccordStore
import AccordTestSupport
import Foundation
import GRDB
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite(.serialized) struct ServerTests {
    static var fresh: String { ServerFixtures.fresh }
    static var granted: [String: Any] { ServerFixtures.granted }
    static func item(_ feature: String, consent: [String: Any]? = ServerFixtures.granted) -> [String: Any] {
        ServerFixtures.item(feature, consent: consent)
    }

    @Test func authzenSingleAndBatchWithEachSemantic() throws {
        let server = try RunningServer("accord-serve-authzen")
        let permit = try server.post(
            "/access/v1/evaluation", Self.item("clicks_7d"), headers: server.auth.merging(["X-Request-ID": "req-42"]) { a, _ in a })
        #expect(permit.status == 200 && permit.body["decision"] as? Bool == true)
        #expect(permit.headers["x-request-id"] == "req-42")
        let plan = try Fixtures.referencePlan()
        #expect(permit.headers["accord-revision"] == plan.revision)
        let context = try #require(permit.body["context"] as? [String: Any])
        #expect(
            (context["reasons"] as? [[String: Any]])?.contains {
                $0["rule"] as? String == "recs-behavioural" && ($0["location"] as? String)?.hasSuffix("recommendations.yaml:6:5") == true
            } == true)
        let deny = try server.post("/access/v1/evaluation", Self.item("gps_last"))
        #expect(deny.body["decision"] as? Bool == false)
        // Without the token the same answer names the rules but not where they are written.
        let unauthenticated = try server.post("/access/v1/evaluation", Self.item("clicks_7d"))
        let reasons = try #require((unauthenticated.body["context"] as? [String: Any])?["reasons"] as? [[String: Any]])
        #expect(reasons.contains { $0["rule"] as? String == "recs-behavioural" })
        #expect(reasons.allSatisfy { $0["location"] == nil }, "no policy file paths to callers without the token")

        // Defaults at the top, per-item overrides, results in order.
        var batch = Self.item("clicks_7d")
        batch["evaluations"] = [
            ["resource": ["type": "feature", "id": "views_30d", "properties": ["collected_at": Self.fresh]]],
            ["resource": ["type": "feature", "id": "gps_last", "properties": ["collected_at": Self.fresh]]],
            [:],
        ]
        func decisions(_ semantic: String?) throws -> [Bool] {
            var body = batch
            if let semantic { body["options"] = ["evaluations_semantic": semantic] }
            let reply = try server.post("/access/v1/evaluations", body)
            #expect(reply.status == 200, "\(reply.body)")
            return (reply.body["evaluations"] as? [[String: Any]] ?? []).compactMap { $0["decision"] as? Bool }
        }
        #expect(try decisions(nil) == [true, false, true])
        #expect(try decisions("execute_all") == [true, false, true])
        #expect(try decisions("deny_on_first_deny") == [true, false])
        #expect(try decisions("permit_on_first_permit") == [true])
        #expect(
            try server.post(
                "/access/v1/evaluations", ["options": ["evaluations_semantic": "sometimes"]].merging(Self.item("clicks_7d")) { a, _ in a }
            ).status == 400)
        let configuration = try server.get("/.well-known/authzen-configuration")
        #expect((configuration.body["access_evaluation_endpoint"] as? String)?.hasSuffix("/access/v1/evaluation") == true)
        // The Host asked for names the endpoints; one that is not a plain host[:port] does not.
        let named = try server.get("/.well-known/authzen-configuration", headers: ["Host": "pdp.internal:9000"])
        #expect(named.body["access_evaluation_endpoint"] as? String == "http://pdp.internal:9000/access/v1/evaluation")
        let smuggled = try server.get("/.well-known/authzen-configuration", headers: ["Host": "evil.example/x?"])
        #expect((smuggled.body["policy_decision_point"] as? String)?.hasPrefix("http://127.0.0.1:") == true, "\(smuggled.body)")
    }

    @Test func nativeDecisionsAreRecordedAndNamed() throws {
        let server = try RunningServer("accord-serve-native")
        let request: [String: Any] = [
            "actor": ["id": "recsys"], "subject": ["id": "u-7", "age": 30, "jurisdiction": "EU"],
            "purpose": "personalization.recommendations", "action": "read_online",
            "resources": [["feature": "clicks_7d", "collected_at": Self.fresh], ["feature": "gps_last", "collected_at": Self.fresh]],
            "context": ["processing_region": "EU"], "consent": Self.granted,
        ]
        let reply = try server.post("/v1/decide", request)
        #expect(reply.status == 200 && reply.body["effect"] as? String == "partial", "\(reply.body)")
        let id = try #require(reply.body["decision_id"] as? String)
        let found = try server.get("/v1/audit/records?decision=\(id)", headers: server.auth)
        #expect((found.body["records"] as? [[String: Any]])?.map { $0["decision_id"] as? String } == [id])
        let batch = try server.post("/v1/decide/batch", ["requests": [request, request]])
        #expect((batch.body["decisions"] as? [[String: Any]])?.count == 2)
        #expect(try server.get("/v1/audit/stats").body["records"] as? Int == 3)
        #expect(try server.get("/v1/audit/verify").status == 401, "audit reads need the token")
        #expect(try server.get("/v1/audit/verify", headers: server.auth).body["intact"] as? Bool == true)
        // Malformed input: a JSON error with a code, never a decision.
        let garbled = try server.send("POST", "/v1/decide", raw: Data("{\"actor\": ".utf8))
        #expect(garbled.status == 400 && (garbled.body["error"] as? [String: Any])?["code"] as? String == "request.invalid_json")
        let invalid = try server.post("/v1/decide", ["actor": ["id": "x"]])
        #expect(invalid.status == 400 && (invalid.body["error"] as? [String: Any])?["code"] as? String == "request.invalid")
        #expect(try server.get("/readyz").status == 200)
        let metrics = try String(contentsOf: URL(string: server.base + "/metrics")!, encoding: .utf8)
        #expect(metrics.contains("accord_http_requests_total"))
        // Every /v1/decide request so far (one decision, two errors) is in the duration histogram, in order of bucket.
        let buckets = metrics.split(separator: "\n").filter {
            $0.hasPrefix("accord_http_request_duration_seconds_bucket{path=\"/v1/decide\"")
        }
        .compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }
        #expect(buckets.count == 10 && buckets.last == 3 && buckets == buckets.sorted(), "\(buckets)")
        // A duplicate key is refused with where it is.
        let repeated = try server.send(
            "POST", "/v1/decide", raw: Data(#"{"actor": {"id": "a"},\#n "subject": {"id": "u", "age": 12, "age": 30}}"#.utf8))
        let error = try #require(repeated.body["error"] as? [String: Any])
        #expect(repeated.status == 400 && error["code"] as? String == "request.duplicate_key")
        #expect(error["message"] as? String == "duplicate key 'age' in subject at 2:36", "\(error)")
    }

    @Test func consentRoundTripWithTokensAndAWithdrawalInForceAtOnce() throws {
        let server = try RunningServer("accord-serve-consent")
        let grant: [String: Any] = ["scope": "personalization", "version": 3]
        #expect(try server.post("/v1/consent/u-9/grant", grant).status == 401, "no token")
        #expect(try server.post("/v1/consent/u-9/grant", grant, headers: ["Authorization": "Bearer wrong-token-0000000"]).status == 401)
        #expect(try server.post("/v1/consent/u-9/grant", grant, headers: server.auth).status == 201)
        var item = Self.item("clicks_7d", consent: nil)
        item["subject"] = ["type": "user", "id": "u-9", "properties": ["age": 40, "jurisdiction": "EU"]]
        #expect(try server.post("/access/v1/evaluation", item).body["decision"] as? Bool == true, "consent from the store")
        #expect(try server.post("/v1/consent/u-9/withdraw", ["scope": "personalization"], headers: server.auth).status == 201)
        #expect(
            try server.post("/access/v1/evaluation", item).body["decision"] as? Bool == false,
            "the withdrawal holds for the very next decision")
        #expect(try server.get("/v1/consent/u-9/history").status == 401, "a person's consent is not public")
        let history = try server.get("/v1/consent/u-9/history", headers: server.auth)
        #expect((history.body["events"] as? [[String: Any]])?.map { $0["kind"] as? String } == ["grant", "withdraw"])
        // A browser's Global Privacy Control, sent with a consent request, is recorded as an opt-out.
        let gpc = try server.post(
            "/v1/consent/u-9/object", ["purpose": "analytics.product"], headers: server.auth.merging(["Sec-GPC": "1"]) { a, _ in a })
        #expect((gpc.body["recorded"] as? [[String: Any]])?.map { $0["kind"] as? String } == ["object", "opt_out"])
        #expect((try server.get("/v1/consent/u-9", headers: server.auth).body["opt_outs"] as? [String]) == ["sale_or_share"])
        #expect(
            try server.post("/admin/reload", [:] as [String: Any], headers: ["Authorization": "Bearer nope-nope-nope-nope"]).status == 401)
    }

    @Test func aBrokenReloadIsRefusedAndTheRunningSetKeepsServing() throws {
        let server = try RunningServer("accord-serve-reload")
        let before = try server.get("/healthz").headers["accord-revision"]
        let rules = URL(fileURLWithPath: server.policies).appendingPathComponent("recommendations.yaml")
        let text = try String(contentsOf: rules, encoding: .utf8)
        try (text + "\n  - id: broken\n    effect: perhaps\n").write(to: rules, atomically: true, encoding: .utf8)
        let refused = try server.post("/admin/reload", [:] as [String: Any], headers: server.auth)
        #expect(refused.status == 422 && (refused.body["error"] as? [String: Any])?["code"] as? String == "policies.invalid")
        let still = try server.post("/access/v1/evaluation", Self.item("clicks_7d"))
        #expect(still.body["decision"] as? Bool == true && still.headers["accord-revision"] == before)
        // A valid change by SIGHUP: the next response names the new revision.
        try text.replacingOccurrences(of: "obligations: { min_cohort: 100 }", with: "obligations: { min_cohort: 200 }").write(
            to: rules, atomically: true, encoding: .utf8)
        kill(server.process.processIdentifier, SIGHUP)
        var after = before
        for _ in 0..<50 where after == before {
            Thread.sleep(forTimeInterval: 0.1)
            after = try server.get("/healthz").headers["accord-revision"]
        }
        #expect(after != before && after != nil)
    }

    @Test func oversizedBodiesAreRefused() throws {
        let server = try RunningServer("accord-serve-limits", arguments: ["--max-body", "2048"])
        let big = try server.send("POST", "/v1/decide", raw: Data(repeating: UInt8(ascii: " "), count: 10_000))
        #expect(big.status == 413 && (big.body["error"] as? [String: Any])?["code"] as? String == "request.too_large")
        #expect(try server.post("/access/v1/evaluation", Self.item("clicks_7d")).status == 200, "a normal request still passes")
    }

    @Test func aDecisionThatCannotBeRecordedIsADeny() throws {
        let server = try RunningServer("accord-serve-failclosed")
        #expect(try server.post("/access/v1/evaluation", Self.item("clicks_7d")).body["decision"] as? Bool == true)
        // The trail refuses every new record from now on (as a full disk would).
        try DatabaseQueue(path: server.db).write { db in
            try db.execute(sql: "CREATE TRIGGER refuse BEFORE INSERT ON audit_record BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        }
        let refused = try server.post("/access/v1/evaluation", Self.item("clicks_7d"))
        #expect(refused.body["decision"] as? Bool == false)
        let reasons = (refused.body["context"] as? [String: Any])?["reasons"] as? [[String: Any]]
        #expect(reasons?.contains { $0["code"] as? String == "audit.unavailable" } == true, "\(refused.body)")
    }

    @Test func gracefulShutdownLosesNoAnsweredDecision() throws {
        let server = try RunningServer("accord-serve-shutdown")
        final class Answers: @unchecked Sendable {
            let lock = NSLock()
            var ids: [String] = []
        }
        let answers = Answers()
        let group = DispatchGroup()
        for t in 0..<8 {
            group.enter()
            Thread.detachNewThread {
                for _ in 0..<200 {
                    guard let reply = try? server.post("/access/v1/evaluation", Self.item(t % 2 == 0 ? "clicks_7d" : "gps_last")),
                        let id = (reply.body["context"] as? [String: Any])?["decision_id"] as? String
                    else { break }
                    answers.lock.lock()
                    answers.ids.append(id)
                    answers.lock.unlock()
                }
                group.leave()
            }
        }
        Thread.sleep(forTimeInterval: 1.0)
        kill(server.process.processIdentifier, SIGTERM)
        group.wait()
        server.process.waitUntilExit()
        #expect(server.process.terminationReason == .exit)
        #expect(answers.ids.count > 20, "requests were answered before the shutdown (\(answers.ids.count))")
        let trail = try SQLiteAuditTrail(path: server.db, durability: .normal)
        let recorded = Set(try trail.records().map(\.decisionID))
        #expect(answers.ids.allSatisfy(recorded.contains), "every answered decision is in the trail")
        #expect(try trail.verify().isIntact)
    }

    @Test func thePythonClientAgainstTheRealServer() throws {
        let server = try RunningServer("accord-serve-python")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Repository.path("examples/python/test_client.py"), server.base, server.token]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.hasPrefix("ok: 31 checks"), "\(output)")
    }

    @Test func guardedReadsAndTrainingSetsThroughTheGate() throws {
        let server = try RunningServer("accord-serve-gate")
        let day = 86_400.0, now = Date()
        let store = try SQLiteFeatureStore(path: server.db, durability: .normal)
        try store.write([
            FeatureRow(entity: "g-1", feature: "clicks_7d", value: .int(7), eventTime: now.addingTimeInterval(-day)),
            FeatureRow(entity: "g-1", feature: "gps_last", value: .string("52.5,13.4"), eventTime: now.addingTimeInterval(-day)),
            FeatureRow(entity: "g-2", feature: "clicks_7d", value: .int(3), eventTime: now.addingTimeInterval(-day)),
        ])
        #expect(try server.post("/v1/consent/g-1/grant", ["scope": "personalization", "version": 3], headers: server.auth).status == 201)
        let people: [[String: Any]] = [["id": "g-1", "age": 30, "jurisdiction": "EU"], ["id": "g-2", "age": 30, "jurisdiction": "EU"]]
        let readBody: [String: Any] = [
            "subjects": people, "features": ["clicks_7d", "gps_last"], "purpose": "personalization.recommendations",
            "actor": ["id": "recsys"], "context": ["processing_region": "EU"],
        ]
        #expect(try server.post("/v1/features/online", readBody).status == 401, "feature values need the token")
        let read = try server.post("/v1/features/online", readBody, headers: server.auth)
        #expect(read.status == 200, "\(read.body)")
        let results = try #require(read.body["results"] as? [[String: Any]])
        func statuses(_ n: Int) -> [String] { (results[n]["values"] as? [[String: Any]] ?? []).compactMap { $0["status"] as? String } }
        #expect(statuses(0) == ["PRESENT", "DENIED"] && statuses(1) == ["DENIED", "DENIED"], "g-2 gave no consent")
        #expect(((results[0]["values"] as? [[String: Any]])?.first?["value"] as? Int) == 7)
        let training = try server.post(
            "/v1/training-sets",
            [
                "population": people, "features": ["clicks_7d"], "purpose": "model.training",
                "actor": ["id": "trainer"], "context": ["processing_region": "EU"],
                "from": Timestamps.format(now.addingTimeInterval(-30 * day)), "to": Timestamps.format(now),
            ],
            headers: server.auth)
        #expect(training.status == 200, "\(training.body)")
        let manifest = try #require(training.body["manifest"] as? [String: Any])
        #expect(manifest["rows_included"] as? Int == 1 && (manifest["rows_excluded"] as? [String: Any])?["consent.missing"] as? Int == 1)
        #expect((training.body["rows"] as? [[String: Any]])?.map { $0["entity"] as? String } == ["g-1"])
        #expect(try server.get("/v1/audit/records?action=train", headers: server.auth).body["records"].map { ($0 as? [Any])?.count } == 2)
    }

    /// Found in review: an empty batch once wrote an empty commit that took the next commit's first sequence, so
    /// every later small commit failed (and every decision became a deny).
    @Test func emptyBatchesAndMalformedBodiesLeaveTheServerDeciding() throws {
        let server = try RunningServer("accord-serve-empty")
        #expect(try server.post("/v1/decide/batch", ["requests": [] as [Any]]).body["decisions"].map { ($0 as? [Any])?.count } == 0)
        var empty = Self.item("clicks_7d")
        empty["evaluations"] = [] as [Any]
        let alone = try server.post("/access/v1/evaluations", empty).body
        #expect(alone["decision"] is Bool && alone["evaluations"] == nil, "an empty list is one evaluation, answered as one (AuthZEN 1.0)")
        var bad = Self.item("clicks_7d")
        bad["evaluations"] = [["resource": ["type": "feature", "id": "views_30d"]], 1] as [Any]
        #expect(try server.post("/access/v1/evaluations", bad).status == 400)
        let utf16 = try server.send(
            "POST", "/access/v1/evaluation", raw: Data("{\"a\":1}".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }))
        #expect(
            utf16.status == 400 && (utf16.body["error"] as? [String: Any])?["code"] as? String == "request.invalid_json",
            "UTF-16 is refused")
        for _ in 0..<3 { #expect(try server.post("/access/v1/evaluation", Self.item("clicks_7d")).body["decision"] as? Bool == true) }
        #expect(try server.get("/v1/audit/verify", headers: server.auth).body["intact"] as? Bool == true)
    }
}

/// docs/openapi.yaml describes exactly the server's routes, and each of them answers.
@Suite(.serialized) struct OpenAPITests {
    @Test func theOpenAPIDescriptionMatchesTheServer() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let spec = try String(contentsOf: root.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        var described: Set<String> = []
        var inPaths = false
        var current: String?
        for line in spec.split(separator: "\n") {
            if line == "paths:" { inPaths = true; continue }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":") { current = String(line.dropFirst(2).dropLast()) }
            if let current, line == "    get:" || line == "    post:" {
                described.insert("\(line.dropFirst(4).dropLast().uppercased()) \(current)")
            }
        }
        // The routes as the server's controllers register them (one file per concern).
        let controllers = root.appendingPathComponent("Sources/AccordServer/Controllers")
        let source = try FileManager.default.contentsOfDirectory(atPath: controllers.path).sorted()
            .map { try String(contentsOf: controllers.appendingPathComponent($0), encoding: .utf8) }.joined(separator: "\n")
        var registered: Set<String> = []
        for match in source.matches(of: /router\.(get|post)\("([^"]+)"\)/) {
            let method = match.output.1.uppercased(), path = String(match.output.2).replacingOccurrences(of: ":subject", with: "{subject}")
            let expanded =
                path.contains(#"\(path)"#)
                ? ["grant", "withdraw", "object", "opt-out"].map { path.replacingOccurrences(of: #"\(path)"#, with: $0) } : [path]
            for path in expanded { registered.insert("\(method) \(path)") }
        }
        #expect(described.count == 26)
        #expect(
            described == registered,
            "described only: \(described.subtracting(registered)); registered only: \(registered.subtracting(described))")
        // Each answers on the real server (a 400 or 401 without a proper body or token, but not 404); an unknown path is 404.
        let server = try RunningServer("accord-serve-openapi")
        for operation in described.sorted() {
            let parts = operation.split(separator: " ")
            let reply = try server.send(
                String(parts[0]), parts[1].replacingOccurrences(of: "{subject}", with: "u-1"),
                raw: parts[0] == "POST" ? Data("{}".utf8) : nil)
            #expect(reply.status != 404, "\(operation)")
        }
        #expect(try server.get("/v1/nothing-here").status == 404)
    }
}
