import AccordCore
import AccordReports
import AccordRuntime
import AccordStore
import Foundation
import Hummingbird
import NIOCore

/// Operations: reloading the policies.
struct AdminController {
    let server: AccordHTTPServer

    func addRoutes(to router: Router<BasicRequestContext>) {
        let service = server.service
        router.post("/admin/reload") { request, _ in
            await server.handle(request) { request in
                try server.requireToken(request)
                switch try await server.blocking({ service.reload() }) {
                case .success(let revision):
                    return server.json(.object([("reloaded", .bool(true)), ("revision", .string(revision))]), request: request)
                case .failure(let problem):
                    return server.failure(
                        Failure(.policiesInvalid, "the new policies are invalid; still serving the running set: \(problem)"),
                        request: request)
                }
            }
        }
    }
}
