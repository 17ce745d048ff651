import AccordCore
import AccordRuntime
import AccordStore
import Foundation
import GRDB

/// The consent store: events written per second, decisions per second with consent read from the store
/// (cold: every subject read for the first time; warm: read again), and the size of a store holding one
/// million subjects (100,000 with --quick). Files go to a temporary folder and are removed afterwards.
func runConsentBenchmark(plan: DecisionPlan, requests: [DecisionRequest], asOf: Date, quick: Bool) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("accord-bench-consent-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    // A benchmark with no store has nothing to say.
    let store = try! SQLiteConsentStore(path: directory.appendingPathComponent("consent.sqlite").path)
    let people = quick ? 100_000 : 1_000_000
    let granted = asOf.addingTimeInterval(-30 * 86_400)
    print("consent store (SQLite, WAL, synchronous = FULL; \(people) people, two events each):")

    // Writing: single events, then commits of 1,000.
    var start = now()
    for i in 0..<500 {
        _ = try? store.record([ConsentEvent(kind: .grant, target: "analytics", occurredAt: granted)], subject: "single-\(i)")
    }
    let singleRate = 500 / seconds(since: start)
    start = now()
    for batch in stride(from: 0, to: people, by: 1_000) {
        let events = (batch..<batch + 1_000).flatMap { i -> [(subject: String, event: ConsentEvent)] in
            [
                ("subject-\(i)", ConsentEvent(kind: .grant, target: "personalization", version: 2, occurredAt: granted)),
                ("subject-\(i)", ConsentEvent(kind: .grant, target: i % 2 == 0 ? "ads" : "analytics", occurredAt: granted)),
            ]
        }
        _ = try? store.record(events)
    }
    let batchRate = Double(2 * people) / seconds(since: start)
    print("  events written: \(format(singleRate))/s one commit each, \(format(batchRate))/s in commits of 2,000")

    // Deciding: requests that carry no consent, for people spread over the whole store.
    let sample = 20_000
    let stripped = (0..<sample).map { i -> DecisionRequest in
        var request = requests[i % requests.count]
        request.subject.id = "subject-\((i * 7_919) % people)"
        request.consent = ConsentState()
        request.consentIsInline = false
        return request
    }
    let fresh = DecisionPoint(plan: plan, consent: try! SQLiteConsentStore(path: store.path))
    var permitted = 0
    start = now()
    for request in stripped where fresh.judge(request, asOf: asOf).effect != .deny { permitted += 1 }
    let cold = Double(sample) / seconds(since: start)
    start = now()
    for request in stripped where fresh.judge(request, asOf: asOf).effect != .deny { permitted += 1 }
    let warm = Double(sample) / seconds(since: start)
    start = now()
    for request in requests.prefix(sample) { _ = plan.evaluate(request, asOf: asOf) }
    let inline = Double(sample) / seconds(since: start)
    print(
        "  decisions with consent from the store: \(format(cold))/s cold (first read of each person), \(format(warm))/s warm; "
            + "\(format(inline))/s with consent in the request (\(permitted / 2) of \(sample) not denied)")

    // The WAL copied back into the database first, so the size is the store's, not the log's.
    _ = try? DatabaseQueue(path: store.path).writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    let bytes = (try? FileManager.default.attributesOfItem(atPath: store.path)[.size] as? Int) ?? 0
    print(
        "  size on disk: \(format(Double(bytes) / 1_048_576)) MiB for \(people) people (\(format(Double(bytes) / Double(people))) bytes each)"
    )
}
