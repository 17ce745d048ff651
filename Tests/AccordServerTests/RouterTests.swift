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
    static func withServer(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let folder = try Fixtures.temporaryFolder("accord-router")
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try AccordHTTPServer(
            configuration: ServerConfiguration(
                policies: Repository.path("policies"), database: folder.appendingPathComponent("accord.sqlite").path,
                token: "router-test-token-0123456789", durability: .off))
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
}
