import AccordCore
import AccordRuntime
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
        // One connection for the stores in the file, as a serving process would hold it.
        let database = try! StoreDatabase(path: path, durability: durability)
        let store = SQLiteFeatureStore(database: database)
        let trail = try! SQLiteAuditTrail(database: database)
        let consent = try! SQLiteConsentStore(database: database)
        for batch in stride(from: 0, to: people, by: 100) {
            try! store.write(
                subjects[batch..<min(batch + 100, people)].flatMap { subject in
                    features.flatMap { feature in
                        (0..<10).map { day in
                            FeatureRow(
                                entity: subject.id, feature: feature, value: .int(Int64(day)),
                                eventTime: asOf.addingTimeInterval(-Double(day + 1) * 86_400))
                        }
                    }
                })
        }
        try! consent.record(
            subjects.flatMap { subject in
                ["personalization", "analytics"].map {
                    (subject.id, ConsentEvent(kind: .grant, target: $0, version: 3, occurredAt: asOf.addingTimeInterval(-30 * 86_400)))
                }
            })
        let gate = FeatureGate(plan: plan, store: store, trail: trail, consent: consent, budgets: SQLiteBudgetLedger(database: database))
        let reads = quick ? 500 : 2_000
        // Warm: every subject read once through the gate (consent histories cached, pages in memory), as in a
        // process that has been serving for a while.
        for subject in subjects {
            _ = try? gate.onlineFeatures(
                subjects: [subject], features: features, purpose: "personalization.recommendations",
                actor: Actor(id: "recsys-online"), context: RequestContext(processingRegion: "EU"), asOf: asOf)
        }
        var start = now()
        for i in 0..<reads { _ = try? store.online(entities: [subjects[i % people].id], features: features, asOf: asOf) }
        let unguarded = seconds(since: start) * 1e6 / Double(reads)
        start = now()
        for i in 0..<reads {
            _ = try? gate.onlineFeatures(
                subjects: [subjects[i % people]], features: features, purpose: "personalization.recommendations",
                actor: Actor(id: "recsys-online"), context: RequestContext(processingRegion: "EU"), asOf: asOf)
        }
        let guarded = seconds(since: start) * 1e6 / Double(reads)
        // Where the gate's time goes: the decision alone, and one record committed alone.
        let request = { (i: Int) in
            DecisionRequest(
                actor: Actor(id: "recsys-online"), subject: subjects[i % people], purpose: "personalization.recommendations",
                action: "read_online", resources: features.map { ResourceReference(feature: $0, collectedAt: asOf) },
                context: RequestContext(processingRegion: "EU"), consent: nil)
        }
        start = now()
        for i in 0..<reads { _ = gate.point.judge(request(i), asOf: asOf) }
        let deciding = seconds(since: start) * 1e6 / Double(reads)
        let decided = (0..<reads).map { i in (request(i), gate.point.judge(request(i), asOf: asOf)) }
        start = now()
        for (i, (request, decision)) in decided.enumerated() {
            _ = try? trail.record(batch: [
                AuditEntry(decision: decision, request: request, decisionID: "parts-\(durability)-\(i)", instant: asOf)
            ])
        }
        let recording = seconds(since: start) * 1e6 / Double(reads)
        print(
            "  \(durability.rawValue): \(features.count)-feature online read \(format(unguarded)) µs from the store, \(format(guarded)) µs through "
                + "the gate (decision, consent, one audit commit): +\(format(guarded - unguarded)) µs")
        print("    of which: the decision with consent \(format(deciding)) µs; one such record committed alone \(format(recording)) µs")
        // A serving process: callers on their own threads (not a pool the size of the cores), sharing the store and
        // the gate, so its commits.
        func concurrently(_ threads: Int, _ read: @escaping @Sendable (Int) -> Void) -> Double {
            let perThread = reads / threads
            let group = DispatchGroup()
            let start = now()
            for t in 0..<threads {
                group.enter()
                Thread.detachNewThread {
                    for i in 0..<perThread { read(t * perThread + i) }
                    group.leave()
                }
            }
            group.wait()
            return seconds(since: start) * 1e6 / Double(threads * perThread)
        }
        for threads in [4, 16] {
            let plain = concurrently(threads) { i in
                _ = try? store.online(entities: [subjects[i % people].id], features: features, asOf: asOf)
            }
            let gated = concurrently(threads) { i in
                _ = try? gate.onlineFeatures(
                    subjects: [subjects[i % people]], features: features, purpose: "personalization.recommendations",
                    actor: Actor(id: "recsys-online"), context: RequestContext(processingRegion: "EU"), asOf: asOf)
            }
            print(
                "    \(threads) callers on their own threads: \(format(plain)) µs per read from the store, \(format(gated)) through the gate "
                    + "(wall time over reads; the gate's commits shared): +\(format(gated - plain)) µs")
        }
        if durability == .normal {
            let lineage = SQLiteLineageStore(database: database)
            let window = (from: asOf.addingTimeInterval(-365 * 86_400), to: asOf)
            start = now()
            let read =
                (try? store.historical(entities: subjects.map(\.id), features: features, from: window.from, to: window.to))?.count ?? 0
            let reading = seconds(since: start)
            // Three runs, the median: a commit that happens to trigger the WAL's checkpoint pays for earlier writes.
            var runs: [Double] = []
            var training: FeatureGate.TrainingSet?
            for _ in 0..<3 {
                start = now()
                training = try? gate.trainingSet(
                    features: features, purpose: "model.training", actor: Actor(id: "trainer"), population: subjects,
                    from: window.from, to: window.to, context: RequestContext(processingRegion: "EU"), asOf: asOf,
                    lineage: lineage)
                runs.append(seconds(since: start))
            }
            let median = runs.sorted()[1]
            let rows = Double((training?.manifest.rowsIncluded ?? 0) + (training?.manifest.rowsExcluded.values.reduce(0, +) ?? 0))
            print(
                "  training set: \(Int(rows)) rows considered, \(training?.manifest.rowsIncluded ?? 0) kept, in \(format(median * 1_000)) ms "
                    + "(median of 3): \(format(rows / median)) rows/s end to end; the store's read alone takes \(format(reading * 1_000)) ms, "
                    + "the gate's filtering (deciding, hashing, recording) the rest: \(format(rows / (median - reading))) rows/s")
            var random = SystemRandomNumberGenerator()
            start = now()
            let aggregate = try? gate.aggregate(
                .mean, of: "purchases_90d", cohort: subjects, purpose: "analytics.aggregate",
                actor: Actor(id: "analytics-job"), context: RequestContext(processingRegion: "EU"), clip: 0...10,
                asOf: asOf, random: &random)
            let outcome =
                aggregate?.value != nil ? "Laplace noise, budget spent" : "refused: \(aggregate?.refusals.map(\.code.rawValue) ?? [])"
            print("  aggregate (mean over \(people) people asked; \(outcome)): \(format(seconds(since: start) * 1_000)) ms")
        }
    }
}
