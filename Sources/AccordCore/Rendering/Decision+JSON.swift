import Foundation

extension Decision {
    /// The decision's JSON form (see `docs/decisions.md`). `decisionID` is added by whoever records it;
    /// `locations: false` leaves out where each cited rule is written (`file:line:col`).
    public func json(decisionID: String? = nil, locations: Bool = true) -> JSONValue {
        var pairs: [(String, JSONValue)] = []
        if let decisionID { pairs.append(("decision_id", .string(decisionID))) }
        if let requestID { pairs.append(("request_id", .string(requestID))) }
        pairs += [
            ("effect", .string(effect.rawValue)),
            ("revision", .string(revision)),
            ("as_of", .string(Timestamps.format(instant))),
            ("purpose", .string(purpose)),
            ("action", .string(action)),
            ("jurisdiction", jurisdiction.map(JSONValue.string) ?? .null),
        ]
        if !reasons.isEmpty { pairs.append(("reasons", .array(reasons.map { $0.json(locations: locations) }))) }
        pairs.append(("resources", .array(resources.map { $0.json(locations: locations) })))
        return .object(pairs)
    }
}

extension ResourceDecision {
    func json(locations: Bool) -> JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("resource", .string(resource)),
            ("category", category.map(JSONValue.string) ?? .null),
            ("effect", .string(effect.rawValue)),
            ("reasons", .array(reasons.map { $0.json(locations: locations) })),
        ]
        if !obligations.isEmpty { pairs.append(("obligations", obligations.json)) }
        if !consentEvents.isEmpty { pairs.append(("consent_events", .array(consentEvents.map { .int(Int($0)) }))) }
        if let epsilonSpent { pairs.append(("epsilon_spent", .double(epsilonSpent))) }
        if let deleteBy { pairs.append(("delete_by", .string(Timestamps.format(deleteBy)))) }
        if let trace {
            pairs.append(
                (
                    "trace",
                    .array(
                        trace.map { .object([("rule", $0.rule.json(locations: locations)), ("outcome", .string($0.outcome.rawValue))]) })
                ))
        }
        return .object(pairs)
    }
}

extension Reason {
    func json(locations: Bool) -> JSONValue {
        var pairs: [(String, JSONValue)] = [("code", .string(code.rawValue))]
        if let detail { pairs.append(("detail", .string(detail))) }
        if let rule { pairs.append(("rule", rule.json(locations: locations))) }
        return .object(pairs)
    }
}

extension Obligations {
    public var json: JSONValue {
        var pairs: [(String, JSONValue)] = []
        if let mask { pairs.append(("mask", .string(mask.rawValue))) }
        if !drop.isEmpty { pairs.append(("drop", .array(drop.map(JSONValue.string)))) }
        if let minCohort { pairs.append(("min_cohort", .int(minCohort))) }
        if let dp = differentialPrivacy {
            var dpPairs: [(String, JSONValue)] = [("epsilon", .double(dp.epsilon))]
            if let delta = dp.delta { dpPairs.append(("delta", .double(delta))) }
            if let budget = dp.budget {
                dpPairs.append(
                    (
                        "budget",
                        .object([
                            ("total", .double(budget.total)), ("period", .string(budget.period.description)),
                            ("per", .string(budget.perSubject ? "subject" : "purpose")),
                        ])
                    ))
            }
            pairs.append(("differential_privacy", .object(dpPairs)))
        }
        if let deleteAfter { pairs.append(("delete_after", .string(deleteAfter.description))) }
        return .object(pairs)
    }
}
