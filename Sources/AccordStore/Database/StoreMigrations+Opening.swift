import Foundation
import GRDB

/// Opening a store file: WAL, the durability asked for, the schema brought up to date, read-only copies, and
/// the refusals (an earlier schema, a missing subject key for existing data).
extension StoreMigrations {
    /// Opens (or creates) the store database at `path` — WAL, the durability asked for (checked after opening),
    /// freed bytes zeroed — and brings its schema up to date.
    static func open(path: String, durability: Durability) throws -> DatabasePool {
        do {
            return try openChecked(path: path, durability: durability)
        } catch let error as DatabaseError where StoreHealth.meansDamage(error.resultCode) {
            throw StoreError.corrupt(path: path, detail: error.message ?? "\(error.resultCode)")
        }
    }

    fileprivate static func openChecked(path: String, durability: Durability) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            // FULL: a commit is on disk before it returns, even across power loss (NORMAL in WAL mode is not).
            try db.execute(sql: "PRAGMA synchronous = \(durability.pragmaValue)")
            // Erased keys and terms are overwritten with zeros, not left in free pages.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            // 64 MiB for the writer, 8 for each reader.
            try db.execute(sql: "PRAGMA cache_size = \(db.configuration.readonly ? -8192 : -65536)")
            // Connections that write without the pool's writer (other processes) checkpoint the WAL every 64 MiB rather
            // than every 4: a page rewritten by many commits is copied back once. The pool's writer does not (WALCheckpointer).
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 16384")
        }
        configuration.busyMode = .timeout(10)
        configuration.maximumReaderCount = 4
        // One writer, and readers that read alongside it (WAL): a feature read does not wait for an audit commit.
        let queue = try DatabasePool(path: path, configuration: configuration)
        // A pool sets its writer to NORMAL after the preparation hook: set again, on the one connection that writes,
        // and checked, not assumed.
        let synchronous = try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = \(durability.pragmaValue)")
            // The writer's commits leave WAL checkpoints to a background thread.
            WALCheckpointer.install(on: db, path: path)
            return try Int.fetchOne(db, sql: "PRAGMA synchronous")
        }
        guard synchronous == durability.pragmaValue else {
            throw StoreError.durabilityNotGuaranteed("PRAGMA synchronous is \(synchronous ?? -1), expected \(durability.pragmaValue)")
        }
        // A damaged file is refused before anything is written to it (a quick check reads every page once).
        let check = try queue.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check(5)") }
        guard check == ["ok"] else { throw StoreError.corrupt(path: path, detail: "quick_check: " + check.joined(separator: "; ")) }
        try refuseEarlierSchema(queue)
        try migrator.migrate(queue)
        return queue
    }

    /// Opens an existing database for reading only: nothing is written, migrated or created — on read-only
    /// storage (a copy for an auditor, a snapshot) no `-wal` or `-shm` file is needed. Returns the pool and the
    /// location other read-only connections must open (a URI when the file is opened as immutable).
    static func openReadOnly(path: String) throws -> (DatabasePool, location: String) {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError.unavailable("\(path): no such database") }
        let folder = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        let shm = FileManager.default.fileExists(atPath: path + "-shm")
        let walSize = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? nil
        var location = path
        if !shm && access(folder, W_OK) != 0 {
            // Read-only storage without the shared-memory file: SQLite can read it only as immutable, and only if
            // no write-ahead log holds commits the main file lacks.
            if let walSize, walSize > 0 {
                throw StoreError.unavailable(
                    "\(path): its write-ahead log (\(path)-wal) holds commits but this read-only folder has no "
                        + "\(path)-shm; copy the database after `PRAGMA wal_checkpoint(TRUNCATE)`, or with its -shm file")
            }
            var allowed = CharacterSet.urlPathAllowed
            allowed.remove(charactersIn: "?#%")
            location = "file:" + (path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path) + "?immutable=1"
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        configuration.maximumReaderCount = 2
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = -8192") }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: location, configuration: configuration)
        } catch let error as DatabaseError where StoreHealth.meansDamage(error.resultCode) {
            throw StoreError.corrupt(path: path, detail: error.message ?? "\(error.resultCode)")
        }
        // No quick_check here: it guards against writing into a damaged file, and nothing is written through this
        // opening (a read that meets a malformed page fails with SQLite's error; `verify` checks everything anyway),
        // while on a large trail it would read the whole file before every query.
        try refuseEarlierSchema(pool)
        // A trail from before the lookup tables were made append-only (0009) still reads: verify then counts its
        // erasures without their MACs. Anything older must be brought up to date by a writing command first.
        let applied = Set(try pool.read { try migrator.appliedMigrations($0) })
        let readable = Set(migrations.map(\.name)).subtracting(["0009-append-only-lookups"])
        guard applied.isSuperset(of: readable) else {
            throw StoreError.unavailable(
                "\(path) was written by an earlier version of Accord; open it once with a command that writes "
                    + "(for example `accord audit checkpoint`) to bring its schema up to date, then read it")
        }
        return (pool, location)
    }

    /// A read-only connection to a database `open` has already brought up to date.
    static func openReader(path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = -8192") }
        return try DatabaseQueue(path: path, configuration: configuration)
    }

    /// The database, opened as `open` does, and the subject pseudonymizer keyed by `subjectKeyPath` (default
    /// `<path>.subject-key`; created only while nothing keyed by it is stored).
    static func openWithSubjectKey(path: String, subjectKeyPath: String?, durability: Durability) throws -> (
        DatabasePool, SubjectPseudonymizer
    ) {
        let queue = try open(path: path, durability: durability)
        let key = try KeyFile.loadOrCreate(at: subjectKeyPath ?? path + ".subject-key", mayCreate: !holdsData(queue))
        return (queue, SubjectPseudonymizer(key: key))
    }

    /// Whether anything keyed by the subject key has been written (records, consent events, budget spends),
    /// or — `signed` — anything the signing key vouches for (records, checkpoints). Key files may be created
    /// only before that.
    static func holdsData(_ queue: DatabasePool, signed: Bool = false) throws -> Bool {
        let sql =
            signed
            ? "SELECT EXISTS (SELECT 1 FROM audit_record) OR EXISTS (SELECT 1 FROM audit_checkpoint)"
            : "SELECT EXISTS (SELECT 1 FROM audit_record) OR EXISTS (SELECT 1 FROM consent_event) OR EXISTS (SELECT 1 FROM budget_spend) "
                + "OR EXISTS (SELECT 1 FROM training_subject)"
        return try queue.read { db in try Bool.fetchOne(db, sql: sql) ?? true }
    }

    /// A trail written by a development build before the first release (hashes as hex text, the pseudonym in
    /// the record) carries a migration with the same name but another schema: refused, not misread.
    fileprivate static func refuseEarlierSchema(_ queue: DatabasePool) throws {
        let columns = try queue.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info('audit_record')")
        }
        if columns.contains("subject") && !columns.contains("subject_seal") {
            throw StoreError.unavailable(
                "this database was written by a development build of Accord with an earlier audit-trail "
                    + "schema; start a new trail (its records cannot be verified by this version)")
        }
    }
}
