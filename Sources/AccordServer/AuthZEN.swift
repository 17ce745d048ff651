import AccordCore
import Foundation

/// OpenID AuthZEN Authorization API 1.0 on Accord's requests. The mapping:
///
/// - `subject` is the person whose data is used: `id`, and `properties.age`, `properties.jurisdiction`;
/// - `action.name` is Accord's action (`read_online`, `train`, …);
/// - `resource` is a feature (`type: "feature"`) or a category (`type: "category"`), `id` its name,
///   `properties.collected_at` when it was collected;
/// - `context.purpose` (required) is the purpose; `context.actor` (`id`, `type`, `roles`) the service asking,
///   `context.processing_region`, `context.gpc`, `context.environment` as in Accord's requests, and
///   `context.consent` consent carried in the request (else the consent store's).
///
/// `decision` is true only when the resource is permitted; `context` carries the reasons, the rules with their
/// locations, the obligations, the decision id and the policy revision.
enum AuthZEN {
    struct Problem: Error {
        var message: String
    }

    /// An evaluation's fields: the item's own, else the request's defaults.
    static func request(_ item: JSONValue, defaults: JSONValue = .object([])) throws -> DecisionRequest {
        func part(_ key: String) -> JSONValue? {
            guard let value = item[key] ?? defaults[key], !value.isNull else { return nil }
            return value
        }
        guard let subject = part("subject"), let subjectID = subject["id"]?.stringValue else {
            throw Problem(message: "subject.id is required")
        }
        guard let action = part("action"), let actionName = action["name"]?.stringValue else {
            throw Problem(message: "action.name is required")
        }
        guard let resource = part("resource"), let resourceID = resource["id"]?.stringValue else {
            throw Problem(message: "resource.id is required")
        }
        let context = part("context") ?? .object([])
        guard let purpose = context["purpose"]?.stringValue else {
            throw Problem(message: "context.purpose is required: the purpose the data is used for")
        }
        // Mapped onto Accord's request, which is then read as strictly as any other.
        var person: [(String, JSONValue)] = [("id", .string(subjectID))]
        for key in ["age", "jurisdiction"] { if let value = subject["properties"]?[key] { person.append((key, value)) } }
        var reference: [(String, JSONValue)] = [(resource["type"]?.stringValue == "category" ? "category" : "feature", .string(resourceID))]
        if let collected = resource["properties"]?["collected_at"] { reference.append(("collected_at", collected)) }
        var requestContext: [(String, JSONValue)] = []
        for key in ["processing_region", "gpc", "environment"] { if let value = context[key] { requestContext.append((key, value)) } }
        var object: [(String, JSONValue)] = [
            ("actor", context["actor"] ?? .object([("id", .string("authzen"))])), ("subject", .object(person)),
            ("purpose", .string(purpose)), ("action", .string(actionName)), ("resources", .array([.object(reference)])),
            ("context", .object(requestContext)),
        ]
        if let consent = context["consent"] { object.append(("consent", consent)) }
        do {
            return try DecisionRequest.decode(value: .object(object))
        } catch {
            throw Problem(message: "\(error)")
        }
    }

    static func response(_ decision: Decision, id: String) -> JSONValue {
        let resource = decision.resources.first
        return .object([
            ("decision", .bool(resource?.effect == .permit)),
            (
                "context",
                .object([
                    ("decision_id", .string(id)), ("revision", .string(decision.revision)),
                    (
                        "reason_admin",
                        .object([
                            ("en", .string((resource?.reasons ?? decision.reasons).map { $0.code.explanation }.joined(separator: "; ")))
                        ])
                    ),
                    (
                        "reasons",
                        .array(
                            (resource?.reasons ?? decision.reasons).map { reason in
                                var fields: [(String, JSONValue)] = [("code", .string(reason.code.rawValue))]
                                if let rule = reason.rule {
                                    fields.append(("rule", .string(rule.id))); fields.append(("location", .string(rule.location)))
                                }
                                if let detail = reason.detail { fields.append(("detail", .string(detail))) }
                                return .object(fields)
                            })
                    ),
                    ("obligations", resource.map { $0.obligations.json } ?? .object([])),
                ])
            ),
        ])
    }

    enum Semantic: String {
        case executeAll = "execute_all", denyOnFirstDeny = "deny_on_first_deny", permitOnFirstPermit = "permit_on_first_permit"
    }
}
