import AccordCore
import AccordTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// `POST /v1/training-sets/decide` and `POST /v1/models`, in process: rows decided each by its own event time,
/// the answer in row order, and every malformed line refused with where it is.
struct TrainingSetRouteTests {
    static func decide(_ client: any TestClientProtocol, _ lines: [String], type: String = "application/x-ndjson") async throws -> (
        HTTPResponse.Status, JSONValue?
    ) {
        var headers = RouterTests.auth
        headers[.contentType] = type
        return try await client.execute(
            uri: "/v1/training-sets/decide", method: .post, headers: headers, body: ByteBuffer(string: lines.joined(separator: "\n"))
        ) { ($0.status, RouterTests.json($0.body)) }
    }

    @Test func rowsAreDecidedInOrderAndModelsRegistered() async throws {
        try await RouterTests.withServer { client in
            let now = Date()
            let fresh = Timestamps.format(now.addingTimeInterval(-86_400)), old = Timestamps.format(now.addingTimeInterval(-100 * 86_400))
            // Consent through the store, as a client's trainer would rely on.
            try await client.execute(
                uri: "/v1/consent/t-1/grant", method: .post, headers: RouterTests.auth,
                body: ByteBuffer(string: #"{"scope":"personalization","version":3}"#)
            ) { #expect($0.status == .ok || $0.status == .created) }
            let header =
                #"{"id":"ts-router-1","purpose":"model.training","actor":{"id":"trainer"},"context":{"processing_region":"EU"},"subjects":[{"id":"t-1","age":30,"jurisdiction":"EU"},{"id":"t-2","age":30,"jurisdiction":"EU"}]}"#
            let (status, body) = try await Self.decide(
                client,
                [
                    header, #"["t-1","clicks_7d","\#(fresh)"]"#, #"{"subject":"t-1","feature":"clicks_30d","event_time":"\#(old)"}"#,
                    #"["t-2","clicks_7d","\#(fresh)"]"#, "",
                ])
            #expect(status == .ok, "\(String(describing: body))")
            #expect(body?["rows"] == .array([.string("permit"), .string("deny:retention.expired"), .string("deny:consent.missing")]))
            #expect(body?["manifest"]?["id"] == .string("ts-router-1"))
            #expect(body?["manifest"]?["subjects_included"] == .int(1))
            try await client.execute(
                uri: "/v1/models", method: .post, headers: RouterTests.auth,
                body: ByteBuffer(string: #"{"name":"ctr","version":"3","training_set":"ts-router-1"}"#)
            ) { #expect($0.status == .created) }
            try await client.execute(
                uri: "/v1/models", method: .post, headers: RouterTests.auth,
                body: ByteBuffer(string: #"{"name":"ctr","version":"3","training_set":"nowhere"}"#)
            ) { #expect($0.status == .badRequest) }
        }
    }

    @Test(arguments: [
        ([#"["u","clicks_7d","2026-01-01T00:00:00Z"]"#], "line 1 (the header)"),
        ([#"{"purpose":"model.training","actor":{"id":"t"}}"#, #"["u","clicks_7d"]"#], "line 2: a row is"),
        ([#"{"purpose":"model.training","actor":{"id":"t"}}"#, #"["u","clicks_7d","yesterday"]"#], "line 2: event time"),
        (
            [
                #"{"purpose":"model.training","actor":{"id":"t"}}"#,
                #"{"subject":"u","feature":"f","event_time":"2026-01-01T00:00:00Z","value":1}"#,
            ], "unknown field 'value'"
        ),
        ([#"{"purpose":"model.training","actor":{"id":"t"}}"#, #"["u","f","2026-01-01T00:00:00Z"] x"#], "line 2: not valid JSON"),
        ([""], "no header line"),
    ])
    func malformedLinesAreRefusedWithTheirLine(_ lines: [String], _ message: String) async throws {
        try await RouterTests.withServer { client in
            let (status, body) = try await Self.decide(client, lines)
            #expect(status == .badRequest)
            #expect(body?["error"]?["message"]?.stringValue?.contains(message) == true, "\(String(describing: body))")
        }
    }

    @Test func theBodyMustBeJSONLinesAndTheCallerHoldTheToken() async throws {
        try await RouterTests.withServer { client in
            let (status, _) = try await Self.decide(client, ["x"], type: "text/csv")
            #expect(status == .unsupportedMediaType)
            try await client.execute(
                uri: "/v1/training-sets/decide", method: .post, headers: [.contentType: "application/x-ndjson"],
                body: ByteBuffer(string: "{}")
            ) { #expect($0.status == .unauthorized) }
        }
    }
}
