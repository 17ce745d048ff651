import AccordCore
import Foundation
import GRDB

/// One feature value, typed as a feature store keeps it.
public enum FeatureValue: Sendable, Hashable, CustomStringConvertible {
    case int(Int64)
    case double(Double)
    case string(String)
    case bool(Bool)

    var typeName: String {
        switch self {
        case .int: "int"
        case .double: "double"
        case .string: "string"
        case .bool: "bool"
        }
    }

    public var description: String {
        switch self {
        case .int(let value): String(value)
        case .double(let value): String(value)
        case .string(let value): value
        case .bool(let value): String(value)
        }
    }

    public var json: JSONValue {
        switch self {
        case .int(let value): .int(Int(value))
        case .double(let value): .double(value)
        case .string(let value): .string(value)
        case .bool(let value): .bool(value)
        }
    }
}

/// A value of one feature for one entity, as of its event time — the layout a Feast user knows (entity key,
/// feature, value, event timestamp).
public struct FeatureRow: Sendable, Hashable {
    public var entity: String
    public var feature: String
    public var value: FeatureValue
    /// When the value was true in the world (what retention limits count from).
    public var eventTime: Date

    public init(entity: String, feature: String, value: FeatureValue, eventTime: Date) {
        self.entity = entity
        self.feature = feature
        self.value = value
        self.eventTime = eventTime
    }
}

/// Where feature values live. The gate reads through this; the embedded SQLite store is the default.
public protocol FeatureStore: Sendable {
    /// Stores rows (a row for the same entity, feature and event time replaces the earlier one).
    func write(_ rows: [FeatureRow]) throws
    /// The latest value of each feature for each entity as of `instant` (absent when there is none).
    func online(entities: [String], features: [String], asOf instant: Date) throws -> [FeatureRow]
    /// Every value of the features for the entities with an event time in `[from, to)`, oldest first.
    func historical(entities: [String], features: [String], from: Date, to: Date) throws -> [FeatureRow]
    /// Deletes every value of an entity; returns how many.
    func delete(entity: String) throws -> Int
    /// What the store holds for one entity, per feature: how many values and the span of their event times.
    func held(entity: String) throws -> [(feature: String, values: Int, oldest: Date, newest: Date)]
    /// For one feature, the entities with values older than `cutoff`, and how many each (retention).
    func expired(feature: String, before cutoff: Date) throws -> [(entity: String, rows: Int)]
    /// Deletes (or, with `anonymise`, unlinks) one feature's values older than `cutoff` for `entities`; returns
    /// how many rows.
    func purge(feature: String, before cutoff: Date, entities: [String], anonymise: Bool) throws -> Int
}

/// The embedded feature store on SQLite (in the same database as the audit trail by default).
public final class SQLiteFeatureStore: FeatureStore, Sendable {
    public let path: String
    let queue: DatabasePool

    public init(path: String, durability: Durability = .full) throws {
        self.path = path
        queue = try StoreMigrations.open(path: path, durability: durability)
    }

    /// The store in `database`, on its connection.
    public init(database: StoreDatabase) {
        path = database.path
        queue = database.queue
    }

