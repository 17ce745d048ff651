import AccordCore
import Foundation
import GRDB

/// The privacy-budget ledger on SQLite: every epsilon spent by an aggregate, append-only, and the check that
/// a spend fits what its budget has left in the period. Spends are decided and written in one immediate
/// transaction, so concurrent spenders — threads or processes — never overspend. Amounts are kept in
/// millionths of epsilon: sums are exact, and a budget runs out exactly at its total.
public final class SQLiteBudgetLedger: BudgetLedger, Sendable {
    public let path: String
    let queue: DatabasePool
    private let pseudonymizer: SubjectPseudonymizer

    public convenience init(path: String, subjectKeyPath: String? = nil, durability: Durability = .full) throws {
        try self.init(database: StoreDatabase(path: path, subjectKeyPath: subjectKeyPath, durability: durability))
    }

    /// The ledger in `database`, on its connection.
    public init(database: StoreDatabase) {
        path = database.path
        (queue, pseudonymizer) = (database.queue, database.pseudonymizer)
    }

    static func micro(_ epsilon: Double) -> Int64 { Int64((epsilon * 1_000_000).rounded()) }

    /// The budget a request spends from: its purpose, and with `per: subject` its subject's pseudonym.
    func key(_ budget: PrivacyBudget, purpose: String, subject: String) -> String {
        budget.perSubject ? purpose + "#" + pseudonymizer.pseudonym(for: subject).hexString : purpose
    }

    /// Spends each charge that fits what its budget has left in the window ending at `instant`, all in one
    /// immediate transaction (charges on the same budget are checked in the order given, each seeing the ones
    /// before it); returns per charge nil when spent, or the epsilon that was left when it did not fit.
    public func spend(_ charges: [BudgetCharge], decisionID: String?, at instant: Date = Date()) throws -> [Double?] {
        guard !charges.isEmpty else { return [] }
        let now = Int64(instant.timeIntervalSince1970.rounded(.down))
        let keys = charges.map { key($0.budget, purpose: $0.purpose, subject: $0.subject) }
        return try queue.writeWithoutTransaction { db in
            var outcome: [Double?] = []
            try db.inTransaction(.immediate) {
                outcome = try zip(charges, keys).map { charge, key in
                    try Self.spend(db, key: key, epsilon: charge.epsilon, from: charge.budget, now: now, decisionID: decisionID)
                        .map { Double(max($0, 0)) / 1_000_000 }
                }
                return .commit
            }
            return outcome
        }
    }

    /// Epsilon left in a budget for the window ending at `instant`.
    public func remaining(_ budget: PrivacyBudget, purpose: String, subject: String, at instant: Date = Date()) throws -> Double {
        let key = key(budget, purpose: purpose, subject: subject)
        let now = Int64(instant.timeIntervalSince1970.rounded(.down))
        let spent = try queue.read { db in try Self.spent(db, key: key, since: now - budget.period.seconds) }
        return Double(Self.micro(budget.total) - spent) / 1_000_000
    }

    /// Inside an immediate transaction: spends `epsilon` from the budget under `key` if the window ending at
    /// `now` has that much left, and returns nil; otherwise spends nothing and returns what is left (millionths).
    private static func spend(
        _ db: Database, key: String, epsilon: Double, from budget: PrivacyBudget, now: Int64,
        decisionID: String?
    ) throws -> Int64? {
        let left = micro(budget.total) - (try spent(db, key: key, since: now - budget.period.seconds))
        guard micro(epsilon) <= left else { return left }
        try db.execute(
            sql: "INSERT INTO budget_spend (budget, micro_epsilon, spent_at, decision_id) VALUES (?, ?, ?, ?)",
            arguments: [key, micro(epsilon), now, decisionID])
        return nil
    }

    /// Millionths of epsilon spent under `key` after `since`.
    private static func spent(_ db: Database, key: String, since: Int64) throws -> Int64 {
        try Int64.fetchOne(
            db, sql: "SELECT coalesce(sum(micro_epsilon), 0) FROM budget_spend WHERE budget = ? AND spent_at > ?",
            arguments: [key, since]) ?? 0
    }
}
