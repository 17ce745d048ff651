import AccordCore
import AccordRuntime
import AccordTestSupport
import Foundation
import GRDB
import Testing

@testable import AccordStore

/// The one decision point: every caller's pipeline, its configuration, and both faces of the recorder.
@Suite struct DecisionPointTests {
    static let asOf = Date(timeIntervalSince1970: 1_780_000_000)

    /// The pipeline is assembled in one place: outside AccordCore, only DecisionPoint evaluates a plan for a
    /// person (the PIA evaluates hypothetical requests to describe the policies, with no one's consent and
    /// nothing recorded), and only the recorder appends decisions to a trail (retention writes purge records).
    @Test func thePipelineIsAssembledInExactlyOnePlace() throws {
        let sources = URL(fileURLWithPath: Repository.path("Sources"))
        var evaluating: Set<String> = [], appending: Set<String> = [], consulting: Set<String> = []
        for case let file as URL in FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
        where file.pathExtension == "swift" && !file.path.contains("/AccordCore/") {
            let text = try String(contentsOf: file, encoding: .utf8)
            let name = file.lastPathComponent
            if text.contains("plan.evaluate(") { evaluating.insert(name) }
            if text.contains("trail.record(batch:") { appending.insert(name) }
            if text.contains(".filling(") { consulting.insert(name) }
        }
        #expect(evaluating == ["DecisionPoint.swift", "PIAGenerator.swift"])
        #expect(appending == ["AuditRecorder.swift", "Retention.swift"])
        #expect(consulting == ["DecisionPoint.swift"], "consent is looked up for a decision in one place")
    }

    @Test func withoutATrailNothingIsRecordedAndTheGateServesNothing() throws {
        let point = DecisionPoint(plan: try Fixtures.referencePlan())
        let decided = point.decide([try Fixtures.exampleRequests()[8]], asOf: Self.asOf)
        #expect(decided[0].record == nil && decided[0].decision.effect == .permit)
        #expect(throws: GateError.self) { try point.record([]) }
    }

    @Test func taskCallersShareCommitsAndEachGetsItsOwnRecords() async throws {
        let folder = try Fixtures.temporaryFolder("accord-point-async")
        defer { try? FileManager.default.removeItem(at: folder) }
        let trail = try SQLiteAuditTrail(path: folder.appendingPathComponent("t.sqlite").path, durability: .normal)
        let point = DecisionPoint(plan: try Fixtures.referencePlan(), trail: trail)
        let request = try Fixtures.exampleRequests()[8]
        let ids = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<32 { group.addTask { await point.decide([request, request], asOf: Self.asOf).map(\.id) } }
            var all: [String] = []
            for await ids in group { all += ids }
            return all
        }
        #expect(Set(ids).count == 64)
        let records = try trail.records()
        #expect(Set(records.map(\.decisionID)) == Set(ids), "every answered decision is recorded")
        #expect(records.map(\.sequence) == Array(1...64))
        #expect(try trail.verify().isIntact)
    }

    @Test func threadAndTaskCallersShareOneRecorder() async throws {
        let folder = try Fixtures.temporaryFolder("accord-point-mixed")
        defer { try? FileManager.default.removeItem(at: folder) }
        let trail = try SQLiteAuditTrail(path: folder.appendingPathComponent("t.sqlite").path, durability: .normal)
        let point = DecisionPoint(plan: try Fixtures.referencePlan(), trail: trail)
        let request = try Fixtures.exampleRequests()[8]
        let threads = Task.detached {
            DispatchQueue.concurrentPerform(iterations: 4) { _ in for _ in 0..<10 { _ = point.decide([request], asOf: Self.asOf) } }
        }
        for _ in 0..<40 { _ = await point.decide([request], asOf: Self.asOf) }
        await threads.value
        #expect(try trail.records().map(\.sequence) == Array(1...80))
        #expect(try trail.verify().isIntact)
    }

    @Test func anUnwritableTrailMeansDeny() throws {
        let directory = try Fixtures.temporaryFolder("accord-point-unwritable-sync")
        let trail = try SQLiteAuditTrail(path: directory.appendingPathComponent("audit.sqlite").path)
        defer { try? FileManager.default.removeItem(at: directory) }
        try trail.queue.write {
            try $0.execute(sql: "CREATE TRIGGER disk_full BEFORE INSERT ON audit_record BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        }
        let plan = try Fixtures.referencePlan()
        let request = try Fixtures.exampleRequests()[8]
        #expect(plan.evaluate(request, asOf: Fixtures.asOf).effect == .permit)
        let decided = DecisionPoint(plan: plan, trail: trail).decide([request], asOf: Fixtures.asOf)[0]
        let (decision, record) = (decided.decision, decided.record)
        #expect(record == nil)
        #expect(decision.effect == .deny)
        #expect(decision.resources.allSatisfy { $0.effect == .deny && $0.reasons.map(\.code) == [.auditUnavailable] })
    }

    @Test func anUnwritableTrailDeniesTaskCallersAndTellsTheObserver() async throws {
        let folder = try Fixtures.temporaryFolder("accord-point-unwritable")
        defer { try? FileManager.default.removeItem(at: folder) }
        let trail = try SQLiteAuditTrail(path: folder.appendingPathComponent("t.sqlite").path, durability: .normal)
        try await trail.queue.write {
            try $0.execute(sql: "CREATE TRIGGER full BEFORE INSERT ON audit_record BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        }
        final class Seen: FailClosedObserver, @unchecked Sendable {
            let lock = NSLock()
            var failures: [(Bool, [ReasonCode])] = []
            func observe(_ decisions: [Decision], recorded: Bool) {
                lock.lock()
                failures.append((recorded, decisions.compactMap(\.failedClosed?.code)))
                lock.unlock()
            }
        }
        let seen = Seen()
        let point = DecisionPoint(plan: try Fixtures.referencePlan(), trail: trail, observer: seen)
        let decided = await point.decide([try Fixtures.exampleRequests()[8]], asOf: Self.asOf)
        #expect(decided[0].decision.effect == .deny && decided[0].record == nil)
        #expect(decided[0].decision.failedClosed?.code == .auditUnavailable)
        #expect(seen.failures.count == 1 && seen.failures[0].0 == false && seen.failures[0].1 == [.auditUnavailable])
    }
}
