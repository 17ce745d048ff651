import AccordCore
import AccordRuntime
import AccordStore
import Foundation
import GRDB

/// Appending to the audit trail at each durability setting (one commit per record, commits of 1,000, and
/// concurrent callers through the group-commit writer), verifying a million records, and querying them.
/// Files go to a temporary folder and are removed afterwards.
func runAuditBenchmark(plan: DecisionPlan, requests: [DecisionRequest], asOf: Date, quick: Bool, appendOnly: Bool = false) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("accord-bench-audit-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let actors = ["recsys", "ads-ranker", "trainer", "analyst-7", "fraud-svc"]
    // 2,000 decisions made once, then given to 100,000 people (by default) and five actors.
    let base = requests.prefix(2_000).map { request in (request, plan.evaluate(request, asOf: asOf)) }
    /// Decision ids rise with `i`, as the time-ordered ids the engine issues do.
    @Sendable func entry(_ i: Int, _ prefix: String, people: Int = 100_000) -> AuditEntry {
        let id = prefix + String(1_000_000_000 + i)
        var (request, decision) = base[i % base.count]
        request.subject.id = "subject-\(i % people)"
        request.actor.id = actors[i % actors.count]
        return AuditEntry(decision: decision, request: request, decisionID: id, instant: asOf.addingTimeInterval(Double(i / 100)))
    }
    func open(_ name: String, _ durability: Durability) -> SQLiteAuditTrail {
        // A benchmark with no trail has nothing to say.
        try! SQLiteAuditTrail(path: directory.appendingPathComponent(name).path, durability: durability)
    }
    /// Records/s appending `people` subjects in commits of 1,000: first all seen for the first time, then
    /// the same people again (their seal keys known).
    func grouped(_ trail: SQLiteAuditTrail, people: Int) -> (new: Double, returning: Double, cpu: [Double]) {
        var rates: [Double] = [], cpu: [Double] = []
        for pass in 0..<2 {
            let batches = (0..<(people / 1_000)).map { b in
                (0..<1_000).map { i in entry(pass * people + b * 1_000 + i, "g", people: people) }
            }
            let (start, cpuStart) = (now(), cpuSeconds())
            for batch in batches { _ = try? trail.record(batch: batch) }
            rates.append(Double(people) / seconds(since: start))
            cpu.append((cpuSeconds() - cpuStart) * 1e6 / Double(people))
        }
        return (rates[0], rates[1], cpu)
    }
    let people = quick ? 20_000 : 100_000
    if appendOnly {
        // For profiling the append path alone.
        let rates = grouped(open("append.sqlite", .normal), people: people)
        print(
            "append in commits of 1,000: \(format(rates.new)) records/s for new subjects, \(format(rates.returning)) for returning ones; "
                + "CPU per record (both cores): \(format(rates.cpu[0])) µs new, \(format(rates.cpu[1])) µs returning")
        return
    }
    print("audit trail (SQLite, WAL; hash chain, MAC, subject seal, subject index and postings per record):")
    for durability in Durability.allCases {
        let single = open("single-\(durability).sqlite", durability)
        let singleCount = quick ? 200 : 1_000
        var start = now()
        for i in 0..<singleCount { _ = try? single.record(batch: [entry(i, "s")]) }
        let singleRate = Double(singleCount) / seconds(since: start)

        let rates = grouped(open("grouped-\(durability).sqlite", durability), people: people)

        // Callers on their own threads (not a thread pool, which would run only as many as there are cores),
        // each recording one decision at a time through the group-commit writer.
        var concurrent: [String] = []
        for threads in [8, 64] {
            let writer = AuditRecorder(trail: open("concurrent-\(threads)-\(durability).sqlite", durability))
            let perThread = (quick ? 4_000 : 20_000) / threads
            let group = DispatchGroup()
            start = now()
            for t in 0..<threads {
                group.enter()
                Thread.detachNewThread {
                    for i in 0..<perThread { _ = try? writer.record(entry(t * perThread + i, "c")) }
                    group.leave()
                }
            }
            group.wait()
            concurrent.append("\(format(Double(threads * perThread) / seconds(since: start))) records/s from \(threads)")
        }
        print(
            "  \(durability.rawValue): \(format(singleRate)) records/s one commit each; in commits of 1,000: \(format(rates.new)) records/s "
                + "for \(people) new subjects, \(format(rates.returning)) records/s as they return; group commit of callers on their own threads, "
                + "one record at a time: \(concurrent.joined(separator: ", "))")
    }

    // A trail of a million records (100,000 in --quick), checkpointed every tenth.
    let size = quick ? 100_000 : 1_000_000
    let big = open("big.sqlite", .normal)
    for b in 0..<(size / 10_000) {
        _ = try? big.record(batch: (0..<10_000).map { i in entry(b * 10_000 + i, "v") })
        // A checkpoint every tenth of the trail, but the last (timed below).
        if (b + 1) % (size / 100_000) == 0 && b + 1 < size / 10_000 { _ = try? big.checkpoint(at: asOf) }
    }
    // The last checkpoint, continuing from the previous one's tree; then the same from scratch, for comparison.
    var start = now()
    _ = try? big.checkpoint(at: asOf)
    let incremental = seconds(since: start)
    _ = try? DatabaseQueue(path: big.path).write { try $0.execute(sql: "DELETE FROM audit_merkle_state") }
    start = now()
    _ = try? big.checkpoint(at: asOf)
    print(
        "  checkpoint at \(size) records: \(format(incremental * 1_000)) ms continuing from the one \(size / 10) records earlier, "
            + "\(format(seconds(since: start) * 1_000)) ms hashing the whole trail")
    start = now()
    let verification = try? big.verify()
    let verifySeconds = seconds(since: start)
    let bytes = (try? FileManager.default.attributesOfItem(atPath: big.path)[.size] as? Int) ?? 0
    print(
        "  verify of \(size) records + \(verification?.checkpoints ?? 0) checkpoints: \(format(verifySeconds)) s "
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

/// User and system CPU time of the whole process so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
