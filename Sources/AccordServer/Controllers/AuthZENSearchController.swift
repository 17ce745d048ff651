import AccordCore
import Foundation
import Hummingbird

/// AuthZEN 1.0 search: which subjects may do an action on a resource, which resources a subject may act on, which
/// actions a subject may take on a resource. Candidates are the declared entities of the type asked for (entity
/// data) and the declared and built-in actions; each is decided as an evaluation would be — and recorded — and the
/// permitted ones are returned, a page at a time.
struct AuthZENSearchController {
    let server: AccordHTTPServer

    static let defaultLimit = 100
    static let maxLimit = 1_000

    enum Kind: String {
        case subject, resource, action
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.post("/access/v1/search/subject") { request, _ in
            await server.handle(request) { request in try await search(.subject, &request) }
        }
        router.post("/access/v1/search/resource") { request, _ in
            await server.handle(request) { request in try await search(.resource, &request) }
        }
        router.post("/access/v1/search/action") { request, _ in
            await server.handle(request) { request in try await search(.action, &request) }
        }
    }

    private func search(_ kind: Kind, _ request: inout Request) async throws -> Response {
        if server.configuration.tokenForDecisions { try server.requireToken(request) }
        let object = try await server.body(&request)
        let plan = server.service.plan
        let (start, limit) = try page(object["page"], revision: plan.revision)
        let candidates = try self.candidates(kind, object, plan: plan)
        var results: [JSONValue] = []
        var next = start
        // A page's worth of candidates at a time, decided (and recorded) together, until the page is full.
        while next < candidates.count && results.count < limit {
            let chunk = candidates[next..<min(candidates.count, next + max(limit - results.count, 1))]
            let requests = try chunk.map { candidate in
                try server.authzen {
                    try AuthZEN.request(
                        item(kind, object, candidate), defaultPurpose: server.configuration.defaultPurpose, plan: plan)
                }
            }
            for (candidate, decided) in zip(chunk, await server.service.decide(requests))
            where decided.decision.resources.first?.effect == .permit {
                results.append(candidate)
            }
            next = chunk.endIndex
        }
        let token = next < candidates.count ? Self.token(revision: plan.revision, index: next) : ""
        return server.json(
            .object([("results", .array(results)), ("page", .object([("next_token", .string(token)), ("count", .int(results.count))]))]),
            request: request)
    }

    /// The candidates, in a stable order: `{type, id}` of every entity of the type asked for, or `{name}` of every action.
    private func candidates(_ kind: Kind, _ object: JSONValue, plan: DecisionPlan) throws -> [JSONValue] {
        if kind == .action {
            return plan.policySet.allActions.map { .object([("name", .string($0.rawValue))]) }
        }
        guard let wanted = object[kind.rawValue], wanted.objectValue != nil else {
            throw Failure(.requestInvalid, "\(kind.rawValue) must be an object")
        }
        guard let type = wanted["type"]?.stringValue else { throw Failure(.requestInvalid, "\(kind.rawValue).type is required (a string)") }
        return plan.policySet.entities.values.filter { $0.type == type }.map(\.id).sorted().map {
            .object([("type", .string(type)), ("id", .string($0))])
        }
    }

    /// The evaluation of one candidate: the request with the searched-for part filled in.
    private func item(_ kind: Kind, _ object: JSONValue, _ candidate: JSONValue) -> JSONValue {
        var pairs: [(String, JSONValue)] = []
        for key in ["subject", "action", "resource", "context"] {
            if key == kind.rawValue {
                // The caller's properties for the searched-for part (if any) go with each candidate.
                var filled = candidate.objectValue ?? []
                if let properties = object[key]?["properties"] { filled.append(("properties", properties)) }
                pairs.append((key, .object(filled)))
            } else if let value = object[key] {
                pairs.append((key, value))
            }
        }
        return .object(pairs)
    }

    /// Where to start and how many to return. A token is the policy revision and the next candidate's position: one
    /// from another revision (the policies or entity data changed since) is refused rather than silently skipping.
    private func page(_ value: JSONValue?, revision: String) throws -> (start: Int, limit: Int) {
        guard let value, !value.isNull else { return (0, Self.defaultLimit) }
        guard value.objectValue != nil else { throw Failure(.requestInvalid, "page must be an object") }
        var limit = Self.defaultLimit
        if let given = value["limit"], !given.isNull {
            guard let number = given.intValue, (1...Self.maxLimit).contains(number) else {
                throw Failure(.requestInvalidValue, "page.limit must be a whole number from 1 to \(Self.maxLimit)")
            }
            limit = number
        }
        guard let token = value["token"], !token.isNull else { return (0, limit) }
        guard let text = token.stringValue else { throw Failure(.requestInvalid, "page.token must be a string") }
        if text.isEmpty { return (0, limit) }
        guard let data = Data(base64Encoded: text), let decoded = String(data: data, encoding: .utf8),
            let dot = decoded.lastIndex(of: "."), let index = Int(decoded[decoded.index(after: dot)...]), index >= 0
        else { throw Failure(.requestInvalidValue, "page.token is not a token this server gave") }
        guard decoded[..<dot] == revision else {
            throw Failure(.requestInvalidValue, "page.token is from another policy revision; start the search again")
        }
        return (index, limit)
    }

    static func token(revision: String, index: Int) -> String { Data("\(revision).\(index)".utf8).base64EncodedString() }
}
