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
    static func request(_ item: [String: Any], defaults: [String: Any] = [:]) throws -> DecisionRequest {
        func part(_ key: String) -> [String: Any]? { (item[key] ?? defaults[key]) as? [String: Any] }
        guard let subject = part("subject"), let subjectID = subject["id"] as? String else { throw Problem(message: "subject.id is required") }
        guard let action = part("action"), let actionName = action["name"] as? String else { throw Problem(message: "action.name is required") }
        guard let resource = part("resource"), let resourceID = resource["id"] as? String else { throw Problem(message: "resource.id is required") }
        let context = part("context") ?? [:]
        guard let purpose = context["purpose"] as? String else { throw Problem(message: "context.purpose is required: the purpose the data is used for") }
        let properties = subject["properties"] as? [String: Any] ?? [:]
        var object: [String: Any] = [
            "actor": context["actor"] ?? ["id": "authzen"],
            "subject": ["id": subjectID, "age": properties["age"], "jurisdiction": properties["jurisdiction"]].compactMapValues { $0 },
            "purpose": purpose, "action": actionName,
        ]
        var reference: [String: Any] = [(resource["type"] as? String) == "category" ? "category" : "feature": resourceID]
        if let collected = (resource["properties"] as? [String: Any])?["collected_at"] { reference["collected_at"] = collected }
        object["resources"] = [reference]
        var requestContext: [String: Any] = [:]
        for key in ["processing_region", "gpc", "environment"] { if let value = context[key] { requestContext[key] = value } }
        object["context"] = requestContext
        if let consent = context["consent"] { object["consent"] = consent }
        do {
            return try DecisionRequest.decode(object: object)
        } catch {
            throw Problem(message: "\(error)")
        }
    }

    static func response(_ decision: Decision, id: String) -> JSONValue {
        let resource = decision.resources.first
        return .object([
            ("decision", .bool(resource?.effect == .permit)),
            ("context", .object([
                ("decision_id", .string(id)), ("revision", .string(decision.revision)),
                ("reason_admin", .object([("en", .string((resource?.reasons ?? decision.reasons).map { $0.code.explanation }.joined(separator: "; ")))])),
                ("reasons", .array((resource?.reasons ?? decision.reasons).map { reason in
                    var fields: [(String, JSONValue)] = [("code", .string(reason.code.rawValue))]
                    if let rule = reason.rule { fields.append(("rule", .string(rule.id))); fields.append(("location", .string(rule.source.description))) }
                    if let detail = reason.detail { fields.append(("detail", .string(detail))) }
                    return .object(fields)
                })),
                ("obligations", resource.map { $0.obligations.json } ?? .object([])),
            ])),
        ])
    }

    enum Semantic: String {
        case executeAll = "execute_all", denyOnFirstDeny = "deny_on_first_deny", permitOnFirstPermit = "permit_on_first_permit"
    }
}
