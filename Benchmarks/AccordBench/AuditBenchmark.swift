import AccordCore
import AccordStore
import Foundation

/// Appending to the audit trail at each durability setting, one commit per record and in group commits,
/// and verifying it. Files go to a temporary folder and are removed afterwards.
func runAuditBenchmark(plan: DecisionPlan, requests: [DecisionRequest], asOf: Date, quick: Bool) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("accord-bench-audit-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let entries = requests.prefix(2_000).enumerated().map { i, request in
        SQLiteAuditTrail.Entry(decision: plan.evaluate(request, asOf: asOf), request: request, decisionID: "bench-\(i)", instant: asOf)
    }
    func open(_ name: String, _ durability: Durability) -> SQLiteAuditTrail {
        // swiftlint-style force: a benchmark with no trail has nothing to say.
        try! SQLiteAuditTrail(path: directory.appendingPathComponent(name).path, durability: durability)
    }
    print("audit trail (SQLite, WAL, hash chain + MAC per record):")
    for durability in Durability.allCases {
        let single = open("single-\(durability).sqlite", durability)
        let singleCount = quick ? 200 : 1_000
        var start = now()
        for i in 0..<singleCount {
            var entry = entries[i % entries.count]
            entry.decisionID = "s\(i)"
            _ = try? single.record(batch: [entry])
        }
        let singleRate = Double(singleCount) / seconds(since: start)

        let grouped = open("grouped-\(durability).sqlite", durability)
        let batches = quick ? 20 : 100
        start = now()
        for b in 0..<batches {
            let batch = (0..<1_000).map { i -> SQLiteAuditTrail.Entry in
                var entry = entries[i % entries.count]
                entry.decisionID = "g\(b)-\(i)"
                return entry
            }
            _ = try? grouped.record(batch: batch)
        }
        let groupedRate = Double(batches * 1_000) / seconds(since: start)

        // Concurrent callers, one record each, through the group-commit writer.
        let writer = AuditWriter(trail: open("concurrent-\(durability).sqlite", durability))
        let perThread = quick ? 500 : 2_500, threads = 8
        start = now()
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for i in 0..<perThread {
                var entry = entries[(t * perThread + i) % entries.count]
                entry.decisionID = "c\(t)-\(i)"
                _ = try? writer.record(entry)
            }
        }
        let concurrentRate = Double(threads * perThread) / seconds(since: start)
        print("  \(durability.rawValue): \(format(singleRate)) records/s one commit each, \(format(groupedRate)) records/s in commits of 1,000, "
              + "\(format(concurrentRate)) records/s from \(threads) concurrent callers (group commit)")
    }

    // Verify: a trail of many records, recomputing every hash, MAC and a checkpoint.
    let size = quick ? 100_000 : 1_000_000
    let big = open("verify.sqlite", .off)
    for b in 0..<(size / 10_000) {
        let batch = (0..<10_000).map { i -> SQLiteAuditTrail.Entry in
            var entry = entries[i % entries.count]
            entry.decisionID = "v\(b)-\(i)"
            return entry
        }
        _ = try? big.record(batch: batch)
    }
    _ = try? big.checkpoint(at: asOf)
    let start = now()
    let verification = try? big.verify()
    let verifySeconds = seconds(since: start)
    let bytes = (try? FileManager.default.attributesOfItem(atPath: big.path)[.size] as? Int) ?? 0
    print("  verify of \(size) records (+1 checkpoint): \(format(verifySeconds)) s (\(format(verifySeconds * 1_000_000 / Double(size))) s per million), "
          + "intact: \(verification?.isIntact ?? false); \(format(Double(bytes) / Double(size))) bytes per record on disk")
}
