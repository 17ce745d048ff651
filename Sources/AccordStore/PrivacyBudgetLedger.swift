import AccordCore
import Foundation
import GRDB

/// The privacy-budget ledger on SQLite: every epsilon spent by an aggregate, append-only, and the check that
/// a spend fits what its budget has left in the period. Spends are decided and written in one immediate
/// transaction, so concurrent spenders — threads or processes — never overspend. Amounts are kept in
/// millionths of epsilon: sums are exact, and a budget runs out exactly at its total.
public final class PrivacyBudgetLedger: Sendable {
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

    /// Spends for a decision on an `aggregate` request: for each budget its permitted resources' obligations
    /// name, one query's epsilon (the smallest the obligations allow). If a budget has too little left in the
    /// window ending at `instant`, its resources are denied with `budget.exhausted` and nothing is spent from
    /// it; if the ledger cannot be used, with `budget.unavailable`. Other decisions pass through unchanged.
    public func spend(_ decision: Decision, for request: DecisionRequest, decisionID: String?, at instant: Date = Date()) -> Decision {
        guard decision.action == "aggregate" else { return decision }
        // Budget key → (budget, epsilon, resource indices).
        var wanted: [String: (budget: PrivacyBudget, epsilon: Double, resources: [Int])] = [:]
        for (i, resource) in decision.resources.enumerated() where resource.effect == .permit {
            guard let dp = resource.obligations.differentialPrivacy, let budget = dp.budget else { continue }
            let key = key(budget, purpose: decision.purpose, subject: request.subject.id)
            var entry = wanted[key] ?? (budget, dp.epsilon, [])
            entry.epsilon = min(entry.epsilon, dp.epsilon)
            if budget.stricterThan(entry.budget) { entry.budget = budget }
            entry.resources.append(i)
            wanted[key] = entry
        }
        guard !wanted.isEmpty else { return decision }
        let now = Int64(instant.timeIntervalSince1970.rounded(.down))
        do {
            let exhausted = try queue.writeWithoutTransaction { db -> [(key: String, left: Int64)] in
                var exhausted: [(key: String, left: Int64)] = []
                try db.inTransaction(.immediate) {
                    for key in wanted.keys.sorted() {
                        let entry = wanted[key]!
                        if let left = try Self.spend(db, key: key, epsilon: entry.epsilon, from: entry.budget, now: now, decisionID: decisionID) {
                            exhausted.append((key, left))
                        }
                    }
                    return .commit
                }
                return exhausted
            }
            var result = decision
            for (key, entry) in wanted where !exhausted.contains(where: { $0.key == key }) {
                for i in entry.resources { result.resources[i].epsilonSpent = entry.epsilon }
            }
            for (key, left) in exhausted {
                let entry = wanted[key]!
                result = result.denying(Set(entry.resources), because: Reason(
                    .budgetExhausted,
                    detail: "epsilon \(entry.epsilon) asked, \(Double(max(left, 0)) / 1_000_000) left of \(entry.budget.total) per \(entry.budget.period)"))
            }
            return result
        } catch {
            let indices = Set(wanted.values.flatMap(\.resources))
            return decision.denying(indices, because: Reason(.budgetUnavailable, detail: "\(error)"))
        }
    }

    /// Epsilon left in a budget for the window ending at `instant`.
    public func remaining(_ budget: PrivacyBudget, purpose: String, subject: String, at instant: Date = Date()) throws -> Double {
        let key = key(budget, purpose: purpose, subject: subject)
        let now = Int64(instant.timeIntervalSince1970.rounded(.down))
        let spent = try queue.read { db in try Self.spent(db, key: key, since: now - budget.period.seconds) }
        return Double(Self.micro(budget.total) - spent) / 1_000_000
    }

    /// Spends `epsilon` from one budget for `purpose` (and `subject`, for a per-subject budget) if it has that
    /// much left in the window ending at `instant`; returns whether it did. Checked and written in one
    /// immediate transaction.
    public func spend(epsilon: Double, from budget: PrivacyBudget, purpose: String, subject: String, decisionID: String?,
                      at instant: Date = Date()) throws -> Bool {
        let key = key(budget, purpose: purpose, subject: subject)
        let now = Int64(instant.timeIntervalSince1970.rounded(.down))
        return try queue.writeWithoutTransaction { db in
            var spentNow = false
            try db.inTransaction(.immediate) {
                spentNow = try Self.spend(db, key: key, epsilon: epsilon, from: budget, now: now, decisionID: decisionID) == nil
                return .commit
            }
            return spentNow
        }
    }

    /// Inside an immediate transaction: spends `epsilon` from the budget under `key` if the window ending at
    /// `now` has that much left, and returns nil; otherwise spends nothing and returns what is left (millionths).
    private static func spend(_ db: Database, key: String, epsilon: Double, from budget: PrivacyBudget, now: Int64,
                              decisionID: String?) throws -> Int64? {
        let left = micro(budget.total) - (try spent(db, key: key, since: now - budget.period.seconds))
        guard micro(epsilon) <= left else { return left }
        try db.execute(sql: "INSERT INTO budget_spend (budget, micro_epsilon, spent_at, decision_id) VALUES (?, ?, ?, ?)",
                       arguments: [key, micro(epsilon), now, decisionID])
        return nil
    }

    /// Millionths of epsilon spent under `key` after `since`.
    private static func spent(_ db: Database, key: String, since: Int64) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT coalesce(sum(micro_epsilon), 0) FROM budget_spend WHERE budget = ? AND spent_at > ?",
                           arguments: [key, since]) ?? 0
    }
}
