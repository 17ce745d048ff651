import AccordCore
import AccordGate
import AccordStore
import Foundation

/// The gate: a guarded online read of every catalog feature for one subject against the same read straight
/// from the store, training-set filtering, and an aggregate — on the reference policies (`policies/`), 1,000
/// synthetic EU subjects with personalisation and analytics consent, ten events per feature each.
func runGateBenchmark(asOf: Date, quick: Bool) {
    guard let set = PolicySetValidator.validate(paths: ["policies"]).policySet else {
        print("gate benchmark: run from the repository root (it reads policies/)")
        return
    }
    let plan = DecisionPlan.compile(set)
    let features = set.features.keys.sorted()
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("accord-bench-gate-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let people = quick ? 200 : 1_000
    let subjects = (0..<people).map { Subject(id: "g-\($0)", age: 30 + $0 % 40, jurisdiction: "EU") }
    print("gate (reference policies, \(features.count) features, \(people) people, 10 events per feature each):")
    for durability in [Durability.normal, .full] {
        let path = directory.appendingPathComponent("gate-\(durability).sqlite").path
        // A benchmark with no store has nothing to say.
        let store = try! SQLiteFeatureStore(path: path, durability: durability)
        let trail = try! SQLiteAuditTrail(path: path, durability: durability)
        let consent = try! ConsentStore(path: path, durability: durability)
        for batch in stride(from: 0, to: people, by: 100) {
            try! store.write(subjects[batch..<min(batch + 100, people)].flatMap { subject in
                features.flatMap { feature in
                    (0..<10).map { day in
                        FeatureRow(entity: subject.id, feature: feature, value: .int(Int64(day)), eventTime: asOf.addingTimeInterval(-Double(day + 1) * 86_400))
                    }
                }
            })
        }
        try! consent.record(subjects.flatMap { subject in
            ["personalization", "analytics"].map { (subject.id, ConsentEvent(kind: .grant, target: $0, version: 3, occurredAt: asOf.addingTimeInterval(-30 * 86_400))) }
        })
        let gate = FeatureGate(plan: plan, store: store, trail: trail, consent: consent)
        let reads = quick ? 500 : 2_000
        var start = now()
        for i in 0..<reads { _ = try? store.online(entities: [subjects[i % people].id], features: features, asOf: asOf) }
        let unguarded = seconds(since: start) * 1e6 / Double(reads)
        start = now()
        for i in 0..<reads {
            _ = try? gate.onlineFeatures(subjects: [subjects[i % people]], features: features, purpose: "personalization.recommendations",
                                         actor: Actor(id: "recsys-online"), context: RequestContext(processingRegion: "EU"), asOf: asOf)
        }
        let guarded = seconds(since: start) * 1e6 / Double(reads)
        print("  \(durability.rawValue): \(features.count)-feature online read \(format(unguarded)) µs from the store, \(format(guarded)) µs through "
              + "the gate (decision, consent, one audit commit): +\(format(guarded - unguarded)) µs")
        if durability == .normal {
            let lineage = try! LineageStore(path: path, durability: durability)
            start = now()
            let training = try? gate.trainingSet(features: features, purpose: "model.training", actor: Actor(id: "trainer"), population: subjects,
                                                 from: asOf.addingTimeInterval(-365 * 86_400), to: asOf,
                                                 context: RequestContext(processingRegion: "EU"), asOf: asOf, lineage: lineage)
            let rows = (training?.manifest.rowsIncluded ?? 0) + (training?.manifest.rowsExcluded.values.reduce(0, +) ?? 0)
            print("  training set: \(rows) rows considered, \(training?.manifest.rowsIncluded ?? 0) kept, in \(format(seconds(since: start) * 1_000)) ms "
                  + "(\(format(Double(rows) / seconds(since: start))) rows/s, reading, deciding and recording included)")
            var random = SystemRandomNumberGenerator()
            start = now()
            let aggregate = try? gate.aggregate(.mean, of: "purchases_90d", cohort: subjects, purpose: "analytics.aggregate",
                                                actor: Actor(id: "analytics-job"), context: RequestContext(processingRegion: "EU"), clip: 0...10,
                                                budgets: try! PrivacyBudgetLedger(path: path, durability: durability), asOf: asOf, random: &random)
            let outcome = aggregate?.value != nil ? "Laplace noise, budget spent" : "refused: \(aggregate?.refusals.map(\.code.rawValue) ?? [])"
            print("  aggregate (mean over \(people) people asked; \(outcome)): \(format(seconds(since: start) * 1_000)) ms")
        }
    }
}
