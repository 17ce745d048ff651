import AccordCore
import AccordReports
import AccordRuntime
import AccordStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus

extension AccordHTTPServer {
    static let revisionHeader = HTTPField.Name("Accord-Revision")!
    static let requestIDHeader = HTTPField.Name("X-Request-ID")!
    static let gpcHeader = HTTPField.Name("Sec-GPC")!

    /// `revision`: the policy revision that decided what the response carries (default: the one in force).
    func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, request: Request, revision: String? = nil) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers[Self.revisionHeader] = revision ?? service.plan.revision
        if let id = request.headers[Self.requestIDHeader] { headers[Self.requestIDHeader] = id }
        var bytes = value.serializedBytes()
        bytes.append(UInt8(ascii: "\n"))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A JSON answer written directly (`JSONBytes`), for the decision routes.
    func json(bytes json: consuming JSONBytes, status: HTTPResponse.Status = .ok, request: Request, revision: String) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers[Self.revisionHeader] = revision
        if let id = request.headers[Self.requestIDHeader] { headers[Self.requestIDHeader] = id }
        json.raw("\n")
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
    }

    func failure(_ failure: Failure, request: Request) -> Response {
        json(
            .object([("error", .object([("code", .string(failure.code.rawValue)), ("message", .string(failure.message))]))]),
            status: failure.status, request: request)
    }

    /// The body as a JSON object, or a 400/413 with a code.
    func body(_ request: inout Request) async throws -> JSONValue {
        try parsed(try await bodyBytes(&request))
    }

    /// The body's bytes, refused (415/413) before they are read as anything.
    func bodyBytes(_ request: inout Request) async throws -> [UInt8] {
        // A body declared as something else is refused before it is read; one with no Content-Type is read as JSON.
        if let type = request.headers[.contentType], !Self.isJSON(type) {
            throw Failure(.requestUnsupportedMediaType, "the body must be JSON (Content-Type: application/json), not '\(type)'")
        }
        do {
            return Array(try await request.collectBody(upTo: configuration.maxBodyBytes).readableBytesView)
        } catch is NIOTooManyBytesError {
            throw Failure(.requestTooLarge, "the body is larger than \(configuration.maxBodyBytes) bytes")
        }
    }

    /// `bytes` read as strict JSON — UTF-8 only (RFC 8259 for JSON exchanged between systems), each key once per
    /// object — and a JSON object, or a 400 with a code.
    func parsed(_ bytes: [UInt8]) throws -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONReader.parse(bytes)
        } catch {
            if case .duplicateKey(let key) = error.kind {
                throw Failure(
                    .requestDuplicateKey,
                    "duplicate key '\(key)'" + (error.path.isEmpty ? "" : " in \(error.path)") + " at \(error.line):\(error.column)")
            }
            throw Failure(.requestInvalidJSON, "the body is not valid JSON: \(error)")
        }
        guard case .object = value else {
            throw Failure(.requestInvalidJSON, "the body is not a JSON object")
        }
        return value
    }

    /// `application/json` or a `+json` type, any parameters (`; charset=utf-8`) aside, in any letter case.
    static func isJSON(_ contentType: String) -> Bool {
        let media = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return media == "application/json" || (media.hasPrefix("application/") && media.hasSuffix("+json"))
    }

    /// A batch's size against `--max-items`: the work one request can ask for is bounded by items as well as bytes.
    func limitItems(_ count: Int) throws {
        guard count <= configuration.maxItems else {
            throw Failure(.requestTooManyItems, "\(count) items in one request; at most \(configuration.maxItems) (--max-items)")
        }
    }

    func requireToken(_ request: Request) throws {
        guard configuration.token != nil else {
            throw Failure(.authDisabled, "no token is configured; this endpoint is closed")
        }
        guard holdsToken(request) else {
            let given = request.headers[.authorization] ?? ""
            throw Failure(.authInvalidToken, given.isEmpty ? "a bearer token is required" : "the token is not valid")
        }
    }

    /// Whether the request carries the configured bearer token (compared in constant time).
    func holdsToken(_ request: Request) -> Bool {
        guard let token = configuration.token else { return false }
        let expected = Array(("Bearer " + token).utf8), actual = Array((request.headers[.authorization] ?? "").utf8)
        var difference = expected.count ^ actual.count
        for i in 0..<max(expected.count, actual.count) {
            difference |= Int((i < expected.count ? expected[i] : 0) ^ (i < actual.count ? actual[i] : 1))
        }
        return difference == 0
    }

    /// Whether decisions answered to `request` cite where each rule is written (`file:line:col`, which tells the
    /// policy folder's layout): for token holders, or for everyone under `--show-locations`.
    func showsLocations(to request: Request) -> Bool { configuration.showLocations || holdsToken(request) }

    /// Runs the gate's blocking work; a read or training set whose decisions could not be recorded (nothing was
    /// served) is told to the monitor and answered 503 `audit.unavailable`.
    func gated<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await blocking(work)
        } catch let error as GateError {
            // The decision point has told the monitor already.
            guard case .notRecorded = error else { throw error }
            throw Failure(.auditUnavailable, "\(error)")
        }
    }

    /// Runs blocking work (SQLite) on NIO's blocking thread pool, off the event loops and the cooperative pool.
    func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive { try work() }
    }

    func handle(_ request: Request, _ work: (inout Request) async throws -> Response) async -> Response {
        var request = request
        // Paths with a subject in them are counted under their route, not one series per person.
        let path = request.uri.path
        let metrics = counters.metrics(path.hasPrefix("/v1/consent/") ? "/v1/consent" : path)
        metrics.requests.increment()
        // From the handler's start to its response (decisions: decided, recorded and written out as JSON).
        let start = DispatchTime.now().uptimeNanoseconds
        defer { metrics.duration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start)) }
        do {
            return try await work(&request)
        } catch let failure as Failure {
            return self.failure(failure, request: request)
        } catch {
            return self.failure(Failure(.internalError, "\(error)"), request: request)
        }
    }

    func authzen<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let problem as AuthZEN.Problem {
            throw Failure(.requestInvalid, problem.message)
        }
    }

    func native<T>(index: Int? = nil, _ body: () throws -> T) throws -> T {
        do { return try body() } catch {
            throw Failure(.requestInvalid, (index.map { "requests[\($0)]: " } ?? "") + "\(error)")
        }
    }
}
