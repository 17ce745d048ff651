import AccordCore
import AccordTestSupport
import Foundation
import Testing

/// The AuthZEN working group's interop scenarios (Todo, API gateway), sent as published to the real server with the
/// policies of `examples/authzen/`. Every expected decision must come back, every deny for the right reason
/// (`minimisation.not_granted`: no rule grants it; not a request error, a missing purpose or an unknown action), and
/// every decision with its id, recorded.
@Suite(.serialized) struct AuthZENInteropTests {
    struct Vector {
        var request: [String: Any]
        var expected: Any
    }

    static func vectors(_ file: String, _ key: String) throws -> [Vector] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Repository.path("Tests/Interop/authzen/\(file)")))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let list = try #require(root[key] as? [[String: Any]])
        return try list.map { Vector(request: try #require($0["request"] as? [String: Any]), expected: try #require($0["expected"])) }
    }

    /// The decision and reason codes of one answer.
    static func outcome(_ answer: [String: Any]) -> (decision: Bool?, codes: [String], id: String?) {
        let context = answer["context"] as? [String: Any] ?? [:]
        let codes = (context["reasons"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        return (answer["decision"] as? Bool, codes, context["decision_id"] as? String)
    }

    static func check(_ answer: [String: Any], expected: Bool, _ what: String) -> Bool {
        let (decision, codes, id) = outcome(answer)
        #expect(decision == expected, "\(what): expected \(expected), got \(String(describing: decision)) \(codes)")
        #expect(id != nil, "\(what): no decision id, so not recorded")
        if expected {
            #expect(codes.contains("rule.permit"), "\(what): \(codes)")
        } else {
            #expect(codes == ["minimisation.not_granted"], "\(what): denied for \(codes), not because no rule grants it")
        }
        return decision == expected
    }

    func single(_ server: RunningServer, _ vectors: [Vector], name: String) throws -> (passed: Int, failed: Int) {
        var passed = 0
        for (i, vector) in vectors.enumerated() {
            let reply = try server.post("/access/v1/evaluation", vector.request)
            #expect(reply.status == 200, "\(name) #\(i): \(reply.status) \(reply.body)")
            if Self.check(reply.body, expected: try #require(vector.expected as? Bool), "\(name) #\(i) \(vector.request)") { passed += 1 }
        }
        return (passed, vectors.count - passed)
    }

    @Test func todoScenarioPassesInFull() throws {
        let server = try RunningServer("accord-authzen-todo", policies: "examples/authzen/todo")
        for file in ["decisions-authorization-api-1_0-01.json", "decisions-authorization-api-1_0-02.json"] {
            let vectors = try Self.vectors(file, "evaluation")
            #expect(vectors.count == 40)
            let (passed, failed) = try single(server, vectors, name: file)
            #expect(passed == 40 && failed == 0)
            #expect(vectors.filter { $0.expected as? Bool == false }.count == 14, "the scenario's denies are exercised")
        }
        let batches = try Self.vectors("decisions-authorization-api-1_0-02.json", "evaluations")
        #expect(batches.count == 3)
        for (i, batch) in batches.enumerated() {
            let reply = try server.post("/access/v1/evaluations", batch.request)
            #expect(reply.status == 200)
            let answers = try #require(reply.body["evaluations"] as? [[String: Any]])
            let expected = try #require(batch.expected as? [[String: Any]]).map { $0["decision"] as? Bool }
            #expect(answers.count == expected.count)
            for (j, (answer, want)) in zip(answers, expected).enumerated() {
                _ = Self.check(answer, expected: try #require(want), "batch \(i) item \(j)")
            }
        }
        // Every decision is in the trail: 80 single evaluations and 6 batch items.
        let stats = try server.get("/v1/audit/stats", headers: server.auth)
        #expect(stats.status == 200)
        #expect(stats.body["records"] as? Int == 86, "\(stats.body)")
    }

    @Test func apiGatewayScenarioPassesInFull() throws {
        let server = try RunningServer("accord-authzen-gateway", policies: "examples/authzen/gateway")
        let vectors = try Self.vectors("api-gateway-decisions.json", "evaluation")
        #expect(vectors.count == 25)
        let (passed, failed) = try single(server, vectors, name: "api-gateway")
        #expect(passed == 25 && failed == 0)
        #expect(vectors.filter { $0.expected as? Bool == false }.count == 6)
    }

    /// An identity the directory does not know is denied (it has no email, so no rule applies), and so is
    /// an identity of another type with a known id: entity data is found by type and id.
    @Test func unknownAndMistypedIdentitiesAreDenied() throws {
        let server = try RunningServer("accord-authzen-strangers", policies: "examples/authzen/todo")
        let rick = "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"
        for subject in [["type": "user", "id": "nobody"], ["type": "identity", "id": rick]] {
            let reply = try server.post(
                "/access/v1/evaluation",
                ["subject": subject, "action": ["name": "can_read_todos"], "resource": ["type": "todo", "id": "todo-1"]])
            let (decision, codes, _) = Self.outcome(reply.body)
            #expect(decision == false)
            #expect(codes == ["minimisation.not_granted"], "\(codes)")
        }
        // An action nobody declared, and a resource type nobody declared: denied with their own reasons.
        let unknownAction = try server.post(
            "/access/v1/evaluation",
            ["subject": ["type": "user", "id": rick], "action": ["name": "can_fly"], "resource": ["type": "todo", "id": "t"]])
        #expect(Self.outcome(unknownAction.body).codes.contains("request.no_purpose"))
        #expect(Self.outcome(unknownAction.body).codes.contains("request.unknown_action"))
        let unknownType = try server.post(
            "/access/v1/evaluation",
            [
                "subject": ["type": "user", "id": rick], "action": ["name": "can_read_todos"],
                "resource": ["type": "spaceship", "id": "s"],
            ])
        #expect(Self.outcome(unknownType.body).codes == ["request.unknown_resource_type"])
    }
}

/// The search scenario: subject, resource and action search answered from entity data and policies, a page at a time.
@Suite(.serialized) struct AuthZENSearchInteropTests {
    /// A result as comparable text: `type:id`, or the action's name.
    static func key(_ item: Any) -> String {
        let object = item as? [String: Any] ?? [:]
        if let name = object["name"] as? String { return name }
        return "\(object["type"] as? String ?? "?"):\(object["id"] as? String ?? "?")"
    }

    @Test(arguments: ["subject", "resource", "action"])
    func searchScenarioPassesInFull(_ kind: String) throws {
        let server = try RunningServer("accord-authzen-search-\(kind)", policies: "examples/authzen/search")
        let vectors = try AuthZENInteropTests.vectors("search-\(kind)-results.json", "evaluation")
        #expect(vectors.count == ["subject": 60, "resource": 18, "action": 120][kind])
        var passed = 0
        for (i, vector) in vectors.enumerated() {
            let reply = try server.post("/access/v1/search/\(kind)", vector.request)
            #expect(reply.status == 200, "\(kind) #\(i): \(reply.body)")
            let got = Set((reply.body["results"] as? [Any] ?? []).map(Self.key))
            let expected = Set(((vector.expected as? [String: Any])?["results"] as? [Any] ?? []).map(Self.key))
            #expect(got == expected, "\(kind) #\(i) \(vector.request): got \(got.sorted()), expected \(expected.sorted())")
            if got == expected { passed += 1 }
        }
        #expect(passed == vectors.count)
    }

    @Test func pagesTogetherGiveTheWholeAnswerAndBadTokensAreRefused() throws {
        let server = try RunningServer("accord-authzen-search-pages", policies: "examples/authzen/search")
        let query: [String: Any] = [
            "subject": ["type": "user", "id": "alice"], "action": ["name": "view"], "resource": ["type": "record"],
        ]
        let whole = try server.post("/access/v1/search/resource", query)
        let all = (whole.body["results"] as? [Any] ?? []).map(Self.key)
        #expect(all.count == 20)
        #expect((whole.body["page"] as? [String: Any])?["next_token"] as? String == "")
        var paged: [String] = []
        var token = ""
        var pages = 0
        repeat {
            var body = query
            body["page"] = ["limit": 3, "token": token]
            let reply = try server.post("/access/v1/search/resource", body)
            #expect(reply.status == 200)
            let results = (reply.body["results"] as? [Any] ?? []).map(Self.key)
            #expect(results.count <= 3)
            paged += results
            token = (reply.body["page"] as? [String: Any])?["next_token"] as? String ?? ""
            pages += 1
        } while !token.isEmpty && pages < 50
        #expect(paged == all)
        #expect(pages == 7)
        for (page, code) in [
            (["token": "not-a-token"], "request.invalid_value"), (["limit": 0], "request.invalid_value"),
            (["limit": 1001], "request.invalid_value"), (["token": Data("0123.1".utf8).base64EncodedString()], "request.invalid_value"),
        ] as [([String: Any], String)] {
            var body = query
            body["page"] = page
            let reply = try server.post("/access/v1/search/resource", body)
            #expect(reply.status == 400, "\(page)")
            #expect((reply.body["error"] as? [String: Any])?["code"] as? String == code, "\(reply.body)")
        }
        let untyped = try server.post(
            "/access/v1/search/subject", ["action": ["name": "view"], "resource": ["type": "record", "id": "101"]])
        #expect(untyped.status == 400)
    }
}
