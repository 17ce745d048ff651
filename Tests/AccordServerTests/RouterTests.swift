import AccordCore
import AccordServer
import AccordTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The server's routes in process (Hummingbird's router test client, no socket), beside the loopback tests of
/// the real binary: each controller's routes answer, the error codes are the documented ones, and the gate's
/// HTTP reader is as strict as the request reader.
@Suite struct RouterTests {
    static func withServer(
        publicURL: String? = nil, defaultPurpose: String? = nil, showLocations: Bool = false,
        _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let folder = try Fixtures.temporaryFolder("accord-router")
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try AccordHTTPServer(
            configuration: ServerConfiguration(
                policies: Repository.path("policies"), database: folder.appendingPathComponent("accord.sqlite").path,
                token: "router-test-token-0123456789", durability: .off, publicURL: publicURL,
                defaultPurpose: defaultPurpose, showLocations: showLocations))
        try await Application(router: server.router()).test(.router) { client in try await body(client) }
    }

    static let auth: HTTPFields = [.authorization: "Bearer router-test-token-0123456789", .contentType: "application/json"]

    static func json(_ buffer: ByteBuffer) -> JSONValue? { try? JSONReader.parse(Array(buffer.readableBytesView)) }

    @Test func everyControllerAnswers() async throws {
        try await Self.withServer { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }
            let evaluation =
                #"{"subject":{"type":"user","id":"u-1001","properties":{"age":30,"jurisdiction":"EU"}},"action":{"name":"read_online"},"resource":{"type":"feature","id":"clicks_7d"},"context":{"purpose":"personalization.recommendations","consent":{"grants":[{"scope":"personalization","version":3,"granted_at":"2026-01-10T00:00:00Z"}]}}}"#
            try await client.execute(
                uri: "/access/v1/evaluation", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: evaluation)
            ) { response in
                #expect(response.status == .ok)
                #expect(Self.json(response.body)?["decision"]?.boolValue != nil)
            }
            try await client.execute(uri: "/v1/consent/u-1001", method: .get, headers: Self.auth) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/audit/stats", method: .get) { response in
                #expect(Self.json(response.body)?["decisions"]?.intValue == 1, "the evaluation above was recorded")
            }
            try await client.execute(uri: "/admin/reload", method: .post, headers: Self.auth) { #expect($0.status == .ok) }
        }
    }

    @Test func errorsCarryTheDocumentedCodes() async throws {
        let documented = try String(contentsOfFile: Repository.path("docs/server.md"), encoding: .utf8)
        for code in ServerErrorCode.allCases {
            #expect(documented.contains("`\(code.rawValue)`"), "docs/server.md names \(code.rawValue)")
        }
        try await Self.withServer { client in
            try await client.execute(uri: "/v1/decide", method: .post, body: ByteBuffer(string: "{\"a\":1,\"a\":2}")) { response in
                #expect(response.status == .badRequest)
                #expect(Self.json(response.body)?["error"]?["code"]?.stringValue == ServerErrorCode.requestDuplicateKey.rawValue)
            }
            try await client.execute(uri: "/v1/audit/verify", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(Self.json(response.body)?["error"]?["code"]?.stringValue == ServerErrorCode.authInvalidToken.rawValue)
            }
        }
    }

    @Test func theGateReaderIsAsStrictAsTheRequestReader() async throws {
        let refused = [
            // Unknown field, with a suggestion.
            (
                #"{"subjects":[{"id":"u-1"}],"features":["clicks_7d"],"purpose":"personalization.recommendations","actor":{"id":"a"},"purpos":"x"}"#,
                "purpos"
            ),
            // No actor: it used to default to "http".
            (#"{"subjects":[{"id":"u-1"}],"features":["clicks_7d"],"purpose":"personalization.recommendations"}"#, "actor"),
            // An age out of range.
            (
                #"{"subjects":[{"id":"u-1","age":-4}],"features":["clicks_7d"],"purpose":"personalization.recommendations","actor":{"id":"a"}}"#,
                "age"
            ),
            // An unknown field inside a subject.
            (
                #"{"subjects":[{"id":"u-1","agee":30}],"features":["clicks_7d"],"purpose":"personalization.recommendations","actor":{"id":"a"}}"#,
                "agee"
            ),
        ]
        try await Self.withServer { client in
            for (body, field) in refused {
                try await client.execute(uri: "/v1/features/online", method: .post, headers: Self.auth, body: ByteBuffer(string: body)) {
                    response in
                    #expect(response.status == .badRequest, "\(body)")
                    let error = Self.json(response.body)?["error"]
                    #expect(error?["code"]?.stringValue == ServerErrorCode.requestInvalid.rawValue)
                    #expect(error?["message"]?.stringValue?.contains(field) == true, "names \(field)")
                    if field == "purpos" { #expect(error?["message"]?.stringValue?.contains("did you mean 'purpose'?") == true) }
                }
            }
            let fine =
                #"{"subjects":[{"id":"u-1","age":30,"jurisdiction":"EU"}],"features":["clicks_7d"],"purpose":"personalization.recommendations","actor":{"id":"recsys"},"context":{"processing_region":"EU"}}"#
            try await client.execute(uri: "/v1/features/online", method: .post, headers: Self.auth, body: ByteBuffer(string: fine)) {
                response in
                #expect(response.status == .ok)
                #expect(Self.json(response.body)?["results"]?.arrayValue?.count == 1)
            }
            let training =
                #"{"population":[{"id":"u-1"}],"features":["clicks_7d"],"purpose":"model.training","actor":{"id":"t"},"from":"2026-01-01","to":"2026-02-01T00:00:00Z"}"#
            try await client.execute(uri: "/v1/training-sets", method: .post, headers: Self.auth, body: ByteBuffer(string: training)) {
                response in
                #expect(response.status == .badRequest)
                #expect(Self.json(response.body)?["error"]?["message"]?.stringValue?.contains("from") == true, "an RFC 3339 timestamp")
            }
        }
    }

    /// An evaluation that is permitted: consent in the request, collected an hour ago, processed in the EU.
    static var evaluation: String {
        let collected = Timestamps.format(Date().addingTimeInterval(-3_600))
        return
            #"{"subject":{"type":"user","id":"u-1001","properties":{"age":30,"jurisdiction":"EU"}},"action":{"name":"read_online"},"resource":{"type":"feature","id":"clicks_7d","properties":{"collected_at":"COLLECTED"}},"context":{"purpose":"personalization.recommendations","processing_region":"EU","consent":{"grants":[{"scope":"personalization","version":3,"granted_at":"2026-01-10T00:00:00Z"}]}}}"#
            .replacingOccurrences(of: "COLLECTED", with: collected)
    }

    static func post(
        _ client: any TestClientProtocol, _ uri: String, _ body: String, type: String = "application/json"
    ) async throws -> (HTTPResponse.Status, JSONValue?) {
        try await client.execute(uri: uri, method: .post, headers: [.contentType: type], body: ByteBuffer(string: body)) {
            ($0.status, Self.json($0.body))
        }
    }

    @Test func authZENShapesAreCheckedAsTheSpecificationSays() async throws {
        try await Self.withServer { client in
            let good = try #require(Self.json(ByteBuffer(string: Self.evaluation)))
            func without(_ path: [String]) -> String {
                func drop(_ value: JSONValue, _ path: ArraySlice<String>) -> JSONValue {
                    guard let key = path.first, let fields = value.objectValue else { return value }
                    return .object(
                        path.count == 1
                            ? fields.filter { $0.0 != key } : fields.map { ($0.0, $0.0 == key ? drop($0.1, path.dropFirst()) : $0.1) })
                }
                return drop(good, path[...]).serialized()
            }
            for (body, expected) in [
                (without(["subject", "type"]), "subject.type is required"), (without(["resource", "type"]), "resource.type is required"),
                (
                    Self.evaluation.replacingOccurrences(of: #""type":"user","id":"u-1001""#, with: #""type":7,"id":"u-1001""#),
                    "subject.type"
                ),
                (
                    Self.evaluation.replacingOccurrences(
                        of: #""properties":{"collected_at""#, with: #""properties":"x","p":{"collected_at""#),
                    "resource.properties must be an object"
                ),
                (
                    Self.evaluation.replacingOccurrences(of: #""action":{"name":"read_online"}"#, with: #""action":"read_online""#),
                    "action must be an object"
                ),
            ] {
                let (status, reply) = try await Self.post(client, "/access/v1/evaluation", body)
                #expect(status == .badRequest)
                #expect(reply?["error"]?["code"]?.stringValue == "request.invalid")
                #expect(reply?["error"]?["message"]?.stringValue?.contains(expected) == true, "\(expected)")
            }
            // Fields Accord does not read, anywhere, are ignored.
            let extra = Self.evaluation.replacingOccurrences(of: #""context":{"#, with: #""context":{"trace":{"span":1},"#)
            #expect(try await Self.post(client, "/access/v1/evaluation", extra).1?["decision"]?.boolValue == true)
            // Media types: JSON (with parameters, any case, +json) is read; anything declared otherwise is 415.
            for type in ["application/json; charset=utf-8", "Application/JSON", "application/authzen+json"] {
                #expect(try await Self.post(client, "/access/v1/evaluation", Self.evaluation, type: type).0 == .ok, "\(type)")
            }
            for type in ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"] {
                let (status, reply) = try await Self.post(client, "/access/v1/evaluation", Self.evaluation, type: type)
                #expect(status == .unsupportedMediaType, "\(type)")
                #expect(reply?["error"]?["code"]?.stringValue == ServerErrorCode.requestUnsupportedMediaType.rawValue)
            }
        }
    }

    @Test func evaluationsAnswerEachItemAndAloneLikeOne() async throws {
        try await Self.withServer { client in
            // No list, or an empty one: a single evaluation, answered as one.
            for body in [Self.evaluation, Self.evaluation.dropLast() + #","evaluations":[]}"#] {
                let (status, reply) = try await Self.post(client, "/access/v1/evaluations", String(body))
                #expect(status == .ok && reply?["decision"]?.boolValue == true && reply?["evaluations"] == nil)
            }
            let recorded = { () async throws -> Int in
                try await client.execute(uri: "/v1/audit/stats", method: .get) { Self.json($0.body)?["decisions"]?.intValue ?? -1 }
            }
            let before = try await recorded()
            // Under execute_all an unreadable item is false with its error; the others are decided and recorded.
            let batch =
                Self.evaluation.dropLast()
                + #","evaluations":[{},{"resource":{"id":"clicks_7d"}},{"resource":{"type":"feature","id":"no_such_feature"}}]}"#
            let (status, reply) = try await Self.post(client, "/access/v1/evaluations", String(batch))
            #expect(status == .ok)
            let answers = try #require(reply?["evaluations"]?.arrayValue)
            #expect(answers.map { $0["decision"]?.boolValue } == [true, false, false])
            #expect(answers[1]["context"]?["error"]?["code"]?.stringValue == "request.invalid")
            let cited = answers[0]["context"]?["reasons"]?.arrayValue ?? []
            #expect(cited.contains { $0["rule"] != nil } && cited.allSatisfy { $0["location"] == nil }, "no locations without the token")
            #expect(answers[1]["context"]?["error"]?["message"]?.stringValue?.contains("resource.type") == true)
            #expect(
                answers[2]["context"]?["reasons"]?.arrayValue?.first?["code"]?.stringValue == "request.unknown_feature",
                "a real deny, for its reason")
            #expect(try await recorded() == before + 2, "the two readable items were recorded, the unreadable one was not")
            // Under deny_on_first_deny an unreadable item is a deny, and stops the batch.
            let stopping =
                Self.evaluation.dropLast()
                + #","options":{"evaluations_semantic":"deny_on_first_deny"},"evaluations":[{"resource":{"id":"x"}},{}]}"#
            let stopped = try await Self.post(client, "/access/v1/evaluations", String(stopping)).1?["evaluations"]?.arrayValue
            #expect(stopped?.count == 1 && stopped?[0]["decision"]?.boolValue == false)
        }
    }

    @Test func discoveryNamesTheURLClientsUse() async throws {
        try await Self.withServer(publicURL: "https://pdp.example.org/") { client in
            let document = try await client.execute(uri: "/.well-known/authzen-configuration", method: .get) { Self.json($0.body) }
            #expect(document?["policy_decision_point"]?.stringValue == "https://pdp.example.org")
            #expect(document?["access_evaluation_endpoint"]?.stringValue == "https://pdp.example.org/access/v1/evaluation")
        }
        try await Self.withServer { client in
            let document = try await client.execute(uri: "/.well-known/authzen-configuration", method: .get) { Self.json($0.body) }
            // The test client asks for localhost; the server listens (by configuration) on 127.0.0.1:8181.
            #expect(document?["access_evaluations_endpoint"]?.stringValue == "http://localhost/access/v1/evaluations")
        }
    }

    @Test func anEvaluationWithoutAPurposeIsDeniedForThatOrGetsTheServersDefault() async throws {
        let unnamed = Self.evaluation.replacingOccurrences(of: #""purpose":"personalization.recommendations","#, with: "")
        #expect(!unnamed.contains("purpose"))
        try await Self.withServer { client in
            let (status, reply) = try await Self.post(client, "/access/v1/evaluation", unnamed)
            #expect(status == .ok, "a deny, not a malformed request")
            #expect(reply?["decision"]?.boolValue == false)
            #expect(reply?["context"]?["reasons"]?.arrayValue?.compactMap { $0["code"]?.stringValue } == ["request.no_purpose"])
            let records = try await client.execute(uri: "/v1/audit/records?reason=request.no_purpose", method: .get, headers: Self.auth) {
                Self.json($0.body)?["records"]?.arrayValue?.count
            }
            #expect(records == 1, "recorded like any decision")
            let wrong = Self.evaluation.replacingOccurrences(of: #""purpose":"personalization.recommendations""#, with: #""purpose":5"#)
            #expect(
                try await Self.post(client, "/access/v1/evaluation", wrong).0 == .badRequest, "a purpose that is not a string is malformed")
        }
        try await Self.withServer(defaultPurpose: "personalization.recommendations") { client in
            #expect(try await Self.post(client, "/access/v1/evaluation", unnamed).1?["decision"]?.boolValue == true)
            // A purpose the caller names still wins over the default.
            let named = Self.evaluation.replacingOccurrences(of: "personalization.recommendations", with: "ads.targeting")
            let reply = try await Self.post(client, "/access/v1/evaluation", named).1
            #expect(reply?["context"]?["reasons"]?.arrayValue?.contains { $0["code"]?.stringValue == "request.no_purpose" } == false)
        }
    }

    @Test func ruleLocationsAreForTokenHoldersUnlessShown() async throws {
        // Permitted (consent in the request, collected an hour ago), so its reasons cite the permit rule.
        let request =
            #"{"actor":{"id":"recsys"},"subject":{"id":"u-7","age":30,"jurisdiction":"EU"},"purpose":"personalization.recommendations","action":"read_online","resources":[{"feature":"clicks_7d","collected_at":"COLLECTED"}],"context":{"processing_region":"EU"},"consent":{"grants":[{"scope":"personalization","version":3,"granted_at":"2026-01-10T00:00:00Z"}]}}"#
            .replacingOccurrences(of: "COLLECTED", with: Timestamps.format(Date().addingTimeInterval(-3_600)))
        @Sendable func locations(_ client: any TestClientProtocol, _ headers: HTTPFields) async throws -> (rules: Int, locations: Int) {
            try await client.execute(uri: "/v1/decide", method: .post, headers: headers, body: ByteBuffer(string: request)) { response in
                let text = String(buffer: response.body)
                return (text.components(separatedBy: #""rule":"#).count - 1, text.components(separatedBy: #""location":"#).count - 1)
            }
        }
        try await Self.withServer { client in
            let open = try await locations(client, [.contentType: "application/json"])
            #expect(open.rules > 0 && open.locations == 0, "\(open)")
            let held = try await locations(client, Self.auth)
            #expect(held.locations == held.rules && held.rules > 0, "\(held)")
            var wrong = Self.auth
            wrong[.authorization] = "Bearer not-the-token-at-all"
            #expect(try await locations(client, wrong).locations == 0, "a wrong token is no token")
        }
        try await Self.withServer(showLocations: true) { client in
            let open = try await locations(client, [.contentType: "application/json"])
            #expect(open.locations == open.rules && open.rules > 0)
        }
    }
}
