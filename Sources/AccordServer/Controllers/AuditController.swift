import AccordCore
import AccordReports
import AccordRuntime
import AccordStore
import Foundation
import Hummingbird
import NIOCore

/// The audit trail: stats, verification, records by query, and the PIA built from it.
struct AuditController {
    let server: AccordHTTPServer

    func addRoutes(to router: Router<BasicRequestContext>) {
        let service = server.service
        router.get("/v1/audit/stats") { request, _ in
            await server.handle(request) { request in
                let stats = try await server.blocking { try service.stores.trail.stats() }
                return server.json(
                    .object([
                        ("records", .int(stats.records)), ("decisions", .int(stats.decisions)),
                        ("retention_purges", .int(stats.retentionPurges)),
                        (
                            "by_purpose",
                            .array(
                                stats.byPurpose.map {
                                    .object([
                                        ("purpose", .string($0.purpose)), ("permit", .int($0.permit)), ("partial", .int($0.partial)),
                                        ("deny", .int($0.deny)),
                                    ])
                                })
                        ),
                        (
                            "top_reasons",
                            .array(stats.topReasons.map { .object([("code", .string($0.code)), ("records", .int($0.records))]) })
                        ),
                        ("checkpoints", .int(stats.checkpoints)),
                    ]), request: request)
            }
        }
        router.get("/v1/audit/verify") { request, _ in
            await server.handle(request) { request in
                try server.requireToken(request)
                let verification = try await server.blocking { try service.stores.trail.verify() }
                return server.json(
                    .object([
                        ("intact", .bool(verification.isIntact)), ("records", .int(verification.records)),
                        ("checkpoints", .int(verification.checkpoints)),
                        ("problems", .array(verification.problems.map { .string($0.description) })),
                    ]),
                    request: request)
            }
        }
        router.get("/v1/audit/records") { request, _ in
            await server.handle(request) { request in
                try server.requireToken(request)
                let parameters = try server.queryParameters(request)
                func value(_ key: String) -> String? { parameters[key] }
                let query = AuditQuery(
                    subject: value("subject"), purpose: value("purpose"), action: value("action"), effect: value("effect"),
                    rule: value("rule"), reason: value("reason"), actor: value("actor"), decisionID: value("decision"),
                    limit: try value("limit").map { text in
                        guard let limit = Int(text), limit > 0 else {
                            throw Failure(.requestInvalidQuery, "'limit' must be a positive whole number")
                        }
                        return limit
                    } ?? 100)
                let records = try await server.blocking { try service.stores.trail.query(query) }
                return server.json(
                    .object([
                        (
                            "records",
                            .array(
                                records.map { record in
                                    .object([
                                        ("sequence", .int(Int(record.sequence))), ("decision_id", .string(record.decisionID)),
                                        ("recorded_at", .string(Timestamps.format(record.recordedAt))), ("actor", .string(record.actor)),
                                        ("purpose", .string(record.purpose)),
                                        ("action", .string(record.action)), ("effect", .string(record.effect)),
                                        ("revision", .string(record.revision)),
                                    ])
                                })
                        )
                    ]), request: request)
            }
        }
        router.get("/v1/pia") { request, _ in
            await server.handle(request) { request in
                try server.requireToken(request)
                let plan = service.plan
                let report = try await server.blocking {
                    try PrivacyImpactAssessment(
                        policies: plan.policySet, sources: PIASources(trail: service.stores.trail, consent: service.stores.consent),
                        asOf: Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)))
                }
                return server.json(report.json, request: request)
            }
        }
    }
}
