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
        router.get("/v1/audit/stats") { request, _ in await server.handle(request) { request in try await stats(request) } }
        router.get("/v1/audit/verify") { request, _ in await server.handle(request) { request in try await verify(request) } }
        router.get("/v1/audit/records") { request, _ in await server.handle(request) { request in try await records(request) } }
        router.get("/v1/pia") { request, _ in await server.handle(request) { request in try await assessment(request) } }
    }

    private var trail: any AuditTrail { server.service.stores.trail }

    /// `GET /v1/audit/stats`: totals over the whole trail (no token: counts only, nothing about a person).
    private func stats(_ request: Request) async throws -> Response {
        let trail = trail
        let stats = try await server.blocking { try trail.stats() }
        let byPurpose = stats.byPurpose.map {
            JSONValue.object([
                ("purpose", .string($0.purpose)), ("permit", .int($0.permit)), ("partial", .int($0.partial)), ("deny", .int($0.deny)),
            ])
        }
        let topReasons = stats.topReasons.map { JSONValue.object([("code", .string($0.code)), ("records", .int($0.records))]) }
        return server.json(
            .object([
                ("records", .int(stats.records)), ("decisions", .int(stats.decisions)),
                ("retention_purges", .int(stats.retentionPurges)), ("by_purpose", .array(byPurpose)),
                ("top_reasons", .array(topReasons)), ("checkpoints", .int(stats.checkpoints)),
            ]), request: request)
    }

    /// `GET /v1/audit/verify`: chain, hashes, MACs and checkpoints recomputed.
    private func verify(_ request: Request) async throws -> Response {
        try server.requireToken(request)
        let trail = trail
        let verification = try await server.blocking { try trail.verify() }
        return server.json(
            .object([
                ("intact", .bool(verification.isIntact)), ("records", .int(verification.records)),
                ("checkpoints", .int(verification.checkpoints)),
                ("problems", .array(verification.problems.map { .string($0.description) })),
            ]), request: request)
    }

    /// `GET /v1/audit/records?subject=…&limit=…`: records matching the query, newest first.
    private func records(_ request: Request) async throws -> Response {
        try server.requireToken(request)
        let parameters = try server.queryParameters(request)
        func value(_ key: String) -> String? { parameters[key] }
        let limit = try value("limit").map { text in
            guard let limit = Int(text), limit > 0 else { throw Failure(.requestInvalidQuery, "'limit' must be a positive whole number") }
            return limit
        }
        let query = AuditQuery(
            subject: value("subject"), purpose: value("purpose"), action: value("action"), effect: value("effect"),
            rule: value("rule"), reason: value("reason"), actor: value("actor"), decisionID: value("decision"), limit: limit ?? 100)
        let trail = trail
        let records = try await server.blocking { try trail.query(query) }.map { record in
            JSONValue.object([
                ("sequence", .int(Int(record.sequence))), ("decision_id", .string(record.decisionID)),
                ("recorded_at", .string(Timestamps.format(record.recordedAt))), ("actor", .string(record.actor)),
                ("purpose", .string(record.purpose)), ("action", .string(record.action)), ("effect", .string(record.effect)),
                ("revision", .string(record.revision)),
            ])
        }
        return server.json(.object([("records", .array(records))]), request: request)
    }

    /// `GET /v1/pia`: the privacy impact assessment of the policies in force and the trail so far.
    private func assessment(_ request: Request) async throws -> Response {
        try server.requireToken(request)
        let plan = server.service.plan
        let sources = PIASources(trail: trail, consent: server.service.stores.consent)
        let report = try await server.blocking {
            try PrivacyImpactAssessment(
                policies: plan.policySet, sources: sources, asOf: Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)))
        }
        return server.json(report.json, request: request)
    }
}
