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
                let bytes = try await server.bodyBytes(&request)
                // A request of the common shape is read straight from its bytes; any other by the strict reader,
                // which gives the same request or the error (see `DecisionRequest.decodeCommon(json:)`).
                let decisionRequest: DecisionRequest
                if let common = DecisionRequest.decodeCommon(json: bytes) {
                    decisionRequest = common
                } else {
                    let object = try server.parsed(bytes)
                    decisionRequest = try server.native { try DecisionRequest.decode(value: object) }
                }
                let decided = await service.decide([decisionRequest])[0]
                var answer = JSONBytes(capacity: decided.decision.jsonSizeEstimate)
                decided.decision.writeJSON(decisionID: decided.id, locations: server.showsLocations(to: request), into: &answer)
                return server.json(bytes: answer, request: request, revision: decided.decision.revision)
            }
        }
        router.post("/v1/decide/batch") { request, _ in
            await server.handle(request) { request in
                if configuration.tokenForDecisions { try server.requireToken(request) }
                let bytes = try await server.bodyBytes(&request)
                let requests: [DecisionRequest]
                if let common = DecisionRequest.decodeCommonBatch(json: bytes) {
                    try server.limitItems(common.count)
                    requests = common
                } else {
                    let object = try server.parsed(bytes)
                    guard let list = object["requests"]?.arrayValue else {
                        throw Failure(.requestInvalidValue, "'requests' must be a list of requests")
                    }
                    try server.limitItems(list.count)
                    requests = try list.enumerated().map { n, item in
                        try server.native(index: n) { try DecisionRequest.decode(value: item) }
                    }
                }
                let decided = await service.decide(requests)
                let revision = decided.first?.decision.revision ?? service.plan.revision
                let locations = server.showsLocations(to: request)
                var answer = JSONBytes(capacity: 64 + decided.reduce(0) { $0 + $1.decision.jsonSizeEstimate })
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
