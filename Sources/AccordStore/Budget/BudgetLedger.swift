import AccordCore
import Foundation

/// One spend asked of a privacy budget: `epsilon` for `purpose` (and, for a per-subject budget, `subject`).
public struct BudgetCharge: Sendable, Equatable {
    public var budget: PrivacyBudget
    public var purpose: String
    /// Whose budget, for `per: subject` budgets (ignored otherwise).
    public var subject: String
    public var epsilon: Double

    public init(budget: PrivacyBudget, purpose: String, subject: String, epsilon: Double) {
        self.budget = budget
        self.purpose = purpose
        self.subject = subject
        self.epsilon = epsilon
    }
}

/// The privacy-budget ledger: every epsilon spent, append-only, and the check that a spend fits what its
/// budget has left in the period. The SQLite implementation is `SQLiteBudgetLedger`; any other backend passes
/// the same contract suite (`BudgetLedgerContract`).
///
/// The contract, for every implementation:
/// - **Never over the cap.** A charge is spent only if the budget's window ending at the instant has that much
///   left, checked and written atomically — concurrent spenders, threads or processes, never overspend.
/// - **Never a lost spend.** A charge reported spent is stored before `spend` returns.
/// - **All in one transaction.** The charges of one call are decided and written together; a charge that does
///   not fit spends nothing and leaves the others of the call alone.
/// - **Exact.** Amounts are kept in millionths of epsilon, so a budget runs out exactly at its total.
public protocol BudgetLedger: Sendable {
    /// Spends each charge that fits; returns per charge nil when spent, or the epsilon that was left when it did not fit.
    func spend(_ charges: [BudgetCharge], decisionID: String?, at instant: Date) throws -> [Double?]
    /// Epsilon left in a budget for the window ending at `instant`.
    func remaining(_ budget: PrivacyBudget, purpose: String, subject: String, at instant: Date) throws -> Double
}

extension BudgetLedger {
    /// Spends one charge if it fits; returns whether it did.
    public func spend(
        epsilon: Double, from budget: PrivacyBudget, purpose: String, subject: String, decisionID: String?,
        at instant: Date = Date()
    ) throws -> Bool {
        try spend(
            [BudgetCharge(budget: budget, purpose: purpose, subject: subject, epsilon: epsilon)], decisionID: decisionID, at: instant)[0]
            == nil
    }
}
