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
        let service = server.service
        router.get("/v1/consent/:subject") { request, context in
            await server.handle(request) { request in
                try server.requireToken(request)
                let subject = try server.pathParameter("subject", context)
                let state = try await server.blocking { try service.stores.consent.consent(subject: subject, asOf: Date()) }.state
                return server.json(
                    .object([
                        ("subject", .string(subject)),
                        (
                            "grants",
                            .array(
                                state.grants.map { grant in
                                    .object([
                                        ("scope", .string(grant.scope)), ("version", .int(grant.version)),
                                        ("granted_at", .string(Timestamps.format(grant.grantedAt))),
                                        ("by_guardian", .bool(grant.byGuardian)),
                                    ])
                                })
                        ), ("objections", .array(state.objections.map(JSONValue.string))),
                        ("opt_outs", .array(state.optOuts.map(JSONValue.string))),
                    ]), request: request)
            }
        }
        router.get("/v1/consent/:subject/history") { request, context in
            await server.handle(request) { request in
                try server.requireToken(request)
                let subject = try server.pathParameter("subject", context)
                let history = try await server.blocking { try service.stores.consent.history(subject: subject) }
                return server.json(
                    .object([
                        ("subject", .string(subject)),
                        (
                            "events",
                            .array(
                                history.map { record in
                                    .object([
                                        ("id", .int(Int(record.id))), ("kind", .string(record.event.kind.rawValue)),
                                        ("target", .string(record.event.target)),
                                        ("occurred_at", .string(Timestamps.format(record.event.occurredAt))),
                                        ("source", .string(record.event.source.rawValue)),
                                    ])
                                })
                        ),
                    ]), request: request)
            }
        }
        for kind in [ConsentEvent.Kind.grant, .withdraw, .object, .optOut] {
            let path = kind == .optOut ? "opt-out" : kind.rawValue
            router.post("/v1/consent/:subject/\(path)") { request, context in
                await server.handle(request) { request in
                    try server.requireToken(request)
                    let subject = try server.pathParameter("subject", context)
                    let object = try await server.body(&request)
                    guard let target = (object["scope"] ?? object["purpose"] ?? object["target"])?.stringValue else {
                        throw Failure(.requestMissingField, "'scope' (or 'purpose' for objections and opt-outs) is required")
                    }
                    let event = ConsentEvent(
                        kind: kind, target: target, version: object["version"]?.intValue,
                        byGuardian: object["by_guardian"]?.boolValue ?? false,
                        source: .api, occurredAt: Date())
                    let gpc = request.headers[AccordHTTPServer.gpcHeader] == "1"
                    let records = try await server.blocking {
                        var records = try service.stores.consent.record([event], subject: subject)
                        // A browser's Global Privacy Control signal, sent along, is recorded too.
                        if gpc { records.append(try service.stores.consent.recordGPC(subject: subject)) }
                        return records
                    }
                    return server.json(
                        .object([
                            (
                                "recorded",
                                .array(
                                    records.map {
                                        .object([
                                            ("id", .int(Int($0.id))), ("kind", .string($0.event.kind.rawValue)),
                                            ("target", .string($0.event.target)),
                                        ])
                                    })
                            )
                        ]), status: .created, request: request)
                }
            }
        }
    }
}
