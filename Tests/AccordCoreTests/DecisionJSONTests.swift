import AccordTestSupport
import Foundation
import Testing

@testable import AccordCore

/// The decision routes write answers with `Decision.writeJSON(decisionID:locations:into:)`, the rest of Accord with
/// `Decision.json(decisionID:locations:)`: the two must give the same bytes for every decision, or the same decision
/// would read differently over HTTP and from the CLI, the library or the audit export.
@Suite struct DecisionJSONTests {
    private func expectSameBytes(_ decision: Decision, _ context: @autoclosure () -> String) {
        for decisionID in [nil, "01a252ce-c5ce-736b-b950-b0ecf7e5a667"] {
            for locations in [true, false] {
                var direct = JSONBytes(capacity: 0)
                decision.writeJSON(decisionID: decisionID, locations: locations, into: &direct)
                let tree = decision.json(decisionID: decisionID, locations: locations).serializedBytes()
                if direct.bytes != tree {
                    Issue.record(
                        """
                        \(context()) (id \(decisionID ?? "none"), locations \(locations)):
                        direct: \(String(decoding: direct.bytes, as: UTF8.self))
                        tree:   \(String(decoding: tree, as: UTF8.self))
                        """)
                    return
                }
            }
        }
    }

    /// Random policy sets and requests (the differential test's generator), decided plainly and with `explain`.
    @Test func generatedDecisionsWriteAsTheirTree() throws {
        var generator = PolicyGenerator(random: SeededGenerator(seed: 11))
        let now = Timestamps.parse("2026-06-01T00:00:00Z")!
        var decisions = 0, withObligations = 0, withTrace = 0, withDeadline = 0, withRequestReasons = 0
        for setIndex in 0..<120 {
            let generated = generator.policySet()
            guard let set = PolicySetValidator.validate(files: [("generated-\(setIndex).yaml", Array(generated.yaml.utf8))]).policySet
            else { continue }
            let plan = DecisionPlan.compile(set)
            for _ in 0..<40 {
                let request = generator.request(
                    features: generated.features, categories: generated.categories, purposes: generated.purposes, now: now)
                for explain in [false, true] {
                    let decision = plan.evaluate(request, asOf: now, options: EvaluationOptions(explain: explain))
                    decisions += 1
                    if decision.resources.contains(where: { !$0.obligations.isEmpty }) { withObligations += 1 }
                    if decision.resources.contains(where: { $0.trace != nil }) { withTrace += 1 }
                    if decision.resources.contains(where: { $0.deleteBy != nil }) { withDeadline += 1 }
                    if !decision.reasons.isEmpty { withRequestReasons += 1 }
                    expectSameBytes(decision, "set \(setIndex), request \(request)")
                }
            }
        }
        // Every optional part of an answer must have been written, or agreement means little.
        #expect(decisions >= 8_000)
        #expect(withObligations > 100, "decisions with obligations: \(withObligations)")
        #expect(withTrace > 100, "decisions with a trace: \(withTrace)")
        #expect(withDeadline > 100, "decisions with a deadline: \(withDeadline)")
        #expect(withRequestReasons > 10, "decisions with request-level reasons: \(withRequestReasons)")
    }

    private static func obligations(mask: MaskStrategy, drop: [String], minCohort: Int?) -> Obligations {
        var obligations = Obligations()
        obligations.mask = mask
        obligations.drop = drop
        obligations.minCohort = minCohort
        return obligations
    }

    /// What a plan alone does not produce: consent events, spent epsilon, a request id, no jurisdiction, and text
    /// that must be escaped (quotes, backslashes, control characters, non-ASCII) in every field that echoes input.
    @Test func hostileTextAndRareFieldsWriteAsTheirTree() {
        let rule = RuleReference(
            id: "r\"1\\", policy: "p\u{1}olicy\n", effect: .permit,
            source: SourceRange(file: "pol\"icies/a.yaml", line: 3, column: 5))
        var first = ResourceDecision(
            resource: "feat\"ure\t\u{7}é😀", category: nil, effect: .permit,
            reasons: [Reason(.rulePermit, rule: rule), Reason(.basisConsent, detail: "sc\\ope\r")],
            obligations: Self.obligations(mask: .truncate, drop: ["a.\"b"], minCohort: 5),
            deleteBy: Date(timeIntervalSince1970: 1_900_000_000))
        first.consentEvents = [1, 42, Int64.max]
        first.epsilonSpent = 0.125
        var second = first
        second.resource = "second"
        second.epsilonSpent = 2
        second.obligations = Self.obligations(mask: .hash, drop: [], minCohort: nil)
        let third = ResourceDecision(resource: "", category: "c\u{0}at", effect: .deny, reasons: [])
        var decision = Decision(
            effect: .partial, revision: "rev\"", purpose: "pur\\pose", action: "ac\u{1F}tion", jurisdiction: nil,
            instant: Date(timeIntervalSince1970: -1), resources: [first, second, third],
            reasons: [Reason(.jurisdictionFallback, detail: "\u{2028}")])
        decision.requestID = "req-\"<script>\u{0B}"
        expectSameBytes(decision, "hostile decision")
        decision.reasons = []
        decision.resources = []
        decision.jurisdiction = "EU"
        expectSameBytes(decision, "empty decision")
    }
}
