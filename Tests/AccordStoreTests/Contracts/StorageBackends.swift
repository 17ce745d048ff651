import AccordCore
import AccordStore
import AccordTestSupport
import Foundation

/// The implementations each storage contract suite runs against, by name. A second backend (PostgreSQL, say)
/// adds its factories here and is then held to every case of every suite.
enum StorageBackends {
    static let names = ["sqlite"]

    /// Every store of backend `name`, opened in `folder` (which the suite removes afterwards).
    static func open(_ name: String, in folder: URL) throws -> Stores {
        switch name {
        case "sqlite":
            let database = try StoreDatabase(path: folder.appendingPathComponent("accord.sqlite").path, durability: .normal)
            return try Stores.sqlite(database)
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
