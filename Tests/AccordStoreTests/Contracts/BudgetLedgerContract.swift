import AccordCore
import AccordStore
import AccordTestSupport
import Foundation
import Testing

/// `BudgetLedger`'s contract (Sources/AccordStore/Budget/BudgetLedger.swift), for every backend.
@Suite struct BudgetLedgerContract {
    static let asOf = Date(timeIntervalSince1970: 1_780_000_000)
    static let budget = PrivacyBudget(total: 1, period: PolicyDuration(seconds: 30 * 86_400))

    @Test(arguments: StorageBackends.names) func neverSpendsPastTheTotal(backend: String) throws {
        try StorageBackends.with(backend) { stores in
            let charge = BudgetCharge(budget: Self.budget, purpose: "analytics.aggregate", subject: "u-1", epsilon: 0.4)
            #expect(try stores.budgets.spend([charge], decisionID: "a", at: Self.asOf) == [nil])
            #expect(try stores.budgets.spend([charge], decisionID: "b", at: Self.asOf) == [nil])
            let third = try stores.budgets.spend([charge], decisionID: "c", at: Self.asOf)
            #expect(third.count == 1 && abs((third[0] ?? -1) - 0.2) < 1e-9, "refused, with what was left")
            #expect(
                abs(try stores.budgets.remaining(Self.budget, purpose: "analytics.aggregate", subject: "u-1", at: Self.asOf) - 0.2) < 1e-9)
        }
    }

    @Test(arguments: StorageBackends.names) func aChargeThatDoesNotFitLeavesTheOthersOfItsCallAlone(backend: String) throws {
        try StorageBackends.with(backend) { stores in
            let big = BudgetCharge(budget: Self.budget, purpose: "analytics.aggregate", subject: "", epsilon: 1.5)
            let small = BudgetCharge(budget: Self.budget, purpose: "ads.measurement", subject: "", epsilon: 0.5)
            let outcome = try stores.budgets.spend([big, small], decisionID: "x", at: Self.asOf)
            #expect(outcome[0] == 1 && outcome[1] == nil)
            #expect(try stores.budgets.remaining(Self.budget, purpose: "analytics.aggregate", subject: "", at: Self.asOf) == 1)
            #expect(try stores.budgets.remaining(Self.budget, purpose: "ads.measurement", subject: "", at: Self.asOf) == 0.5)
        }
    }

    @Test(arguments: StorageBackends.names) func perSubjectBudgetsAreEachPersonsOwn(backend: String) throws {
        try StorageBackends.with(backend) { stores in
            let perSubject = PrivacyBudget(total: 1, period: PolicyDuration(seconds: 86_400), perSubject: true)
            func spend(_ subject: String, at instant: Date = Self.asOf) throws -> Bool {
                try stores.budgets.spend(epsilon: 1, from: perSubject, purpose: "p", subject: subject, decisionID: nil, at: instant)
            }
            let first = try spend("u-1"), again = try spend("u-1"), other = try spend("u-2")
            // The window moves on: a day later the first person's budget is whole again.
            let later = try spend("u-1", at: Self.asOf.addingTimeInterval(86_401))
            #expect(first && !again && other && later)
        }
    }

    @Test(arguments: StorageBackends.names) func concurrentSpendersNeverOverspend(backend: String) throws {
        try StorageBackends.with(backend) { stores in
            let budget = PrivacyBudget(total: 2, period: PolicyDuration(seconds: 86_400))
            final class Count: @unchecked Sendable {
                let lock = NSLock()
                var spent = 0
            }
            let count = Count()
            let ledger = stores.budgets
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                for _ in 0..<10 {
                    let spent =
                        (try? ledger.spend(epsilon: 0.1, from: budget, purpose: "p", subject: "", decisionID: nil, at: Self.asOf)) ?? false
                    guard spent else { continue }
                    count.lock.lock()
                    count.spent += 1
                    count.lock.unlock()
                }
            }
            #expect(count.spent == 20, "80 asked, exactly 2.0 / 0.1 granted")
            let left = try ledger.remaining(budget, purpose: "p", subject: "", at: Self.asOf)
            #expect(left == 0)
        }
    }
}
