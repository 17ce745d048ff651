import AccordCore
import Foundation

extension AuditRecord {
    /// What a record is: a decision about a use of personal data, or the record a retention purge writes before
    /// it deletes or anonymises expired values (`accord retention purge`). A purge is not a refused use: exports,
    /// statistics and assessments count it apart.
    public enum Kind: String, Sendable {
        case decision
        case retentionPurge = "retention_purge"
    }

    /// The purpose under which retention purges are recorded, and the prefix of their decision ids.
    public static let retentionPurpose = "accord.retention"
    public static let retentionIDPrefix = "retention-"

    public var kind: Kind {
        purpose == Self.retentionPurpose && decisionID.hasPrefix(Self.retentionIDPrefix) ? .retentionPurge : .decision
    }

    /// The per-resource outcomes, parsed from the stored JSON (empty if it does not parse).
    public var resourceOutcomes: [ResourceOutcome] {
        guard let data = resources.data(using: .utf8),
            let array = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]]
        else { return [] }
        return array.map { item in
            ResourceOutcome(
                resource: item["resource"] as? String ?? "", category: item["category"] as? String,
                effect: item["effect"] as? String ?? "", reasons: item["reasons"] as? [String] ?? [],
                rules: item["rules"] as? [String] ?? [],
                obligations: (item["obligations"] as? [String: Any]).map(JSONValue.init(foundation:)),
                consentEvents: (item["consent_events"] as? [Int] ?? []).map(Int64.init),
                epsilonSpent: (item["epsilon_spent"] as? NSNumber)?.doubleValue)
        }
    }

    /// Distinct reason codes over all resources, in first-seen order.
    public var reasonCodes: [String] { distinct(resourceOutcomes.flatMap(\.reasons)) }
    public var ruleIDs: [String] { distinct(resourceOutcomes.flatMap(\.rules)) }

    public var json: JSONValue {
        .object([
            ("sequence", .int(Int(sequence))), ("kind", .string(kind.rawValue)), ("decision_id", .string(decisionID)),
            ("recorded_at", .string(Timestamps.format(recordedAt))), ("revision", .string(revision)), ("actor", .string(actor)),
            ("purpose", .string(purpose)), ("action", .string(action)), ("jurisdiction", jurisdiction.map(JSONValue.string) ?? .null),
            ("effect", .string(effect)), ("processing_region", processingRegion.map(JSONValue.string) ?? .null),
            ("resources", .array(resourceOutcomes.map(\.json))), ("hash", .string(hash.hexString)),
        ])
    }
}

/// One resource's outcome as recorded.
public struct ResourceOutcome: Sendable, Equatable {
    public var resource: String
    public var category: String?
    public var effect: String
    public var reasons: [String]
    public var rules: [String]
    public var obligations: JSONValue?
    /// The consent-store events the resource's consent basis rested on.
    public var consentEvents: [Int64]
    /// Epsilon spent from a privacy budget by this decision.
    public var epsilonSpent: Double?

    public var json: JSONValue {
        var pairs: [(String, JSONValue)] = [("resource", .string(resource))]
        if let category { pairs.append(("category", .string(category))) }
        pairs += [
            ("effect", .string(effect)), ("reasons", .array(reasons.map(JSONValue.string))), ("rules", .array(rules.map(JSONValue.string))),
        ]
        if let obligations { pairs.append(("obligations", obligations)) }
        if !consentEvents.isEmpty { pairs.append(("consent_events", .array(consentEvents.map { .int(Int($0)) }))) }
        if let epsilonSpent { pairs.append(("epsilon_spent", .double(epsilonSpent))) }
        return .object(pairs)
    }
}

private func distinct(_ items: [String]) -> [String] {
    var seen: Set<String> = []
    return items.filter { seen.insert($0).inserted }
}

extension JSONValue {
    /// From what `JSONSerialization` returns; object keys sorted so the result is deterministic.
    public init(foundation value: Any) {
        switch value {
        case let dictionary as [String: Any]:
            self = .object(dictionary.keys.sorted().map { ($0, JSONValue(foundation: dictionary[$0]!)) })
        case let array as [Any]: self = .array(array.map(JSONValue.init(foundation:)))
        case let string as String: self = .string(string)
        case let number as NSNumber:
            switch String(cString: number.objCType) {
            case "c", "B": self = .bool(number.boolValue)
            case "d", "f": self = .double(number.doubleValue)
            default: self = .int(number.intValue)
            }
        default: self = .null
        }
    }
}
