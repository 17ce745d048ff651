import AccordCore
import AccordGate
import AccordReports
import AccordStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus

/// How `accord serve` runs.
public struct ServerConfiguration: Sendable {
    public var policies: String
    public var database: String
    public var host: String
    public var port: Int
    /// Required (as `Authorization: Bearer …`) by admin and consent-writing endpoints; nil refuses them all.
    public var token: String?
    public var maxBodyBytes: Int
    public var durability: Durability
    /// Checkpoints signed in the background: after this many new records, or this long after the last one when
    /// records came in meanwhile (nil: only on request).
    public var checkpointEvery: CheckpointSchedule?
    /// Where each background checkpoint is published as a C2SP signed note (a file appended to, or a folder).
    public var publishCheckpoints: String?
    /// Most evaluations or requests one batch may carry (413 `request.too_many_items` above it).
    public var maxItems: Int
    /// Decision endpoints require the token too (they are open by default, for a server behind a gateway).
    public var tokenForDecisions: Bool
    /// Aggregates under a budgeted differential-privacy obligation spend from the privacy-budget ledger (as
    /// `accord eval --budgets` does); false decides them without it.
    public var spendBudgets: Bool

    public init(policies: String = "policies", database: String = "accord.sqlite", host: String = "127.0.0.1", port: Int = 8181,
                token: String? = nil, maxBodyBytes: Int = 1 << 20, durability: Durability = .full,
                checkpointEvery: CheckpointSchedule? = nil, publishCheckpoints: String? = nil, maxItems: Int = 1_000,
                tokenForDecisions: Bool = false, spendBudgets: Bool = true) {
        self.policies = policies
        self.database = database
        self.host = host
        self.port = port
        self.token = token
        self.maxBodyBytes = maxBodyBytes
        self.durability = durability
        self.checkpointEvery = checkpointEvery
        self.publishCheckpoints = publishCheckpoints
        self.maxItems = maxItems
        self.tokenForDecisions = tokenForDecisions
        self.spendBudgets = spendBudgets
    }
}

/// When the server checkpoints on its own: every N records, or every T seconds (if anything was recorded).
public enum CheckpointSchedule: Sendable, Equatable {
    case records(Int)
    case seconds(Int)

    /// `10000` (records) or `30s`, `5m` (time).
    public init?(_ text: String) {
        if let n = Int(text), n > 0 { self = .records(n); return }
        guard let unit = text.last, let n = Int(text.dropLast()), n > 0 else { return nil }
        switch unit {
        case "s": self = .seconds(n)
        case "m": self = .seconds(n * 60)
        case "h": self = .seconds(n * 3_600)
        default: return nil
        }
    }
}

/// The decision server: AuthZEN 1.0 and Accord's native API over HTTP (docs/server.md).
public struct AccordHTTPServer: Sendable {
    public let configuration: ServerConfiguration
    public let service: DecisionService
    let registry: PrometheusCollectorRegistry
    let counters = Counters()

    /// One request counter and one duration histogram per path, made once: making a swift-metrics metric looks
    /// it up in the registry, which cost a seventh of the server's time when done per request.
    final class Counters: @unchecked Sendable {
        private let lock = NSLock()
        private var byPath: [String: (requests: Metrics.Counter, duration: Metrics.Timer)] = [:]

        func metrics(_ path: String) -> (requests: Metrics.Counter, duration: Metrics.Timer) {
            lock.lock()
            defer { lock.unlock() }
            if let made = byPath[path] { return made }
            let made = (Metrics.Counter(label: "accord_http_requests_total", dimensions: [("path", path)]),
                        Metrics.Timer(label: "accord_http_request_duration_seconds", dimensions: [("path", path)]))
            byPath[path] = made
            return made
        }
    }

    /// The duration histogram's buckets: fine below 10 ms, where decisions are answered.
    static let durationBuckets: [Duration] = [0.25, 0.5, 1, 2, 5, 10, 25, 100, 1_000].map { .microseconds(Int64($0 * 1_000)) }

    let monitor: FailClosedMonitor

