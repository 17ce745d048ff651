import Foundation
import GRDB

/// One store database opened once, for every store kept in it. Stores made from it (`SQLiteAuditTrail`,
/// `SQLiteFeatureStore`, `ConsentStore`, `PrivacyBudgetLedger`, `LineageStore`) share its one connection:
/// SQLite lets one connection write at a time anyway, and a connection that sees another's commit must drop
/// its whole page cache — so a feature read after each audit commit on a connection of its own re-reads every
/// page it touches. Stores opened by path each open their own connection (and see each other's changes too).
public final class StoreDatabase: Sendable {
    public let path: String
    public let durability: Durability
    let queue: DatabasePool
    let pseudonymizer: SubjectPseudonymizer
    let subjectKeyPath: String?

    /// Opens (or creates) the database at `path`, with subject pseudonyms keyed by `<path>.subject-key` unless
    /// another key file is named.
    public init(path: String, subjectKeyPath: String? = nil, durability: Durability = .full) throws {
        self.path = path
        self.durability = durability
        self.subjectKeyPath = subjectKeyPath
        (queue, pseudonymizer) = try StoreMigrations.openWithSubjectKey(path: path, subjectKeyPath: subjectKeyPath, durability: durability)
    }
}
