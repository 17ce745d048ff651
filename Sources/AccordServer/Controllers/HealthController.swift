import AccordCore
import AccordReports
import AccordRuntime
import AccordStore
import Foundation
import Hummingbird
import NIOCore

/// Liveness (`/healthz`), readiness (`/readyz`: 503 while decisions cannot be recorded) and Prometheus metrics.
struct HealthController {
    let server: AccordHTTPServer

    func addRoutes(to router: Router<BasicRequestContext>) {
        let service = server.service
        router.get("/healthz") { request, _ in
            await server.handle(request) { request in server.json(.object([("status", .string("ok"))]), request: request) }
        }
        router.get("/readyz") { request, _ in
            await server.handle(request) { request in
                // Not ready while decisions cannot be recorded (each would be a deny) or the file is found damaged.
                if let cause = service.stores.trail.refusal ?? server.monitor.trailDown {
                    throw Failure(.auditUnavailable, "decisions cannot be recorded: \(cause)")
                }
                _ = try await server.blocking { try service.stores.trail.latestSequence() }
                return server.json(.object([("status", .string("ready")), ("revision", .string(service.plan.revision))]), request: request)
            }
        }
        router.get("/metrics") { request, _ in
            var bytes: [UInt8] = []
            server.registry.emit(into: &bytes)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}
