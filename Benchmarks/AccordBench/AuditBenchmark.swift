import AccordCore
import AccordStore
import Foundation

/// Appending to the audit trail at each durability setting (one commit per record, commits of 1,000, and
/// concurrent callers through the group-commit writer), verifying a million records, and querying them.
/// Files go to a temporary folder and are removed afterwards.
func runAuditBenchmark(plan: DecisionPlan, requests: [DecisionRequest], asOf: Date, quick: Bool, appendOnly: Bool = false) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("accord-bench-audit-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let actors = ["recsys", "ads-ranker", "trainer", "analyst-7", "fraud-svc"]
    // 100,000 people, five actors: decided once, then renamed per record.
    let base = requests.prefix(2_000).map { request in (request, plan.evaluate(request, asOf: asOf)) }
    /// Decision ids rise with `i`, as the time-ordered ids the engine issues do.
    @Sendable func entry(_ i: Int, _ prefix: String) -> AuditEntry {
        let id = prefix + String(1_000_000_000 + i)
        var (request, decision) = base[i % base.count]
        request.subject.id = "subject-\(i % 100_000)"
        request.actor.id = actors[i % actors.count]
        return AuditEntry(decision: decision, request: request, decisionID: id, instant: asOf.addingTimeInterval(Double(i / 100)))
    }
    func open(_ name: String, _ durability: Durability) -> SQLiteAuditTrail {
        // A benchmark with no trail has nothing to say.
        try! SQLiteAuditTrail(path: directory.appendingPathComponent(name).path, durability: durability)
    }
    if appendOnly {
        // For profiling: commits of 1,000 only; 100,000 people seen for the first time, then again.
        let trail = open("append.sqlite", .normal)
        for pass in 0..<2 {
            let prepared = (0..<100).map { b in (0..<1_000).map { i in entry(pass * 100_000 + b * 1_000 + i, "g") } }
            let start = now()
            for batch in prepared { _ = try? trail.record(batch: batch) }
            print("append (\(pass == 0 ? "new" : "returning") subjects): \(format(100_000 / seconds(since: start))) records/s in commits of 1,000")
        }
        return
    }
    print("audit trail (SQLite, WAL, hash chain + MAC + subject seal per record, lookup terms):")
    for durability in Durability.allCases {
        let single = open("single-\(durability).sqlite", durability)
        let singleCount = quick ? 200 : 1_000
        var start = now()
        for i in 0..<singleCount { _ = try? single.record(batch: [entry(i, "s")]) }
        let singleRate = Double(singleCount) / seconds(since: start)

        let grouped = open("grouped-\(durability).sqlite", durability)
        let batches = quick ? 20 : 200
        let prepared = (0..<batches).map { b in (0..<1_000).map { i in entry(b * 1_000 + i, "g") } }
        start = now()
        for batch in prepared { _ = try? grouped.record(batch: batch) }
        let groupedRate = Double(batches * 1_000) / seconds(since: start)

        let writer = AuditWriter(trail: open("concurrent-\(durability).sqlite", durability))
        let perThread = quick ? 500 : 2_500, threads = 8
        start = now()
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for i in 0..<perThread { _ = try? writer.record(entry(t * perThread + i, "c")) }
        }
        let concurrentRate = Double(threads * perThread) / seconds(since: start)
        print("  \(durability.rawValue): \(format(singleRate)) records/s one commit each, \(format(groupedRate)) records/s in commits of 1,000, "
              + "\(format(concurrentRate)) records/s from \(threads) concurrent callers (group commit)")
    }

    // A trail of a million records (100,000 in --quick), checkpointed every 100,000.
    let size = quick ? 100_000 : 1_000_000
    let big = open("big.sqlite", .normal)
    for b in 0..<(size / 10_000) {
        _ = try? big.record(batch: (0..<10_000).map { i in entry(b * 10_000 + i, "v") })
        if (b + 1) % 10 == 0 { _ = try? big.checkpoint(at: asOf) }
    }
    var start = now()
    let verification = try? big.verify()
    let verifySeconds = seconds(since: start)
    let bytes = (try? FileManager.default.attributesOfItem(atPath: big.path)[.size] as? Int) ?? 0
    print("  verify of \(size) records + \(verification?.checkpoints ?? 0) checkpoints: \(format(verifySeconds)) s "
          + "(\(format(verifySeconds * 1_000_000 / Double(size))) s per million), intact: \(verification?.isIntact ?? false); "
          + "\(format(Double(bytes) / Double(size))) bytes per record on disk")

    // Query latency: the median of 5 runs of each filter, newest 100 first (as `accord audit query` does by default).
    let middle = asOf.addingTimeInterval(Double(size / 200))
    let revision = base[0].1.revision
    let queries: [(String, AuditQuery)] = [
        ("subject", AuditQuery(subject: "subject-4242", limit: 100)),
        ("purpose with children", AuditQuery(purpose: "ads", limit: 100)),
        ("actor", AuditQuery(actor: "analyst-7", limit: 100)),
        ("reason code", AuditQuery(reason: "consent.missing", limit: 100)),
        ("rule id", AuditQuery(rule: base.lazy.compactMap { $0.1.resources.first?.reasons.first?.rule?.id }.first, limit: 100)),
        ("effect (none match)", AuditQuery(effect: "partial", limit: 100)),
        ("effect", AuditQuery(effect: "deny", limit: 100)),
        ("action", AuditQuery(action: "train", limit: 100)),
        ("time range (1 hour)", AuditQuery(from: middle, to: middle.addingTimeInterval(3_600), limit: 100)),
        ("revision", AuditQuery(revision: String(revision.prefix(12)), limit: 100)),
        ("decision id", AuditQuery(decisionID: "v" + String(1_000_000_000 + size / 2), limit: 100)),
        ("actor + purpose + effect", AuditQuery(purpose: "personalization", effect: "deny", actor: "trainer", limit: 100)),
        ("subject, all records", AuditQuery(subject: "subject-4242")),
    ]
    print("  query on \(size) records (median of 5, newest 100):")
    for (name, query) in queries {
        var times: [Double] = []
        var found = 0
        for _ in 0..<5 {
            start = now()
            found = (try? big.query(query).count) ?? -1
            times.append(seconds(since: start) * 1_000)
        }
        times.sort()
        print("    \(name): \(format(times[2])) ms (\(found) records)")
    }
    start = now()
    let stats = try? big.stats(from: middle, to: middle.addingTimeInterval(86_400))
    print("  stats over one day (\(stats?.records ?? 0) records): \(format(seconds(since: start) * 1_000)) ms")
    start = now()
    let erased = (try? big.erase(subject: "subject-4242")) ?? 0
    print("  erase of one subject (\(erased) records): \(format(seconds(since: start) * 1_000)) ms")
}
