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

extension Decision {
    /// The bytes of `json(decisionID:locations:)`, written directly: the answer to every decision is this, and a
    /// tree of `JSONValue`s built only to be written out costs an allocation per field (a 10-request batch of 8
    /// resources each is ~1,000 of them). Kept byte for byte equal to the tree (`DecisionJSONTests`).
    /// The bytes of `json(decisionID:locations:).serializedBytes()`, written directly.
    public func jsonBytes(decisionID: String? = nil, locations: Bool = true) -> [UInt8] {
        var out = JSONBytes(capacity: jsonSizeEstimate)
        writeJSON(decisionID: decisionID, locations: locations, into: &out)
        return out.bytes
    }

    /// About how many bytes its answer takes (a buffer's first capacity).
    package var jsonSizeEstimate: Int { 512 + 320 * resources.count }

    package func writeJSON(decisionID: String?, locations: Bool, into out: inout JSONBytes) {
        out.raw("{")
        if let decisionID {
            out.raw("\"decision_id\":")
            out.string(decisionID)
            out.raw(",")
        }
        if let requestID {
            out.raw("\"request_id\":")
            out.string(requestID)
            out.raw(",")
        }
        out.raw("\"effect\":")
        out.string(effect.rawValue)
        out.raw(",\"revision\":")
        out.string(revision)
        out.raw(",\"as_of\":")
        out.string(Timestamps.format(instant))
        out.raw(",\"purpose\":")
        out.string(purpose)
        out.raw(",\"action\":")
        out.string(action)
        out.raw(",\"jurisdiction\":")
        if let jurisdiction { out.string(jurisdiction) } else { out.raw("null") }
        if !reasons.isEmpty {
            out.raw(",\"reasons\":")
            Reason.write(reasons, locations: locations, into: &out)
        }
        out.raw(",\"resources\":[")
        // The resources of one decision mostly share their obligations (and their deadline): written once.
        var lastObligations: (value: Obligations, bytes: [UInt8])?
        for (index, resource) in resources.enumerated() {
            out.raw(index == 0 ? "{\"resource\":" : ",{\"resource\":")
            out.string(resource.resource)
            out.raw(",\"category\":")
            if let category = resource.category { out.string(category) } else { out.raw("null") }
            out.raw(",\"effect\":")
            out.string(resource.effect.rawValue)
            out.raw(",\"reasons\":")
            Reason.write(resource.reasons, locations: locations, into: &out)
            if !resource.obligations.isEmpty {
                if lastObligations?.value != resource.obligations {
                    lastObligations = (resource.obligations, resource.obligations.json.serializedBytes())
                }
                out.raw(",\"obligations\":")
                out.append(lastObligations!.bytes)
            }
            if !resource.consentEvents.isEmpty {
                out.raw(",\"consent_events\":")
                out.integers(resource.consentEvents)
            }
            if let epsilon = resource.epsilonSpent {
                out.raw(",\"epsilon_spent\":")
                out.value(.double(epsilon))
            }
            if let deleteBy = resource.deleteBy {
                out.raw(",\"delete_by\":")
                out.string(Timestamps.format(deleteBy))
            }
            if let trace = resource.trace {
                out.raw(",\"trace\":[")
                for (j, step) in trace.enumerated() {
                    out.raw(j == 0 ? "{\"rule\":" : ",{\"rule\":")
                    out.append(step.rule.jsonBytes(locations: locations))
                    out.raw(",\"outcome\":")
                    out.string(step.outcome.rawValue)
                    out.raw("}")
                }
                out.raw("]")
            }
            out.raw("}")
        }
        out.raw("]}")
    }
}

extension Reason {
    fileprivate static func write(_ reasons: [Reason], locations: Bool, into out: inout JSONBytes) {
        out.raw("[")
        for (index, reason) in reasons.enumerated() {
            out.raw(index == 0 ? "{\"code\":" : ",{\"code\":")
            out.string(reason.code.rawValue)
            if let detail = reason.detail {
                out.raw(",\"detail\":")
                out.string(detail)
            }
            if let rule = reason.rule {
                out.raw(",\"rule\":")
                out.append(rule.jsonBytes(locations: locations))
            }
            out.raw("}")
        }
        out.raw("]")
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