    public func write(_ rows: [FeatureRow]) throws {
        try queue.write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO feature_value (entity_key, feature, event_timestamp, value, value_type, created_timestamp)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """)
            let now = Int64(Date().timeIntervalSince1970)
            for row in rows {
                let stored: DatabaseValueConvertible =
                    switch row.value {
                    case .int(let value): value
                    case .double(let value): value
                    case .string(let value): value
                    case .bool(let value): value ? 1 : 0
                    }
                try insert.execute(arguments: [
                    row.entity, row.feature, Int64(row.eventTime.timeIntervalSince1970.rounded(.down)), stored,
                    row.value.typeName, now,
                ])
            }
        }
    }

    public func online(entities: [String], features: [String], asOf instant: Date) throws -> [FeatureRow] {
        let at = Int64(instant.timeIntervalSince1970.rounded(.down))
        return try queue.read { db in
            let latest = try RawStatement(
                db,
                """
                SELECT event_timestamp, value, value_type FROM feature_value
                WHERE entity_key = ? AND feature = ? AND event_timestamp <= ? ORDER BY event_timestamp DESC LIMIT 1
                """)
            var rows: [FeatureRow] = []
            rows.reserveCapacity(entities.count * features.count)
            for entity in entities {
                for feature in features {
                    try latest.rows(
                        db,
                        { s in
                            s.bind(entity); s.bind(feature); s.bind(at)
                        }
                    ) { columns in
                        rows.append(
                            FeatureRow(
                                entity: entity, feature: feature, value: try Self.value(columns, 1),
                                eventTime: Date(timeIntervalSince1970: Double(columns.int64(0)))))
                    }
                }
            }
            return rows
        }
    }

    public func historical(entities: [String], features: [String], from: Date, to: Date) throws -> [FeatureRow] {
        let (start, end) = (Int64(from.timeIntervalSince1970.rounded(.up)), Int64(to.timeIntervalSince1970.rounded(.up)))
        // Features by rank in name order, entities likewise: the result is sorted on integers, not strings.
        let featureRank = Dictionary(Set(features).sorted().enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let entities = Array(Set(entities)).sorted()
        return try queue.read { db in
            // One range scan per entity over its primary-key prefix, features filtered here: far fewer statements
            // than one per entity and feature.
            let range = try RawStatement(
                db,
                """
                SELECT feature, event_timestamp, value, value_type FROM feature_value
                WHERE entity_key = ? AND event_timestamp >= ? AND event_timestamp < ?
                """)
            var found: [(time: Int64, entity: Int32, feature: Int32, value: FeatureValue)] = []
            for (e, entity) in entities.enumerated() {
                try range.rows(
                    db,
                    { s in
                        s.bind(entity); s.bind(start); s.bind(end)
                    }
                ) { columns in
                    guard let f = featureRank[columns.text(0)] else { return }
                    found.append((columns.int64(1), Int32(e), Int32(f), try Self.value(columns, 2)))
                }
            }
            found.sort { ($0.time, $0.entity, $0.feature) < ($1.time, $1.entity, $1.feature) }
            let names = featureRank.sorted { $0.value < $1.value }.map(\.key)
            return found.map {
                FeatureRow(
                    entity: entities[Int($0.entity)], feature: names[Int($0.feature)], value: $0.value,
                    eventTime: Date(timeIntervalSince1970: Double($0.time)))
            }
        }
    }

    /// The value in columns `column` (value) and `column + 1` (its type).
    static func value(_ columns: RawStatement.Columns, _ column: Int32) throws -> FeatureValue {
        switch columns.firstByte(column + 1) {
        case UInt8(ascii: "i"): .int(columns.int64(column))
        case UInt8(ascii: "d"): .double(columns.double(column))
        case UInt8(ascii: "s"): .string(columns.text(column))
        case UInt8(ascii: "b"): .bool(columns.int64(column) != 0)
        default: throw StoreError.corruptIndex("a feature value of unknown type")
        }
    }

    public func delete(entity: String) throws -> Int {
        try queue.write { db in
            try db.execute(sql: "DELETE FROM feature_value WHERE entity_key = ?", arguments: [entity])
            return db.changesCount
        }
    }

    /// What the store holds for one entity, per feature: how many values and the span of their event times (an
    /// access request's answer to "what data do you hold about me").
    public func held(entity: String) throws -> [(feature: String, values: Int, oldest: Date, newest: Date)] {
        try queue.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT feature, count(*), min(event_timestamp), max(event_timestamp) FROM feature_value WHERE entity_key = ?
                    GROUP BY feature ORDER BY feature
                    """, arguments: [entity]
            ).map { row in
                (row[0], row[1], Date(timeIntervalSince1970: Double(row[2] as Int64)), Date(timeIntervalSince1970: Double(row[3] as Int64)))
            }
        }
    }

    /// For one feature, the entities with values older than `cutoff`, and how many each.
    public func expired(feature: String, before cutoff: Date) throws -> [(entity: String, rows: Int)] {
        try queue.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT entity_key, count(*) FROM feature_value WHERE feature = ? AND event_timestamp < ? AND entity_key NOT GLOB 'anon:*'
                    GROUP BY entity_key ORDER BY entity_key
                    """, arguments: [feature, Int64(cutoff.timeIntervalSince1970.rounded(.down))]
            ).map { ($0[0], $0[1]) }
        }
    }

    /// Deletes one feature's values older than `cutoff` for `entities` (those whose purge was recorded) — or,
    /// with `anonymise`, gives each a random entity key of its own and keeps only the day of its event time,
    /// so that it can still be counted but no longer tied to anyone by key or by an exact shared timestamp.
    /// Returns how many rows.
    public func purge(feature: String, before cutoff: Date, entities: [String], anonymise: Bool) throws -> Int {
        try queue.write { db in
            let limit = Int64(cutoff.timeIntervalSince1970.rounded(.down))
            var changed = 0
            for entity in entities {
                if anonymise {
                    try db.execute(
                        sql: """
                            UPDATE OR REPLACE feature_value SET entity_key = 'anon:' || lower(hex(randomblob(12))),
                                event_timestamp = event_timestamp - event_timestamp % 86400, created_timestamp = 0
                            WHERE feature = ? AND event_timestamp < ? AND entity_key = ?
                            """, arguments: [feature, limit, entity])
                } else {
                    try db.execute(
                        sql: "DELETE FROM feature_value WHERE feature = ? AND event_timestamp < ? AND entity_key = ?",
                        arguments: [feature, limit, entity])
                }
                changed += db.changesCount
            }
            return changed
        }
    }
}
