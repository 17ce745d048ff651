import AccordCore
import AccordRuntime
import AccordTestSupport
import Foundation
import Testing

@testable import AccordStore

/// The privacy-budget ledger on a real SQLite file, spending for the reference policies' aggregate rule
/// (`aggregate-analytics`: epsilon 0.5 per query, 5 per 30 days for the purpose).
@Suite struct PrivacyBudgetTests {
    static let asOf = Fixtures.asOf

    /// Example 13: u-1009 aggregates purchases_90d (permitted, with the budgeted obligation) and email (denied).
    static func aggregate(subject: String = "u-1009") throws -> DecisionRequest {
        var request = try Fixtures.exampleRequests()[12]
        request.subject.id = subject
        return request
    }

    func ledger() throws -> (URL, SQLiteBudgetLedger) {
        let folder = try Fixtures.temporaryFolder("accord-budget")
        return (folder, try SQLiteBudgetLedger(path: folder.appendingPathComponent("accord.sqlite").path, durability: .normal))
    }

    @Test func theBudgetRunsOutExactlyAtItsTotal() throws {
        let (folder, ledger) = try ledger()
        defer { try? FileManager.default.removeItem(at: folder) }
        let plan = try Fixtures.referencePlan()
        let request = try Self.aggregate()
        let decided = plan.evaluate(request, asOf: Self.asOf)
        let budget = try #require(decided.resources[0].obligations.differentialPrivacy?.budget)
        #expect(budget.total == 5 && budget.period.seconds == 30 * 86_400 && !budget.perSubject)

        for i in 0..<10 {
            let spent = ledger.spend(decided, for: request, decisionID: "q\(i)", at: Self.asOf.addingTimeInterval(Double(i)))
            #expect(spent.resources[0].effect == .permit, "query \(i + 1) of 10 fits")
            #expect(spent.resources[0].epsilonSpent == 0.5)
        }
        #expect(try ledger.remaining(budget, purpose: "analytics.aggregate", subject: "u-1009", at: Self.asOf.addingTimeInterval(10)) == 0)
        let refused = ledger.spend(decided, for: request, decisionID: "q10", at: Self.asOf.addingTimeInterval(10))
        #expect(refused.resources[0].effect == .deny)
        #expect(refused.resources[0].reasons.map(\.code) == [.budgetExhausted])
        #expect(refused.resources[0].epsilonSpent == nil)
        #expect(refused.effect == .deny)
        // The budget is per purpose: another person's aggregate for the same purpose is refused too.
        #expect(
            ledger.spend(
                plan.evaluate(try Self.aggregate(subject: "u-9"), asOf: Self.asOf), for: try Self.aggregate(subject: "u-9"),
                decisionID: "q11", at: Self.asOf.addingTimeInterval(11)
            ).resources[0].reasons.map(\.code) == [.budgetExhausted])
        // Thirty days after the first spends, they have left the window.
        let later = Self.asOf.addingTimeInterval(30 * 86_400 + 5)
        #expect(ledger.spend(decided, for: request, decisionID: "q12", at: later).resources[0].effect == .permit)
        // Requests that are not aggregates spend nothing.
        var read = request
        read.action = "read_online"
        let unchanged = plan.evaluate(read, asOf: Self.asOf)
        #expect(ledger.spend(unchanged, for: read, decisionID: "r", at: later) == unchanged)
    }

    /// Many spenders on two connections at once: exactly as many queries as the budget pays for get through.
    @Test func concurrentSpendersNeverOverspend() throws {
        let (folder, ledger) = try ledger()
        defer { try? FileManager.default.removeItem(at: folder) }
        let other = try SQLiteBudgetLedger(path: ledger.path, durability: .normal)
        let plan = try Fixtures.referencePlan()
        let request = try Self.aggregate()
        let decided = plan.evaluate(request, asOf: Self.asOf)
        final class Count: @unchecked Sendable {
            let lock = NSLock()
            var permitted = 0
        }
        let count = Count()
        let group = DispatchGroup()
        for t in 0..<8 {
            group.enter()
            Thread.detachNewThread {
                for i in 0..<5 {
                    let spent = (t % 2 == 0 ? ledger : other).spend(decided, for: request, decisionID: "t\(t)-\(i)", at: Self.asOf)
                    if spent.resources[0].effect == .permit {
                        count.lock.lock()
                        count.permitted += 1
                        count.lock.unlock()
                    }
                }
                group.leave()
            }
        }
        group.wait()
        #expect(count.permitted == 10, "40 attempts at 0.5 against a budget of 5")
        let budget = try #require(decided.resources[0].obligations.differentialPrivacy?.budget)
        #expect(try ledger.remaining(budget, purpose: "analytics.aggregate", subject: "u-1009", at: Self.asOf) == 0)
    }

    @Test func perSubjectBudgetsAreSeparateAndTheStrictestBudgetWins() throws {
        let narrow = PrivacyBudget(total: 1, period: PolicyDuration(seconds: 86_400), perSubject: true)
        let wide = PrivacyBudget(total: 10, period: PolicyDuration(seconds: 86_400))
        var a = Obligations(), b = Obligations()
        a.differentialPrivacy = DifferentialPrivacy(epsilon: 0.5, budget: wide)
        b.differentialPrivacy = DifferentialPrivacy(epsilon: 0.25, budget: narrow)
        #expect(a.combined(with: b).differentialPrivacy?.budget == narrow)
        #expect(b.combined(with: a).differentialPrivacy?.budget == narrow)
        #expect(a.combined(with: b).differentialPrivacy?.epsilon == 0.25)

        let (folder, ledger) = try ledger()
        defer { try? FileManager.default.removeItem(at: folder) }
        var decided = try Fixtures.referencePlan().evaluate(try Self.aggregate(), asOf: Self.asOf)
        decided.resources[0].obligations.differentialPrivacy = DifferentialPrivacy(epsilon: 0.5, budget: narrow)
        for subject in ["p-1", "p-2"] {
            let request = try Self.aggregate(subject: subject)
            #expect(ledger.spend(decided, for: request, decisionID: nil, at: Self.asOf).resources[0].effect == .permit)
            #expect(ledger.spend(decided, for: request, decisionID: nil, at: Self.asOf).resources[0].effect == .permit)
            #expect(
                ledger.spend(decided, for: request, decisionID: nil, at: Self.asOf).resources[0].effect == .deny,
                "\(subject)'s own budget of 1")
        }
    }

    @Test func spendsAreInTheAuditTrail() throws {
        let (folder, ledger) = try ledger()
        defer { try? FileManager.default.removeItem(at: folder) }
        let trail = try SQLiteAuditTrail(path: ledger.path, durability: .normal)
        let decider = DecisionPoint(plan: try Fixtures.referencePlan(), budgets: ledger, trail: trail)
        let outcomes = decider.decide((0..<11).map { _ in try! Self.aggregate() }, asOf: Self.asOf)
        #expect(outcomes.prefix(10).allSatisfy { $0.record?.resourceOutcomes[0].epsilonSpent == 0.5 })
        #expect(outcomes[10].decision.resources[0].reasons.map(\.code) == [.budgetExhausted])
        #expect(try trail.query(AuditQuery(reason: "budget.exhausted")).map(\.decisionID) == [outcomes[10].id])
        #expect(try trail.verify().isIntact)
    }
}

