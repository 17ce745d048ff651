import AccordCore
import Foundation
import GRDB

/// Which training sets included whom, and which models were trained on them: the lineage that lets a
/// withdrawal or an erasure be traced to the models to retrain. Subjects are kept as keyed pseudonyms.
public final class SQLiteLineageStore: LineageStore, Sendable {
    public let path: String
    let queue: DatabasePool
    private let pseudonymizer: SubjectPseudonymizer

    public convenience init(path: String, subjectKeyPath: String? = nil, durability: Durability = .full) throws {
        try self.init(database: StoreDatabase(path: path, subjectKeyPath: subjectKeyPath, durability: durability))
    }

    /// The store in `database`, on its connection.
    public init(database: StoreDatabase) {
        path = database.path
        (queue, pseudonymizer) = (database.queue, database.pseudonymizer)
    }

    public func pseudonym(for subject: String) -> Data { pseudonymizer.pseudonym(for: subject) }

    /// Records a training set and its subjects in one transaction.
    public func record(
        trainingSet id: String, purpose: String, actor: String, revision: String, manifest: String, subjects: [String],
        at instant: Date = Date()
    ) throws {
        try queue.write { db in
            try db.execute(
                sql: "INSERT INTO training_set (id, created_at, purpose, actor, revision, manifest) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [id, Int64(instant.timeIntervalSince1970), purpose, actor, revision, manifest])
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO training_subject (pseudonym, training_set) VALUES (?, ?)")
            for subject in subjects { try insert.execute(arguments: [pseudonymizer.pseudonym(for: subject), id]) }
        }
    }

    /// Registers a model trained on a training set.
    public func register(model name: String, version: String, trainingSet id: String, at instant: Date = Date()) throws {
        try queue.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM training_set WHERE id = ?)", arguments: [id]) == true else {
                throw StoreError.unavailable("no training set \(id)")
            }
            try db.execute(
                sql: "INSERT OR IGNORE INTO model (name, version, training_set, registered_at) VALUES (?, ?, ?, ?)",
                arguments: [name, version, id, Int64(instant.timeIntervalSince1970)])
        }
    }

    /// The training sets that included the subject, oldest first, with the models trained on each.
    public func trainingSets(including subject: String) throws -> [TrainingSetEntry] {
        let pseudonym = pseudonymizer.pseudonym(for: subject)
        return try queue.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT s.id, s.created_at, s.purpose, s.actor, s.revision, s.manifest,
                           (SELECT group_concat(m.name || '@' || m.version, ' ') FROM model m WHERE m.training_set = s.id)
                    FROM training_subject t JOIN training_set s ON s.id = t.training_set
                    WHERE t.pseudonym = ? ORDER BY s.created_at, s.id
                    """, arguments: [pseudonym]
            ).map { row in
                TrainingSetEntry(
                    id: row[0], createdAt: Date(timeIntervalSince1970: Double(row[1] as Int64)), purpose: row[2], actor: row[3],
                    revision: row[4], manifest: row[5],
                    models: (String.fromDatabaseValue(row[6]) ?? "").split(separator: " ").map(String.init).sorted())
            }
        }
    }
}
