import AccordTestSupport
import Foundation
import Testing

@testable import AccordCore

/// The compiled plan and the reference evaluator decide the same random requests against the same
/// random policy sets; they must agree on every resource's effect, reason codes and obligations.
@Suite struct DifferentialTests {
    @Test func compiledPlanAgreesWithReferenceEvaluator() throws {
        var generator = PolicyGenerator(
            random: SeededGenerator(seed: UInt64(ProcessInfo.processInfo.environment["ACCORD_DIFF_SEED"].flatMap(UInt64.init) ?? 2026)))
        let now = Timestamps.parse("2026-06-01T00:00:00Z")!
        let nowSeconds = Int64(now.timeIntervalSince1970)
        var cases = 0, permits = 0, partials = 0, resources = 0, permittedResources = 0
        // The open vocabulary: entity resources permitted and denied, and resources permitted under declared actions.
        var entityPermits = 0, entityDenies = 0, declaredActionPermits = 0
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
                let request = generator.request(
                    features: generated.features, categories: generated.categories,
                    purposes: generated.purposes, now: now)
                let decision = plan.evaluate(request, asOf: now)
                let expected = reference.decide(request, now: nowSeconds)
                let actual = ReferenceEvaluator.Outcome(
                    effect: decision.effect.rawValue,
                    resources: decision.resources.map {
                        ReferenceEvaluator.ResourceOutcome(
                            name: $0.resource, effect: $0.effect.rawValue, codes: Set($0.reasons.map(\.code.rawValue)),
                            obligations: $0.obligations)
                    })
                cases += 1
                resources += decision.resources.count
                permittedResources += decision.resources.filter { $0.effect == .permit }.count
                if decision.effect == .permit { permits += 1 }
                if decision.effect == .partial { partials += 1 }
                for (resource, decided) in zip(request.resources, decision.resources) where resource.type == "doc" {
                    if decided.effect == .permit { entityPermits += 1 } else { entityDenies += 1 }
                }
                if PolicyGenerator.declaredActions.contains(request.action) {
                    declaredActionPermits += decision.resources.filter { $0.effect == .permit }.count
                }
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
        #expect(entityPermits > 100 && entityDenies > 100, "entity resources: \(entityPermits) permitted, \(entityDenies) denied")
        #expect(declaredActionPermits > 50, "resources permitted under declared actions: \(declaredActionPermits)")
    }

    /// A request of many resources of few features (as a training set's) shares decisions between rows of a
    /// feature that only retention or a future date could tell apart. The result must be exactly what each
    /// resource gets decided alone — reasons, obligations and deletion deadline included — whether or not the
    /// policies read `resource.age`.
    @Test func sharedDecisionsOfManyRowsAreExact() throws {
        var generator = PolicyGenerator(random: SeededGenerator(seed: 7))
        let now = Timestamps.parse("2026-06-01T00:00:00Z")!
        var compared = 0, shared = 0, withAge = 0, permitted = 0
        for setIndex in 0..<120 {
            let generated = generator.policySet()
            guard let set = PolicySetValidator.validate(files: [("generated-\(setIndex).yaml", Array(generated.yaml.utf8))]).policySet
            else { continue }
            let plan = DecisionPlan.compile(set)
            if plan.rulesReadResourceAge { withAge += 1 } else { shared += 1 }
            for _ in 0..<6 {
                var request = generator.request(
                    features: generated.features, categories: generated.categories, purposes: generated.purposes, now: now)
                // Rows: three features, dated from the future to two years back, some undated.
                let features = (0..<3).map { _ in generated.features.randomElement(using: &generator.random)! }
                request.resources = (0..<60).map { n in
                    let collected: Date? = n % 17 == 0 ? nil : now.addingTimeInterval(Double(n % 11 == 0 ? 7_200 : -(n * n) * 20_000))
                    return ResourceReference(feature: features[n % 3], collectedAt: collected)
                }
                let together = plan.evaluate(request, asOf: now).resources
                for (n, resource) in request.resources.enumerated() {
                    var alone = request
                    alone.resources = [resource]
                    let expected = plan.evaluate(alone, asOf: now).resources[0]
                    #expect(together[n] == expected, "set \(setIndex), row \(n)")
                    compared += 1
                    if expected.effect == .permit { permitted += 1 }
                }
            }
        }
        #expect(compared > 30_000 && shared > 20 && withAge > 5, "compared \(compared); sets sharing \(shared), reading age \(withAge)")
        #expect(permitted > compared / 50, "permitted rows: \(permitted) of \(compared)")
    }
}
