import AccordCore
import AccordRuntime
import AccordTestSupport
import Foundation
import GRDB
import Testing

@testable import AccordStore

/// Group commit: concurrent callers each get their own committed record, in one unbroken chain.
@Suite struct AuditRecorderTests {
    @Test func concurrentCallersShareCommitsWithoutBreakingTheChain() throws {
        let directory = try Fixtures.temporaryFolder("accord-writer")
        defer { try? FileManager.default.removeItem(at: directory) }
        let trail = try SQLiteAuditTrail(path: directory.appendingPathComponent("t.sqlite").path, durability: .normal)
        let plan = try Fixtures.referencePlan()
        let request = try Fixtures.exampleRequests()[0]
        let decision = plan.evaluate(request, asOf: Fixtures.asOf)
        let writer = AuditRecorder(trail: trail)
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var ids: [String] = []
        }
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            for i in 0..<50 {
                let id = "t\(t)-\(i)"
                if let record = try? writer.record(
                    .init(decision: decision, request: request, decisionID: id, instant: Fixtures.asOf))
                {
                    results.lock.lock()
                    results.ids.append(record.decisionID)
                    results.lock.unlock()
                }
            }
        }
        #expect(results.ids.count == 400)
        let records = try trail.records()
        #expect(Set(records.map(\.decisionID)) == Set(results.ids))
        #expect(records.map(\.sequence) == Array(1...400))
        #expect(try trail.verify().isIntact)
    }
}