    public init(configuration: ServerConfiguration, logger: Logger = Logger(label: "accord")) throws {
        self.configuration = configuration
        let database = try StoreDatabase(path: configuration.database, durability: configuration.durability)
        monitor = FailClosedMonitor(logger: logger)
        service = try DecisionService(policies: configuration.policies, database: database, spendBudgets: configuration.spendBudgets,
                                      monitor: monitor)
        registry = PrometheusCollectorRegistry()
    }

    /// An error answered as JSON with a stable code.
    struct Failure: Error {
        var status: HTTPResponse.Status
        var code: String
        var message: String
    }

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

    func failure(_ failure: Failure, request: Request) -> Response {
        json(.object([("error", .object([("code", .string(failure.code)), ("message", .string(failure.message))]))]), status: failure.status, request: request)
    }

    /// The body as a JSON object, or a 400/413 with a code.
    func body(_ request: inout Request) async throws -> JSONValue {
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw Failure(status: .contentTooLarge, code: "request.too_large", message: "the body is larger than \(configuration.maxBodyBytes) bytes")
        }
        // Strict JSON, UTF-8 only (RFC 8259 for JSON exchanged between systems), each key once per object.
        let value: JSONValue
        do {
            value = try JSONReader.parse(Array(buffer.readableBytesView))
        } catch {
            if case .duplicateKey(let key) = error.kind {
                throw Failure(status: .badRequest, code: "request.duplicate_key",
                              message: "duplicate key '\(key)'" + (error.path.isEmpty ? "" : " in \(error.path)") + " at \(error.line):\(error.column)")
            }
            throw Failure(status: .badRequest, code: "request.invalid_json", message: "the body is not valid JSON: \(error)")
        }
        guard case .object = value else {
            throw Failure(status: .badRequest, code: "request.invalid_json", message: "the body is not a JSON object")
        }
        return value
    }

    /// A batch's size against `--max-items`: the work one request can ask for is bounded by items as well as bytes.
    func limitItems(_ count: Int) throws {
        guard count <= configuration.maxItems else {
            throw Failure(status: .contentTooLarge, code: "request.too_many_items",
                          message: "\(count) items in one request; at most \(configuration.maxItems) (--max-items)")
        }
    }

    func requireToken(_ request: Request) throws {
        guard let token = configuration.token else {
            throw Failure(status: .forbidden, code: "auth.disabled", message: "no token is configured; this endpoint is closed")
        }
        let given = request.headers[.authorization] ?? ""
        // Compared in constant time.
        let expected = Array(("Bearer " + token).utf8), actual = Array(given.utf8)
        var difference = expected.count ^ actual.count
        for i in 0..<max(expected.count, actual.count) {
            difference |= Int((i < expected.count ? expected[i] : 0) ^ (i < actual.count ? actual[i] : 1))
        }
        guard difference == 0 else {
            throw Failure(status: .unauthorized, code: "auth.invalid_token", message: given.isEmpty ? "a bearer token is required" : "the token is not valid")
        }
    }

    /// Runs the gate's blocking work; a read or training set whose decisions could not be recorded (nothing was
    /// served) is told to the monitor and answered 503 `audit.unavailable`.
    func gated<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await blocking(work)
        } catch let error as GateError {
            guard case .notRecorded(let cause) = error else { throw error }
            monitor.observe(reasons: [Reason(.auditUnavailable, detail: cause)], recorded: false)
            throw Failure(status: .serviceUnavailable, code: "audit.unavailable", message: "\(error)")
        }
    }

    /// Runs blocking work (SQLite) off the cooperative pool.
    func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
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
            return self.failure(Failure(status: .internalServerError, code: "internal", message: "\(error)"), request: request)
        }
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        let service = self.service

        router.get("/healthz") { request, _ in await handle(request) { request in json(.object([("status", .string("ok"))]), request: request) } }
        router.get("/readyz") { request, _ in
            await handle(request) { request in
                // Not ready while decisions cannot be recorded (each would be a deny) or the file is found damaged.
                if let cause = service.database.health.poisoned ?? monitor.trailDown {
                    throw Failure(status: .serviceUnavailable, code: "audit.unavailable", message: "decisions cannot be recorded: \(cause)")
                }
                _ = try await blocking { try service.trail.latestSequence() }
                return json(.object([("status", .string("ready")), ("revision", .string(service.plan.revision))]), request: request)
            }
        }
        router.get("/metrics") { request, _ in
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }

        // AuthZEN.
        router.get("/.well-known/authzen-configuration") { request, _ in
            await handle(request) { request in
                let base = "http://\(configuration.host):\(configuration.port)"
                return json(.object([("policy_decision_point", .string(base)),
                                     ("access_evaluation_endpoint", .string(base + "/access/v1/evaluation")),
                                     ("access_evaluations_endpoint", .string(base + "/access/v1/evaluations"))]), request: request)
            }
        }
        router.post("/access/v1/evaluation") { request, _ in
            await handle(request) { request in
                if configuration.tokenForDecisions { try requireToken(request) }
                let object = try await body(&request)
                let decisionRequest = try authzen { try AuthZEN.request(object) }
                let decided = await service.decide([decisionRequest])
                return json(AuthZEN.response(decided[0].decision, id: decided[0].id), request: request, revision: decided[0].decision.revision)
            }
        }
        router.post("/access/v1/evaluations") { request, _ in
            await handle(request) { request in
                if configuration.tokenForDecisions { try requireToken(request) }
                let object = try await body(&request)
                // No list (or an empty one) is one evaluation of the top-level fields; anything else must be a list of objects.
                let items: [JSONValue]
                switch object["evaluations"] {
                case nil, .null?, .array([])?: items = [object]
                case .array(let list)? where list.allSatisfy({ $0.objectValue != nil }): items = list
                default: throw Failure(status: .badRequest, code: "request.invalid_value", message: "'evaluations' must be a list of objects")
                }
                try limitItems(items.count)
                let semantic = try object["options"]?["evaluations_semantic"].map { value in
                    guard let name = value.stringValue else {
                        throw Failure(status: .badRequest, code: "request.invalid_value", message: "evaluations_semantic must be a string")
                    }
                    guard let semantic = AuthZEN.Semantic(rawValue: name) else {
                        throw Failure(status: .badRequest, code: "request.invalid_value", message: "unknown evaluations_semantic '\(name)'")
                    }
                    return semantic
                } ?? .executeAll
                let requests = try items.map { item in try authzen { try AuthZEN.request(item, defaults: object) } }
                // Short-circuit semantics decide (and record) up to the first deny or permit only.
                var answers: [JSONValue] = []
                if semantic == .executeAll {
                    answers = await service.decide(requests).map { AuthZEN.response($0.decision, id: $0.id) }
                } else {
                    for decisionRequest in requests {
                        let decided = await service.decide([decisionRequest])[0]
                        answers.append(AuthZEN.response(decided.decision, id: decided.id))
                        let permitted = decided.decision.resources.first?.effect == .permit
                        if (semantic == .denyOnFirstDeny && !permitted) || (semantic == .permitOnFirstPermit && permitted) { break }
                    }
                }
                return json(.object([("evaluations", .array(answers))]), request: request)
            }
        }

        // Native decisions.
        router.post("/v1/decide") { request, _ in
            await handle(request) { request in
                if configuration.tokenForDecisions { try requireToken(request) }
                let object = try await body(&request)
                let decisionRequest = try native { try DecisionRequest.decode(value: object) }
                let decided = await service.decide([decisionRequest])[0]
                return json(decided.decision.json(decisionID: decided.id), request: request, revision: decided.decision.revision)
            }
        }
        router.post("/v1/decide/batch") { request, _ in
            await handle(request) { request in
                if configuration.tokenForDecisions { try requireToken(request) }
                let object = try await body(&request)
                guard let list = object["requests"]?.arrayValue else {
                    throw Failure(status: .badRequest, code: "request.invalid_value", message: "'requests' must be a list of requests")
                }
                try limitItems(list.count)
                let requests = try list.enumerated().map { n, item in try native(index: n) { try DecisionRequest.decode(value: item) } }
                let decided = await service.decide(requests)
                let revision = decided.first?.decision.revision ?? service.plan.revision
                return json(.object([("revision", .string(revision)), ("decisions", .array(decided.map { $0.decision.json(decisionID: $0.id) }))]),
                            request: request, revision: revision)
            }
        }

        // Consent.
        router.get("/v1/consent/:subject") { request, context in
            await handle(request) { request in
                try requireToken(request)
                let subject = try pathParameter("subject", context)
                let state = try await blocking { try service.consent.consent(subject: subject, asOf: Date()) }.state
                return json(.object([("subject", .string(subject)), ("grants", .array(state.grants.map { grant in
                    .object([("scope", .string(grant.scope)), ("version", .int(grant.version)), ("granted_at", .string(Timestamps.format(grant.grantedAt))),
                             ("by_guardian", .bool(grant.byGuardian))])
                })), ("objections", .array(state.objections.map(JSONValue.string))), ("opt_outs", .array(state.optOuts.map(JSONValue.string)))]), request: request)
            }
        }
        router.get("/v1/consent/:subject/history") { request, context in
            await handle(request) { request in
                try requireToken(request)
                let subject = try pathParameter("subject", context)
                let history = try await blocking { try service.consent.history(subject: subject) }
                return json(.object([("subject", .string(subject)), ("events", .array(history.map { record in
                    .object([("id", .int(Int(record.id))), ("kind", .string(record.event.kind.rawValue)), ("target", .string(record.event.target)),
                             ("occurred_at", .string(Timestamps.format(record.event.occurredAt))), ("source", .string(record.event.source.rawValue))])
                }))]), request: request)
            }
        }
        for kind in [ConsentEvent.Kind.grant, .withdraw, .object, .optOut] {
            let path = kind == .optOut ? "opt-out" : kind.rawValue
            router.post("/v1/consent/:subject/\(path)") { request, context in
                await handle(request) { request in
                    try requireToken(request)
                    let subject = try pathParameter("subject", context)
                    let object = try await body(&request)
                    guard let target = (object["scope"] ?? object["purpose"] ?? object["target"])?.stringValue else {
                        throw Failure(status: .badRequest, code: "request.missing_field", message: "'scope' (or 'purpose' for objections and opt-outs) is required")
                    }
                    let event = ConsentEvent(kind: kind, target: target, version: object["version"]?.intValue, byGuardian: object["by_guardian"]?.boolValue ?? false,
                                             source: .api, occurredAt: Date())
                    let gpc = request.headers[Self.gpcHeader] == "1"
                    let records = try await blocking {
                        var records = try service.consent.record([event], subject: subject)
                        // A browser's Global Privacy Control signal, sent along, is recorded too.
                        if gpc { records.append(try service.consent.recordGPC(subject: subject)) }
                        return records
                    }
                    return json(.object([("recorded", .array(records.map { .object([("id", .int(Int($0.id))), ("kind", .string($0.event.kind.rawValue)),
                                                                                     ("target", .string($0.event.target))]) }))]), status: .created, request: request)
                }
            }
        }

        // Audit.
        router.get("/v1/audit/stats") { request, _ in
            await handle(request) { request in
                let stats = try await blocking { try service.trail.stats() }
                return json(.object([("records", .int(stats.records)), ("decisions", .int(stats.decisions)),
                                     ("retention_purges", .int(stats.retentionPurges)), ("by_purpose", .array(stats.byPurpose.map {
                    .object([("purpose", .string($0.purpose)), ("permit", .int($0.permit)), ("partial", .int($0.partial)), ("deny", .int($0.deny))])
                })), ("top_reasons", .array(stats.topReasons.map { .object([("code", .string($0.code)), ("records", .int($0.records))]) })),
                ("checkpoints", .int(stats.checkpoints))]), request: request)
            }
        }
        router.get("/v1/audit/verify") { request, _ in
            await handle(request) { request in
                try requireToken(request)
                let verification = try await blocking { try service.trail.verify() }
                return json(.object([("intact", .bool(verification.isIntact)), ("records", .int(verification.records)),
                                     ("checkpoints", .int(verification.checkpoints)), ("problems", .array(verification.problems.map { .string($0.description) }))]),
                            request: request)
            }
        }
        router.get("/v1/audit/records") { request, _ in
            await handle(request) { request in
                try requireToken(request)
                let parameters = try queryParameters(request)
                func value(_ key: String) -> String? { parameters[key] }
                let query = AuditQuery(subject: value("subject"), purpose: value("purpose"), action: value("action"), effect: value("effect"),
                                       rule: value("rule"), reason: value("reason"), actor: value("actor"), decisionID: value("decision"),
                                       limit: try value("limit").map { text in
                                           guard let limit = Int(text), limit > 0 else {
                                               throw Failure(status: .badRequest, code: "request.invalid_query", message: "'limit' must be a positive whole number")
                                           }
                                           return limit
                                       } ?? 100)
                let records = try await blocking { try service.trail.query(query) }
                return json(.object([("records", .array(records.map { record in
                    .object([("sequence", .int(Int(record.sequence))), ("decision_id", .string(record.decisionID)),
                             ("recorded_at", .string(Timestamps.format(record.recordedAt))), ("actor", .string(record.actor)), ("purpose", .string(record.purpose)),
                             ("action", .string(record.action)), ("effect", .string(record.effect)), ("revision", .string(record.revision))])
                }))]), request: request)
            }
        }
        router.get("/v1/pia") { request, _ in
            await handle(request) { request in
                try requireToken(request)
                let plan = service.plan
                let report = try await blocking {
                    try PrivacyImpactAssessment(policies: plan.policySet, sources: PIASources(trail: service.trail, consent: service.consent),
                                                asOf: Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)))
                }
                return json(report.json, request: request)
            }
        }

        // The gate: guarded online reads and training sets from the embedded feature store.
        router.post("/v1/features/online") { request, _ in
            await handle(request) { request in
                try requireToken(request)
                let object = try await body(&request)
                let (subjects, purpose, actor, context) = try gateRequest(object, subjectsKey: "subjects")
                guard let features = object["features"]?.stringsValue, !features.isEmpty else {
                    throw Failure(status: .badRequest, code: "request.missing_field", message: "'features' must be a non-empty list of feature names")
                }
                let served = try await gated {
                    try service.gate.onlineFeatures(subjects: subjects, features: features, purpose: purpose, actor: actor, context: context)
                }
                monitor.observe(reasons: served.flatMap { $0.values.flatMap(\.reasons) }, recorded: true)
                return json(.object([("results", .array(served.map { subject in
                    .object([("subject", .string(subject.subject)), ("decision_id", .string(subject.decisionID)), ("effect", .string(subject.effect.rawValue)),
                             ("values", .array(subject.values.map { value in
                                 .object([("feature", .string(value.feature)), ("status", .string(value.status.rawValue)), ("value", value.value?.json ?? .null),
                                          ("event_time", value.eventTime.map { .string(Timestamps.format($0)) } ?? .null),
                                          ("reasons", .array(value.reasons.map { .string($0.code.rawValue) }))])
                             }))])
                }))]), request: request)
            }
        }
        router.post("/v1/training-sets") { request, _ in
            await handle(request) { request in
                try requireToken(request)
                let object = try await body(&request)
                let (population, purpose, actor, context) = try gateRequest(object, subjectsKey: "population")
                guard let features = object["features"]?.stringsValue, !features.isEmpty,
                      let from = object["from"]?.stringValue.flatMap(Timestamps.parse), let to = object["to"]?.stringValue.flatMap(Timestamps.parse)
                else {
                    throw Failure(status: .badRequest, code: "request.missing_field", message: "'features', 'from' and 'to' (RFC 3339) are required")
                }
                let set = try await gated {
                    try service.gate.trainingSet(features: features, purpose: purpose, actor: actor, population: population, from: from, to: to,
                                                 context: context, lineage: service.lineage)
                }
                return json(.object([("manifest", set.manifest.json), ("rows", .array(set.rows.map { row in
                    .object([("entity", .string(row.entity)), ("feature", .string(row.feature)), ("event_time", .string(Timestamps.format(row.eventTime))),
                             ("value", row.value.json)])
                }))]), request: request)
            }
        }

        // Operations.
        router.post("/admin/reload") { request, _ in
            await handle(request) { request in
                try requireToken(request)
                switch try await blocking({ service.reload() }) {
                case .success(let revision): return json(.object([("reloaded", .bool(true)), ("revision", .string(revision))]), request: request)
                case .failure(let problem):
                    return failure(Failure(status: .unprocessableContent, code: "policies.invalid",
                                           message: "the new policies are invalid; still serving the running set: \(problem)"), request: request)
                }
            }
        }
        return router
    }

    /// The subjects, purpose, actor and context of a gate request.
    func gateRequest(_ object: JSONValue, subjectsKey: String) throws -> ([Subject], String, Actor, AccordCore.RequestContext) {
        guard let list = object[subjectsKey]?.arrayValue, !list.isEmpty else {
            throw Failure(status: .badRequest, code: "request.missing_field", message: "'\(subjectsKey)' must be a non-empty list of {id, age, jurisdiction}")
        }
        let subjects = try list.map { item -> Subject in
            guard let id = item["id"]?.stringValue else { throw Failure(status: .badRequest, code: "request.missing_field", message: "every subject needs an 'id'") }
            return Subject(id: id, age: item["age"]?.intValue, jurisdiction: item["jurisdiction"]?.stringValue)
        }
        guard let purpose = object["purpose"]?.stringValue else { throw Failure(status: .badRequest, code: "request.missing_field", message: "'purpose' is required") }
        let actorObject = object["actor"] ?? .object([])
        let actor = Actor(id: actorObject["id"]?.stringValue ?? "http", roles: actorObject["roles"]?.stringsValue ?? [],
                          type: actorObject["type"]?.stringValue)
        let contextObject = object["context"] ?? .object([])
        let context = AccordCore.RequestContext(processingRegion: contextObject["processing_region"]?.stringValue, gpc: contextObject["gpc"]?.boolValue ?? false,
                                     environment: contextObject["environment"]?.stringValue)
        return (subjects, purpose, actor, context)
    }

    func authzen<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let problem as AuthZEN.Problem {
            throw Failure(status: .badRequest, code: "request.invalid", message: problem.message)
        }
    }

    func native<T>(index: Int? = nil, _ body: () throws -> T) throws -> T {
        do { return try body() } catch {
            throw Failure(status: .badRequest, code: "request.invalid", message: (index.map { "requests[\($0)]: " } ?? "") + "\(error)")
        }
    }

    /// Serves until SIGTERM or SIGINT (then finishes the requests in flight: each answered decision is already
    /// committed). SIGHUP reloads the policies.
    public func run(logger: Logger = Logger(label: "accord")) async throws {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.durationBuckets
        MetricsSystem.bootstrap(factory)
        signal(SIGHUP, SIG_IGN)
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        let service = self.service
        hangup.setEventHandler {
            switch service.reload() {
            case .success(let revision): logger.info("policies reloaded", metadata: ["revision": .string(revision)])
            case .failure(let problem): logger.error("reload refused: the new policies are invalid; still serving the running set", metadata: ["problems": .string(problem.description)])
            }
        }
        hangup.resume()
        let checkpoints = configuration.checkpointEvery.map { schedule in
            Task.detached { await Self.checkpointInBackground(service: service, schedule: schedule, publish: configuration.publishCheckpoints, logger: logger) }
        }
        defer { checkpoints?.cancel() }
        let app = Application(
            router: router(),
            server: .http1(configuration: .init(idleTimeout: .seconds(30))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "accord"),
            onServerRunning: { channel in
                logger.info("serving", metadata: ["address": .string("\(channel.localAddress.map { "\($0)" } ?? "")"), "revision": .string(service.plan.revision)])
            },
            logger: logger)
        try await app.runService()
        hangup.cancel()
    }

    /// Signs (and publishes) a checkpoint whenever the schedule says one is due; a failure is logged and tried
    /// again at the next tick, never fatal to serving.
    static func checkpointInBackground(service: DecisionService, schedule: CheckpointSchedule, publish: String?, logger: Logger) async {
        var lastSize = (try? service.trail.checkpoints().map(\.size).max()) ?? 0
        var lastTime = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(200))
            guard let size = try? service.trail.latestSequence(), size > lastSize else { continue }
            let due = switch schedule {
            case .records(let n): size - lastSize >= Int64(n)
            case .seconds(let t): ContinuousClock.now - lastTime >= .seconds(t)
            }
            guard due else { continue }
            do {
                let checkpoint = try publish.map { try service.trail.checkpoint(publishingTo: $0).0 } ?? service.trail.checkpoint()
                lastSize = checkpoint.size
                lastTime = .now
                logger.info("checkpoint", metadata: ["size": .string("\(checkpoint.size)"), "root": .string(checkpoint.root),
                                                     "published": .string(publish ?? "no")])
            } catch {
                logger.error("checkpoint failed; trying again", metadata: ["error": .string("\(error)")])
                lastTime = .now
            }
        }
    }
}
