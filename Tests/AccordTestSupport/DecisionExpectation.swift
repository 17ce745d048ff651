import AccordCore
import Foundation

/// What a corpus case or example expects of a decision; compared against the decision's JSON so the
/// library and the CLI are checked by the same code.
public struct DecisionExpectation {
    public var effect: String
    public var requestReasons: Set<String>?
    public var resources: [String: ResourceExpectation]

    public struct ResourceExpectation {
        public var effect: String
        public var reasons: Set<String>
        public var rules: [String]
        public var obligations: Any?
    }

    /// Reads a `want` object; a case that expects nothing is refused.
    public init(_ want: [String: Any]) throws {
        guard let effect = want["effect"] as? String else { throw CorpusError("want.effect is required") }
        guard let resources = want["resources"] as? [String: Any], !resources.isEmpty || want["reasons"] != nil else {
            throw CorpusError("want.resources must name every resource (or want.reasons the request-level reasons)")
        }
        self.effect = effect
        self.requestReasons = (want["reasons"] as? [String]).map(Set.init)
        self.resources = [:]
        for (name, value) in resources {
            guard let object = value as? [String: Any], let effect = object["effect"] as? String,
                let reasons = object["reasons"] as? [String], !reasons.isEmpty
            else { throw CorpusError("want.resources.\(name) needs effect and non-empty reasons") }
            self.resources[name] = ResourceExpectation(
                effect: effect, reasons: Set(reasons), rules: object["rules"] as? [String] ?? [],
                obligations: object["obligations"])
        }
    }

    /// Every mismatch between the expectation and a decision's JSON object; empty when they agree.
    public func mismatches(_ decision: [String: Any]) -> [String] {
        var problems: [String] = []
        if decision["effect"] as? String != effect { problems.append("effect: want \(effect), got \(decision["effect"] ?? "nil")") }
        if let requestReasons {
            let got = Set((decision["reasons"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String })
            if got != requestReasons { problems.append("request reasons: want \(requestReasons.sorted()), got \(got.sorted())") }
        }
        let got = decision["resources"] as? [[String: Any]] ?? []
        if got.count != resources.count { problems.append("resources: want \(resources.count), got \(got.count)") }
        for resource in got {
            let name = resource["resource"] as? String ?? "?"
            guard let want = resources[name] else { problems.append("unexpected resource \(name)"); continue }
            let effect = resource["effect"] as? String
            if effect != want.effect { problems.append("\(name).effect: want \(want.effect), got \(effect ?? "nil")") }
            let reasons = resource["reasons"] as? [[String: Any]] ?? []
            let codes = Set(reasons.compactMap { $0["code"] as? String })
            if codes != want.reasons { problems.append("\(name).reasons: want \(want.reasons.sorted()), got \(codes.sorted())") }
            let ruleIDs = Set(reasons.compactMap { ($0["rule"] as? [String: Any])?["id"] as? String })
            for rule in want.rules where !ruleIDs.contains(rule) {
                problems.append("\(name): rule \(rule) not cited (got \(ruleIDs.sorted()))")
            }
            if let wantObligations = want.obligations {
                let gotObligations = resource["obligations"] ?? [String: Any]()
                if !NSDictionary(dictionary: ["o": wantObligations]).isEqual(to: ["o": gotObligations]) {
                    problems.append("\(name).obligations: want \(wantObligations), got \(gotObligations)")
                }
            }
        }
        return problems
    }
}

public struct CorpusError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public func jsonObject(_ text: String) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
        throw CorpusError("not a JSON object: \(text.prefix(200))")
    }
    return object
}

/// Decides through the library and returns the decision's JSON as an object, as the CLI prints it.
public func decideThroughLibrary(_ plan: DecisionPlan, request: [String: Any], asOf: Date) throws -> [String: Any] {
    let parsed = try DecisionRequest.decode(object: request)
    return try jsonObject(plan.evaluate(parsed, asOf: asOf).json().serialized())
}
