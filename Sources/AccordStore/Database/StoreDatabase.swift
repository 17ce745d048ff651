import Foundation
import GRDB

/// One store database opened once, for every store kept in it. Stores made from it (`SQLiteAuditTrail`,
/// `SQLiteFeatureStore`, `SQLiteConsentStore`, `SQLiteBudgetLedger`, `SQLiteLineageStore`) share its one connection:
/// SQLite lets one connection write at a time anyway, and a connection that sees another's commit must drop
/// its whole page cache — so a feature read after each audit commit on a connection of its own re-reads every
/// page it touches. Stores opened by path each open their own connection (and see each other's changes too).
public final class StoreDatabase: Sendable {
    public let path: String
    public let durability: Durability
    let queue: DatabasePool
    let pseudonymizer: SubjectPseudonymizer
    let subjectKeyPath: String?
    /// Whether the file is still fit to write: once SQLite reports it damaged, nothing writes to it again.
    public let health: StoreHealth
    /// Opened for reading only (`init(readingOnly:)`): stores on it answer reads; every write fails.
    public let isReadOnly: Bool
    /// Where further read-only connections open the file (a URI when it is read as immutable).
    let readerLocation: String

    /// Opens (or creates) the database at `path`, with subject pseudonyms keyed by `<path>.subject-key` unless
    /// another key file is named. A file that fails SQLite's `quick_check` is refused (`StoreError.corrupt`).
    public init(path: String, subjectKeyPath: String? = nil, durability: Durability = .full) throws {
        self.path = path
        self.durability = durability
        self.subjectKeyPath = subjectKeyPath
        health = StoreHealth(path: path)
        isReadOnly = false
        readerLocation = path
        (queue, pseudonymizer) = try StoreMigrations.openWithSubjectKey(path: path, subjectKeyPath: subjectKeyPath, durability: durability)
    }

    /// Opens an existing database for reading only — for `verify`, `query`, `stats`, `export` and `prove`:
    /// nothing is created, migrated or written, and a copy on read-only storage reads without `-wal` or `-shm`
    /// files. Key files are read, never created.
    public init(readingOnly path: String, subjectKeyPath: String? = nil) throws {
        self.path = path
        durability = .full
        self.subjectKeyPath = subjectKeyPath
        health = StoreHealth(path: path)
        isReadOnly = true
        (queue, readerLocation) = try StoreMigrations.openReadOnly(path: path)
        pseudonymizer = SubjectPseudonymizer(key: try KeyFile.loadOrCreate(at: subjectKeyPath ?? path + ".subject-key", mayCreate: false))
    }
}

/// A store file's fitness to be written, shared by every store on it. SQLite reporting a malformed page
/// (`SQLITE_CORRUPT`, `SQLITE_NOTADB`) poisons it for the rest of the process: every later write throws
/// `StoreError.corrupt` with the first cause — so every later decision is a deny that names it — until the
/// process restarts on a good file. Writing on into a damaged b-tree could lose what is still intact.
public final class StoreHealth: @unchecked Sendable {
    public let path: String
    private let lock = NSLock()
    private var cause: String?

    init(path: String) { self.path = path }

    /// Why the file is no longer written, if it is not.
    public var poisoned: String? {
        lock.lock()
        defer { lock.unlock() }
        return cause
    }

    /// Throws if the file has been found damaged.
    func check() throws {
        if let poisoned { throw StoreError.corrupt(path: path, detail: poisoned) }
    }

    /// Notes an error from SQLite; a damaged file poisons the store. Returns the error to throw.
    @discardableResult
    func observe(_ error: Error) -> Error {
        guard let database = error as? DatabaseError, Self.meansDamage(database.resultCode) else { return error }
        lock.lock()
        if cause == nil { cause = database.message ?? "\(database.resultCode)" }
        let first = cause!
        lock.unlock()
        return StoreError.corrupt(path: path, detail: first)
    }

    static func meansDamage(_ code: ResultCode) -> Bool {
        code.primaryResultCode == .SQLITE_CORRUPT || code.primaryResultCode == .SQLITE_NOTADB
    }

    /// Runs `work`, observing its errors.
    func guarding<T>(_ work: () throws -> T) throws -> T {
        try check()
        do { return try work() } catch { throw observe(error) }
    }
}
