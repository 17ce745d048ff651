import AccordCore
import AccordStore
import AccordTestSupport
import Foundation

/// The implementations each storage contract suite runs against, by name. A second backend (PostgreSQL, say)
/// adds its factories here and is then held to every case of every suite.
enum StorageBackends {
    /// Every store of one backend, opened in `folder` (which the suite removes afterwards).
    struct Stores {
        var trail: any AuditTrail
        var consent: any ConsentSource
        var budgets: any BudgetLedger
        var lineage: any LineageStore
        var features: any FeatureStore
    }

    static let names = ["sqlite"]

    static func open(_ name: String, in folder: URL) throws -> Stores {
        switch name {
        case "sqlite":
            let database = try StoreDatabase(path: folder.appendingPathComponent("accord.sqlite").path, durability: .normal)
            return Stores(
                trail: try SQLiteAuditTrail(database: database), consent: try SQLiteConsentStore(database: database),
                budgets: SQLiteBudgetLedger(database: database), lineage: SQLiteLineageStore(database: database),
                features: SQLiteFeatureStore(database: database))
        default:
            throw CorpusError("no storage backend named \(name)")
        }
    }

    /// Runs `body` on a fresh set of stores of backend `name`, in a folder removed afterwards.
    static func with<T>(_ name: String, _ body: (Stores) throws -> T) throws -> T {
        let folder = try Fixtures.temporaryFolder("accord-contract-\(name)")
        defer { try? FileManager.default.removeItem(at: folder) }
        return try body(open(name, in: folder))
    }
}
