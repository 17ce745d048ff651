import AccordCore
import AccordReports
import AccordRuntime
import AccordStore
import Foundation
import Hummingbird
import NIOCore

/// The gate over HTTP: guarded online reads and training sets from the embedded feature store (token required).
struct GateController {
    let server: AccordHTTPServer

    func addRoutes(to router: Router<BasicRequestContext>) {
        let service = server.service
        router.post("/v1/features/online") { request, _ in
            await server.handle(request) { request in
                try server.requireToken(request)
                let object = try await server.body(&request)
                let read = try server.gateRequest(object, as: .online)
                try server.limitItems(read.subjects.count)
                let served = try await server.gated {
                    try service.gate.onlineFeatures(
                        subjects: read.subjects, features: read.features, purpose: read.purpose, actor: read.actor,
                        context: read.context)
                }
                return server.json(
                    .object([
                        (
                            "results",
                            .array(
                                served.map { subject in
                                    .object([
                                        ("subject", .string(subject.subject)), ("decision_id", .string(subject.decisionID)),
                                        ("effect", .string(subject.effect.rawValue)),
                                        (
                                            "values",
                                            .array(
                                                subject.values.map { value in
                                                    .object([
                                                        ("feature", .string(value.feature)), ("status", .string(value.status.rawValue)),
                                                        ("value", value.value?.json ?? .null),
                                                        ("event_time", value.eventTime.map { .string(Timestamps.format($0)) } ?? .null),
                                                        ("reasons", .array(value.reasons.map { .string($0.code.rawValue) })),
                                                    ])
                                                })
                                        ),
                                    ])
                                })
                        )
                    ]), request: request)
            }
        }
        router.post("/v1/training-sets") { request, _ in
            await server.handle(request) { request in
                try server.requireToken(request)
                let object = try await server.body(&request)
                let asked = try server.gateRequest(object, as: .trainingSet)
                let set = try await server.gated {
                    try service.gate.trainingSet(
                        features: asked.features, purpose: asked.purpose, actor: asked.actor, population: asked.subjects,
                        from: asked.from!, to: asked.to!, context: asked.context, lineage: service.stores.lineage)
                }
                return server.json(
                    .object([
                        ("manifest", set.manifest.json),
                        (
                            "rows",
                            .array(
                                set.rows.map { row in
                                    .object([
                                        ("entity", .string(row.entity)), ("feature", .string(row.feature)),
                                        ("event_time", .string(Timestamps.format(row.eventTime))),
                                        ("value", row.value.json),
                                    ])
                                })
                        ),
                    ]), request: request)
            }
        }
    }
}

extension AccordHTTPServer {
    /// A gate request read strictly (as decision requests are): 400 `request.invalid` naming the field otherwise.
    func gateRequest(_ object: JSONValue, as kind: GateRequest.Kind) throws -> GateRequest {
        do { return try GateRequest.decode(value: object, as: kind) } catch {
            throw Failure(.requestInvalid, "\(error)")
        }
    }
}
