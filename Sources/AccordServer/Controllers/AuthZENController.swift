import AccordCore
import AccordReports
import AccordRuntime
import AccordStore
import Foundation
import Hummingbird
import NIOCore

/// AuthZEN 1.0: the discovery document, single evaluations and batches with their three semantics.
struct AuthZENController {
    let server: AccordHTTPServer

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/.well-known/authzen-configuration") { request, _ in
            await server.handle(request) { request in discovery(request) }
        }
        router.post("/access/v1/evaluation") { request, _ in
            await server.handle(request) { request in try await evaluation(&request) }
        }
        router.post("/access/v1/evaluations") { request, _ in
            await server.handle(request) { request in try await evaluations(&request) }
        }
    }

    /// `GET /.well-known/authzen-configuration`: the endpoints, under `--public-url` when one is configured, else
    /// under the host the client asked for.
    private func discovery(_ request: Request) -> Response {
        let configuration = server.configuration
        var base: String
        if let publicURL = configuration.publicURL {
            base = publicURL
            while base.hasSuffix("/") { base.removeLast() }
        } else if let authority = request.head.authority, Self.isHostAndPort(authority) {
            base = "http://\(authority)"
        } else {
            base = "http://\(configuration.host):\(configuration.port)"
        }
        return server.json(
            .object([
                ("policy_decision_point", .string(base)),
                ("access_evaluation_endpoint", .string(base + "/access/v1/evaluation")),
                ("access_evaluations_endpoint", .string(base + "/access/v1/evaluations")),
            ]), request: request)
    }

    /// `POST /access/v1/evaluation`: one decision, recorded before it is answered.
    private func evaluation(_ request: inout Request) async throws -> Response {
        if server.configuration.tokenForDecisions { try server.requireToken(request) }
        let object = try await server.body(&request)
        return try await single(object, request: request)
    }

    private func single(_ object: JSONValue, request: Request) async throws -> Response {
        let decisionRequest = try server.authzen {
            try AuthZEN.request(object, defaultPurpose: server.configuration.defaultPurpose, plan: server.service.plan)
        }
        let decided = await server.service.decide([decisionRequest])
        return server.json(
            AuthZEN.response(decided[0].decision, id: decided[0].id, locations: server.showsLocations(to: request)), request: request,
            revision: decided[0].decision.revision)
    }

    /// `POST /access/v1/evaluations`: without `evaluations` (or with an empty list), a single evaluation of the
    /// top-level fields, answered as one; otherwise each item over the top-level defaults, under the semantic asked
    /// for. Under `execute_all` an item that cannot be read gets `decision: false` with its error, and the others
    /// are decided; under the short-circuit semantics it is a deny (and stops `deny_on_first_deny`).
    private func evaluations(_ request: inout Request) async throws -> Response {
        if server.configuration.tokenForDecisions { try server.requireToken(request) }
        let object = try await server.body(&request)
        // The semantic is checked even when there is nothing to apply it to: a bad option is a bad request.
        let semantic =
            try object["options"]?["evaluations_semantic"].map { value in
                guard let name = value.stringValue else { throw Failure(.requestInvalidValue, "evaluations_semantic must be a string") }
                guard let semantic = AuthZEN.Semantic(rawValue: name) else {
                    throw Failure(.requestInvalidValue, "unknown evaluations_semantic '\(name)'")
                }
                return semantic
            } ?? .executeAll
        let items: [JSONValue]
        switch object["evaluations"] {
        case nil, .null?, .array([])?: return try await single(object, request: request)
        case .array(let list)? where list.allSatisfy({ $0.objectValue != nil }): items = list
        default: throw Failure(.requestInvalidValue, "'evaluations' must be a list of objects")
        }
        try server.limitItems(items.count)
        let plan = server.service.plan
        let requests = items.map { item in
            Result { try AuthZEN.request(item, defaults: object, defaultPurpose: server.configuration.defaultPurpose, plan: plan) }
        }
        var answers: [JSONValue] = []
        let locations = server.showsLocations(to: request)
        if semantic == .executeAll {
            // The readable ones decided (and recorded) in one commit, the answers in the items' order.
            var decided = await server.service.decide(requests.compactMap { try? $0.get() }).makeIterator()
            for item in requests {
                switch item {
                case .success:
                    if let next = decided.next() { answers.append(AuthZEN.response(next.decision, id: next.id, locations: locations)) }
                case .failure(let error): answers.append(AuthZEN.refusal(Self.message(error)))
                }
            }
        } else {
            // Short-circuit semantics decide (and record) up to the first deny or permit only.
            for item in requests {
                let permitted: Bool
                switch item {
                case .success(let decisionRequest):
                    let decided = await server.service.decide([decisionRequest])[0]
                    answers.append(AuthZEN.response(decided.decision, id: decided.id, locations: locations))
                    permitted = decided.decision.resources.first?.effect == .permit
                case .failure(let error):
                    answers.append(AuthZEN.refusal(Self.message(error)))
                    permitted = false
                }
                if (semantic == .denyOnFirstDeny && !permitted) || (semantic == .permitOnFirstPermit && permitted) { break }
            }
        }
        return server.json(.object([("evaluations", .array(answers))]), request: request)
    }

    /// A `Host` that is a name or address with an optional port, nothing else (no path, user info or spaces to
    /// smuggle into the URLs the discovery document hands out).
    static func isHostAndPort(_ authority: String) -> Bool {
        !authority.isEmpty && authority.utf8.count <= 255
            && authority.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || ".-:[]".unicodeScalars.contains($0)
            }
    }

    private static func message(_ error: Error) -> String { (error as? AuthZEN.Problem)?.message ?? "\(error)" }
}
