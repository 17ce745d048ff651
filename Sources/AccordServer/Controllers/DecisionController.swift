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
                var answer = JSONBytes(capacity: 512 + 320 * decided.decision.resources.count)
                decided.decision.writeJSON(decisionID: decided.id, locations: server.showsLocations(to: request), into: &answer)
                return server.json(bytes: answer, request: request, revision: decided.decision.revision)
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
                var answer = JSONBytes(capacity: 64 + decided.reduce(0) { $0 + 512 + 320 * $1.decision.resources.count })
                answer.raw("{\"revision\":")
                answer.string(revision)
                answer.raw(",\"decisions\":[")
                for (index, one) in decided.enumerated() {
                    if index > 0 { answer.raw(",") }
                    one.decision.writeJSON(decisionID: one.id, locations: locations, into: &answer)
                }
                answer.raw("]}")
                return server.json(bytes: answer, request: request, revision: revision)
            }
        }
    }
}
