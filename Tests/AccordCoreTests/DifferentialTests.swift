@testable import AccordCore
import Foundation
import Testing

/// The compiled plan and the reference evaluator decide the same random requests against the same
/// random policy sets; they must agree on every resource's effect, reason codes and obligations.
@Suite struct DifferentialTests {
    @Test func compiledPlanAgreesWithReferenceEvaluator() throws {
        var generator = PolicyGenerator(random: SeededGenerator(seed: UInt64(ProcessInfo.processInfo.environment["ACCORD_DIFF_SEED"].flatMap(UInt64.init) ?? 2026)))
        let now = Timestamps.parse("2026-06-01T00:00:00Z")!
        let nowSeconds = Int64(now.timeIntervalSince1970)
        var cases = 0, permits = 0, partials = 0, resources = 0, permittedResources = 0
        var failures: [String] = []
        for setIndex in 0..<250 {
            let generated = generator.policySet()
            let result = PolicySetValidator.validate(files: [("generated-\(setIndex).yaml", Array(generated.yaml.utf8))])
            guard let set = result.policySet else {
                Issue.record("generated set \(setIndex) is invalid: \(result.diagnostics.prefix(3))\n\(generated.yaml)")
                continue
            }
            let plan = DecisionPlan.compile(set)
            let reference = ReferenceEvaluator(set: set)
            for _ in 0..<90 {
                let request = generator.request(features: generated.features, categories: generated.categories,
                                                purposes: generated.purposes, now: now)
                let decision = plan.evaluate(request, asOf: now)
                let expected = reference.decide(request, now: nowSeconds)
                let actual = ReferenceEvaluator.Outcome(effect: decision.effect.rawValue, resources: decision.resources.map {
                    ReferenceEvaluator.ResourceOutcome(name: $0.resource, effect: $0.effect.rawValue, codes: Set($0.reasons.map(\.code.rawValue)),
                                                       obligations: $0.obligations)
                })
                cases += 1
                resources += decision.resources.count
                permittedResources += decision.resources.filter { $0.effect == .permit }.count
                if decision.effect == .permit { permits += 1 }
                if decision.effect == .partial { partials += 1 }
                if actual != expected, failures.count < 5 {
                    failures.append("set \(setIndex):\n\(generated.yaml)\nrequest: \(request)\nplan: \(actual)\nreference: \(expected)")
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n\n"))")
        #expect(cases >= 20_000)
        // The generator must exercise both outcomes, or agreement means little.
        #expect(permits > cases / 100, "permits: \(permits) of \(cases)")
        #expect(permittedResources > resources / 40, "permitted resources: \(permittedResources) of \(resources)")
        #expect(partials > 0)
    }
}
