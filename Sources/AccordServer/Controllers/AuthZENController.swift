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
        let service = server.service
        let configuration = server.configuration
        router.get("/.well-known/authzen-configuration") { request, _ in
            await server.handle(request) { request in
                let base = "http://\(configuration.host):\(configuration.port)"
                return server.json(
                    .object([
                        ("policy_decision_point", .string(base)),
                        ("access_evaluation_endpoint", .string(base + "/access/v1/evaluation")),
                        ("access_evaluations_endpoint", .string(base + "/access/v1/evaluations")),
                    ]), request: request)
            }
        }
        router.post("/access/v1/evaluation") { request, _ in
            await server.handle(request) { request in
                if configuration.tokenForDecisions { try server.requireToken(request) }
                let object = try await server.body(&request)
                let decisionRequest = try server.authzen { try AuthZEN.request(object) }
                let decided = await service.decide([decisionRequest])
                return server.json(
                    AuthZEN.response(decided[0].decision, id: decided[0].id), request: request, revision: decided[0].decision.revision)
            }
        }
        router.post("/access/v1/evaluations") { request, _ in
            await server.handle(request) { request in
                if configuration.tokenForDecisions { try server.requireToken(request) }
                let object = try await server.body(&request)
                // No list (or an empty one) is one evaluation of the top-level fields; anything else must be a list of objects.
                let items: [JSONValue]
                switch object["evaluations"] {
                case nil, .null?, .array([])?: items = [object]
                case .array(let list)? where list.allSatisfy({ $0.objectValue != nil }): items = list
                default: throw Failure(.requestInvalidValue, "'evaluations' must be a list of objects")
                }
                try server.limitItems(items.count)
                let semantic =
                    try object["options"]?["evaluations_semantic"].map { value in
                        guard let name = value.stringValue else {
                            throw Failure(.requestInvalidValue, "evaluations_semantic must be a string")
                        }
                        guard let semantic = AuthZEN.Semantic(rawValue: name) else {
                            throw Failure(.requestInvalidValue, "unknown evaluations_semantic '\(name)'")
                        }
                        return semantic
                    } ?? .executeAll
                let requests = try items.map { item in try server.authzen { try AuthZEN.request(item, defaults: object) } }
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
                return server.json(.object([("evaluations", .array(answers))]), request: request)
            }
        }
    }
}
