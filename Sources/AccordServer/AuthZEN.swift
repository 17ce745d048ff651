import AccordCore
import Foundation

/// OpenID AuthZEN Authorization API 1.0 on Accord's requests. The mapping:
///
/// - `subject` is the person whose data is used, and — unless `context.actor` names a service apart — who asks: `type`
///   and `id` (entity data is found by both), `properties.age`, `properties.jurisdiction`, and declared attributes in
///   `properties`;
/// - `action.name` is Accord's action (`read_online`, `train`, … or one the policies declare);
/// - `resource` is a feature (`type: "feature"`), a category (`type: "category"`), or an entity of a declared type
///   (`todo`, `route`), `id` its name, `properties.collected_at` when it was collected, declared attributes in `properties`;
/// - `context.purpose` is the purpose (else the action's or the resource type's `default_purpose`, else the server's
///   default; with none, `request.no_purpose`); `context.actor` (`id`, `type`, `roles`) the service asking,
///   `context.processing_region`, `context.gpc`, `context.environment` as in Accord's requests, and
///   `context.consent` consent carried in the request (else the consent store's).
///
/// `decision` is true only when the resource is permitted; `context` carries the reasons, the rules with their
/// locations, the obligations, the decision id and the policy revision.
enum AuthZEN {
    struct Problem: Error {
        var message: String
    }

    /// An evaluation's fields: the item's own, else the request's defaults. AuthZEN 1.0's shapes are checked
    /// first: `subject` and `resource` are objects with string `type` and `id`, `action` an object with a string
    /// `name`, and `properties` and `context`, where given, objects. Fields Accord does not read are ignored.
    /// `context.purpose` names the purpose; without it, `defaultPurpose` (`accord serve --default-purpose`); without
    /// either, the request is decided with no purpose, and denied with `request.no_purpose`.
    static func request(
        _ item: JSONValue, defaults: JSONValue = .object([]), defaultPurpose: String? = nil, plan: DecisionPlan? = nil
    ) throws -> DecisionRequest {
        func part(_ key: String) -> JSONValue? {
            guard let value = item[key] ?? defaults[key], !value.isNull else { return nil }
            return value
        }
        let (subjectType, subjectID, subject) = try entity(part("subject"), "subject")
        let (resourceType, resourceID, resource) = try entity(part("resource"), "resource")
        guard let action = part("action"), action.objectValue != nil else { throw Problem(message: "action must be an object") }
        guard let actionName = action["name"]?.stringValue else { throw Problem(message: "action.name is required (a string)") }
        if let properties = action["properties"], !properties.isNull, properties.objectValue == nil {
            throw Problem(message: "action.properties must be an object")
        }
        let context = part("context") ?? .object([])
        guard context.objectValue != nil else { throw Problem(message: "context must be an object") }
        let isEntity = resourceType != "feature" && resourceType != "category"
        let purpose: String
        switch context["purpose"] {
        case nil, .null?:
            purpose =
                plan?.defaultPurpose(action: actionName, resourceType: isEntity ? resourceType : nil) ?? defaultPurpose ?? ""
        case .string(let named)?: purpose = named
        default: throw Problem(message: "context.purpose must be a string")
        }
        // Mapped onto Accord's request, which is then read as strictly as any other.
        // Properties matter only to conditions that read declared attributes; without such rules they are not carried.
        let properties = plan?.rulesReadProperties ?? true
        var person: [(String, JSONValue)] = [("id", .string(subjectID)), ("type", .string(subjectType))]
        for key in ["age", "jurisdiction"] { if let value = subject[key] { person.append((key, value)) } }
        if properties { person.append(("properties", subject)) }
        var reference: [(String, JSONValue)]
        if isEntity {
            reference = [("type", .string(resourceType)), ("id", .string(resourceID))]
            if properties { reference.append(("properties", resource)) }
        } else {
            reference = [(resourceType, .string(resourceID))]
        }
        if let collected = resource["collected_at"] { reference.append(("collected_at", collected)) }
        var requestContext: [(String, JSONValue)] = []
        for key in ["processing_region", "gpc", "environment"] { if let value = context[key] { requestContext.append((key, value)) } }
        // Who asks: `context.actor` when the caller names a service apart from the subject, else the subject itself
        // (AuthZEN's subject is the principal), with its type and properties.
        let actor =
            context["actor"]
            ?? .object([("id", .string(subjectID)), ("type", .string(subjectType))] + (properties ? [("properties", subject)] : []))
        var object: [(String, JSONValue)] = [
            ("actor", actor), ("subject", .object(person)),
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

    /// A subject or resource: its `type`, `id` and `properties` (an empty object when absent).
    private static func entity(_ value: JSONValue?, _ name: String) throws -> (type: String, id: String, properties: JSONValue) {
        guard let value else { throw Problem(message: "\(name) is required") }
        guard value.objectValue != nil else { throw Problem(message: "\(name) must be an object") }
        guard let type = value["type"]?.stringValue else { throw Problem(message: "\(name).type is required (a string)") }
        guard let id = value["id"]?.stringValue else { throw Problem(message: "\(name).id is required (a string)") }
        let properties = value["properties"] ?? .null
        if !properties.isNull, properties.objectValue == nil { throw Problem(message: "\(name).properties must be an object") }
        return (type, id, properties.isNull ? .object([]) : properties)
    }

    /// The answer for an evaluation that could not be read (under `execute_all`, in place of its decision): a
    /// deny that is not recorded, there being no request to record, with the error in its context.
    static func refusal(_ message: String) -> JSONValue {
        .object([
            ("decision", .bool(false)),
            (
                "context",
                .object([
                    (
                        "error",
                        .object([
                            ("status", .int(400)), ("code", .string(ServerErrorCode.requestInvalid.rawValue)),
                            ("message", .string(message)),
                        ])
                    )
                ])
            ),
        ])
    }

    /// `locations: false` leaves out where each rule is written (for callers without the token).
    static func response(_ decision: Decision, id: String, locations: Bool = true) -> JSONValue {
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
                                    fields.append(("rule", .string(rule.id)))
                                    if locations { fields.append(("location", .string(rule.location))) }
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
