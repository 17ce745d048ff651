import AccordCore
import AccordReports
import AccordRuntime
import AccordStore
import Foundation
import Hummingbird
import NIOCore

/// Accord's native decisions: one request (`/v1/decide`) or a batch recorded in one commit.
struct DecisionController {
    let server: AccordHTTPServer

    func addRoutes(to router: Router<BasicRequestContext>) {
        let service = server.service
        let configuration = server.configuration
        router.post("/v1/decide") { request, _ in
            await server.handle(request) { request in
                if configuration.tokenForDecisions { try server.requireToken(request) }
                let object = try await server.body(&request)
                let decisionRequest = try server.native { try DecisionRequest.decode(value: object) }
                let decided = await service.decide([decisionRequest])[0]
                return server.json(
                    decided.decision.json(decisionID: decided.id, locations: server.showsLocations(to: request)), request: request,
                    revision: decided.decision.revision)
            }
        }
        router.post("/v1/decide/batch") { request, _ in
            await server.handle(request) { request in
                if configuration.tokenForDecisions { try server.requireToken(request) }
                let object = try await server.body(&request)
                guard let list = object["requests"]?.arrayValue else {
                    throw Failure(.requestInvalidValue, "'requests' must be a list of requests")
                }
                try server.limitItems(list.count)
                let requests = try list.enumerated().map { n, item in
                    try server.native(index: n) { try DecisionRequest.decode(value: item) }
                }
                let decided = await service.decide(requests)
                let revision = decided.first?.decision.revision ?? service.plan.revision
                let locations = server.showsLocations(to: request)
                let decisions = JSONValue.array(decided.map { $0.decision.json(decisionID: $0.id, locations: locations) })
                return server.json(
                    .object([("revision", .string(revision)), ("decisions", decisions)]),
                    request: request, revision: revision)
            }
        }
    }
}
