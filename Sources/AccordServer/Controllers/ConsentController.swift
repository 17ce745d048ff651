import AccordCore
import AccordReports
import AccordRuntime
import AccordStore
import Foundation
import Hummingbird
import NIOCore

/// A person's consent: state, history, and the events that change it (token required).
struct ConsentController {
    let server: AccordHTTPServer

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/consent/:subject") { request, context in
            await server.handle(request) { request in try await state(request, context) }
        }
        router.get("/v1/consent/:subject/history") { request, context in
            await server.handle(request) { request in try await history(request, context) }
        }
        for kind in [ConsentEvent.Kind.grant, .withdraw, .object, .optOut] {
            let path = kind == .optOut ? "opt-out" : kind.rawValue
            router.post("/v1/consent/:subject/\(path)") { request, context in
                await server.handle(request) { request in try await record(kind, &request, context) }
            }
        }
    }

    /// `GET /v1/consent/:subject`: the consent in force now.
    private func state(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try server.requireToken(request)
        let subject = try server.pathParameter("subject", context)
        let state = try await server.blocking { try server.service.stores.consent.consent(subject: subject, asOf: Date()) }.state
        let grants = state.grants.map { grant in
            JSONValue.object([
                ("scope", .string(grant.scope)), ("version", .int(grant.version)),
                ("granted_at", .string(Timestamps.format(grant.grantedAt))), ("by_guardian", .bool(grant.byGuardian)),
            ])
        }
        return server.json(
            .object([
                ("subject", .string(subject)), ("grants", .array(grants)),
                ("objections", .array(state.objections.map(JSONValue.string))),
                ("opt_outs", .array(state.optOuts.map(JSONValue.string))),
            ]), request: request)
    }

    /// `GET /v1/consent/:subject/history`: every event recorded for the subject, oldest first.
    private func history(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try server.requireToken(request)
        let subject = try server.pathParameter("subject", context)
        let history = try await server.blocking { try server.service.stores.consent.history(subject: subject) }
        let events = history.map { record in
            JSONValue.object([
                ("id", .int(Int(record.id))), ("kind", .string(record.event.kind.rawValue)),
                ("target", .string(record.event.target)), ("occurred_at", .string(Timestamps.format(record.event.occurredAt))),
                ("source", .string(record.event.source.rawValue)),
            ])
        }
        return server.json(.object([("subject", .string(subject)), ("events", .array(events))]), request: request)
    }

    /// `POST /v1/consent/:subject/{grant,withdraw,object,opt-out}`: records one event (and a GPC opt-out when the
    /// request carries `Sec-GPC: 1`).
    private func record(_ kind: ConsentEvent.Kind, _ request: inout Request, _ context: BasicRequestContext) async throws -> Response {
        try server.requireToken(request)
        let subject = try server.pathParameter("subject", context)
        let object = try await server.body(&request)
        guard let target = (object["scope"] ?? object["purpose"] ?? object["target"])?.stringValue else {
            throw Failure(.requestMissingField, "'scope' (or 'purpose' for objections and opt-outs) is required")
        }
        let event = ConsentEvent(
            kind: kind, target: target, version: object["version"]?.intValue,
            byGuardian: object["by_guardian"]?.boolValue ?? false, source: .api, occurredAt: Date())
        let gpc = request.headers[AccordHTTPServer.gpcHeader] == "1"
        let consent = server.service.stores.consent
        let records = try await server.blocking {
            var records = try consent.record([event], subject: subject)
            // A browser's Global Privacy Control signal, sent along, is recorded too.
            if gpc { records.append(try consent.recordGPC(subject: subject)) }
            return records
        }
        let recorded = records.map {
            JSONValue.object([
                ("id", .int(Int($0.id))), ("kind", .string($0.event.kind.rawValue)), ("target", .string($0.event.target)),
            ])
        }
        return server.json(.object([("recorded", .array(recorded))]), status: .created, request: request)
    }
}