/// A batch that rolls back takes the seal keys it created with it: later records are sealed under a key that
/// is stored, so the person's records can still be exported (and erased).
@Suite struct RolledBackBatchTests {
    @Test func aFailedBatchLeavesNoPhantomSealKey() throws {
        let folder = try Fixtures.temporaryFolder("accord-rollback")
        defer { try? FileManager.default.removeItem(at: folder) }
        let trail = try SQLiteAuditTrail(path: folder.appendingPathComponent("t.sqlite").path, durability: .normal)
        let plan = try Fixtures.referencePlan()
        var request = try Fixtures.exampleRequests()[0]
        let decision = plan.evaluate(request, asOf: Fixtures.asOf)
        try trail.record(decision, for: request, decisionID: "taken")
        request.subject.id = "someone-new"
        // The new person's key is made, then the batch fails on a repeated decision id and rolls back.
        #expect(throws: (any Error).self) {
            try trail.record(batch: [
                AuditEntry(decision: decision, request: request, decisionID: "first"),
                AuditEntry(decision: decision, request: request, decisionID: "taken"),
            ])
        }
        try trail.record(decision, for: request, decisionID: "later")
        #expect(try trail.export(subject: "someone-new").map(\.decisionID) == ["later"])
        #expect(try trail.erase(subject: "someone-new") == 1)
        #expect(try trail.verify().isIntact)
    }
}
