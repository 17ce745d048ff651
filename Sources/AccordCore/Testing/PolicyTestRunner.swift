import Foundation

/// What `accord test` found: each case passed or failed (with what differed), each property proven or not
/// (with counterexamples), and which rules and conditions the cases exercised.
public struct PolicyTestRun: Sendable {
    public struct CaseResult: Sendable {
        public var suite: String
        public var testCase: PolicyTestCase
        /// What differed, one line each ("expected …, got …"); empty when the case passed.
        public var failures: [String]
        public var decision: Decision
        public var seconds: Double
        public var passed: Bool { failures.isEmpty }
    }

    public struct PropertyRun: Sendable {
        public var suite: String
        public var result: DecisionSpace.PropertyResult
    }

    /// Rules a case applied (or whose condition a case found false), and conditions seen both ways.
    public struct Coverage: Sendable {
        public var rules: [String]
        public var rulesExercised: Set<String>
        /// Per rule with a condition: whether a case found it true, and whether one found it false.
        public var conditions: [String: (true: Bool, false: Bool)]

        public var conditionBranches: Int { conditions.count * 2 }
        public var conditionBranchesCovered: Int { conditions.values.reduce(0) { $0 + ($1.true ? 1 : 0) + ($1.false ? 1 : 0) } }
        /// Rules exercised and condition branches covered, over all of them, in percent.
        public var percent: Double {
            let total = rules.count + conditionBranches
            return total == 0 ? 100 : Double(rulesExercised.count + conditionBranchesCovered) * 100 / Double(total)
        }
    }

    public var cases: [CaseResult]
    public var properties: [PropertyRun]
    public var coverage: Coverage
    public var space: DecisionSpace?

    public var failed: Int { cases.filter { !$0.passed }.count + properties.filter { !$0.result.proven }.count }
}

public enum PolicyTestRunner {
    /// Runs every case and property of `set`'s PolicyTest documents whose name matches `only` (all if nil).
    public static func run(_ set: PolicySet, only: Regex<AnyRegexOutput>? = nil) -> PolicyTestRun {
        let plan = DecisionPlan.compile(set)
        func selected(_ name: String) -> Bool { only.map { (try? $0.firstMatch(in: name)) != nil } ?? true }
        var coverage = PolicyTestRun.Coverage(rules: set.rules.map(\.id), rulesExercised: [], conditions: [:])
        for rule in set.rules where rule.when != nil || rule.unless != nil { coverage.conditions[rule.id] = (false, false) }
        var cases: [PolicyTestRun.CaseResult] = []
        for suite in set.tests {
            for testCase in suite.cases where selected(testCase.name) {
                let start = Date()
                let decision = plan.evaluate(testCase.request, asOf: testCase.asOf, options: EvaluationOptions(explain: true))
                for resource in decision.resources {
                    for trace in resource.trace ?? [] {
                        let id = trace.rule.id
                        if trace.outcome == .applied { coverage.rulesExercised.insert(id) }
                        if var seen = coverage.conditions[id] {
                            if trace.outcome == .applied { seen.true = true } else if trace.outcome == .conditionFalse { seen.false = true }
                            coverage.conditions[id] = seen
                            coverage.rulesExercised.insert(id)
                        }
                    }
                }
                cases.append(
                    PolicyTestRun.CaseResult(
                        suite: suite.name, testCase: testCase, failures: compare(testCase, decision),
                        decision: decision, seconds: Date().timeIntervalSince(start)))
            }
        }
        let wanted = set.tests.flatMap { suite in suite.properties.filter { selected($0.name) }.map { (suite.name, $0) } }
        let space = wanted.isEmpty ? nil : DecisionSpace([set])
        let properties = wanted.map { suite, property in PolicyTestRun.PropertyRun(suite: suite, result: space!.check(property, plan: plan))
        }
        return PolicyTestRun(cases: cases, properties: properties, coverage: coverage, space: space)
    }

    /// What differs between what `testCase` expects and `decision`, one line each.
    static func compare(_ testCase: PolicyTestCase, _ decision: Decision) -> [String] {
        var failures: [String] = []
        if let effect = testCase.effect, effect != decision.effect {
            failures.append("effect: expected \(effect.rawValue), got \(decision.effect.rawValue)")
        }
        for expected in testCase.resources {
            guard let actual = decision.resources.first(where: { $0.resource == expected.resource }) else {
                failures.append("\(expected.resource): not in the decision")
                continue
            }
            let codes = actual.reasons.map(\.code.rawValue)
            let rules = actual.reasons.compactMap(\.rule?.id)
            if let effect = expected.effect, effect != actual.effect {
                failures.append(
                    "\(expected.resource): expected \(effect.rawValue), got \(actual.effect.rawValue) (reasons: \(codes.joined(separator: ", ")))"
                )
            }
            let missingCodes = expected.reasons.filter { !codes.contains($0) }
            if !missingCodes.isEmpty {
                failures.append(
                    "\(expected.resource): expected reasons [\(missingCodes.joined(separator: ", "))] among [\(codes.joined(separator: ", "))]"
                )
            }
            let missingRules = expected.rules.filter { !rules.contains($0) }
            if !missingRules.isEmpty {
                failures.append(
                    "\(expected.resource): expected rules [\(missingRules.joined(separator: ", "))] among [\(rules.joined(separator: ", "))]"
                )
            }
        }
        return failures
    }
}

extension DecisionRequest {
    /// The request in the JSON form `accord eval` reads (docs/requests.md).
    public var json: JSONValue {
        var subject: [(String, JSONValue)] = [("id", .string(self.subject.id))]
        if let age = self.subject.age { subject.append(("age", .int(age))) }
        if let jurisdiction = self.subject.jurisdiction { subject.append(("jurisdiction", .string(jurisdiction))) }
        var context: [(String, JSONValue)] = []
        if let region = self.context.processingRegion { context.append(("processing_region", .string(region))) }
        if let environment = self.context.environment { context.append(("environment", .string(environment))) }
        if self.context.gpc { context.append(("gpc", .bool(true))) }
        let resources: [JSONValue] = self.resources.map { resource in
            var fields: [(String, JSONValue)] = []
            if let feature = resource.feature { fields.append(("feature", .string(feature))) }
            if let category = resource.category { fields.append(("category", .string(category))) }
            if let collected = resource.collectedAt { fields.append(("collected_at", .string(Timestamps.format(collected)))) }
            return .object(fields)
        }
        let grants: [JSONValue] = consent.grants.map { grant in
            .object([
                ("scope", .string(grant.scope)), ("version", .int(grant.version)),
                ("granted_at", .string(Timestamps.format(grant.grantedAt))),
                ("by_guardian", .bool(grant.byGuardian)),
            ])
        }
        return .object([
            ("actor", .object([("id", .string(actor.id))])), ("subject", .object(subject)), ("purpose", .string(purpose)),
            ("action", .string(action)), ("resources", .array(resources)), ("context", .object(context)),
            ("consent", .object([("grants", .array(grants))])),
        ])
    }
}
