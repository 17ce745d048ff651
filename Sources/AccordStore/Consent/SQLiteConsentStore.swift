import AccordCore
import Foundation
import GRDB

/// Something a person did about their consent, as the store records it.
public struct ConsentEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Agreed to a consent scope (at a version of its text).
        case grant
        /// Took a consent back.
        case withdraw
        /// A consent lapsed (recorded by an operator or an import; scopes with `expires_after` also lapse by time).
        case expire
        /// Objected to a purpose pursued under legitimate interest (GDPR Art. 21).
        case object
        /// Opted out of a purpose, or of a purpose flag such as `sale_or_share` (CCPA §1798.120).
        case optOut = "opt_out"
    }

    public enum Source: String, Sendable, CaseIterable {
        case api, tcf, gpc, `import`
    }

    public var kind: Kind
    /// A consent scope (grant, withdraw, expire), a purpose (object), or a purpose or flag (opt-out).
    public var target: String
    /// The version of the scope's text agreed to (grants).
    public var version: Int?
    /// Given by a parent or guardian (grants, for subjects below the age of digital consent).
    public var byGuardian: Bool
    public var source: Source
    /// When the person acted.
    public var occurredAt: Date
    /// How it was collected, as JSON text: the form, the CMP, the TC string, the import file…
    public var evidence: String?

    public init(
        kind: Kind, target: String, version: Int? = nil, byGuardian: Bool = false, source: Source = .api,
        occurredAt: Date, evidence: String? = nil
    ) {
        self.kind = kind
        self.target = target
        self.version = version
        self.byGuardian = byGuardian
        self.source = source
        self.occurredAt = occurredAt
        self.evidence = evidence
    }
}

/// A consent event with its place in the store.
public struct ConsentEventRecord: Sendable, Equatable {
    public var id: Int64
    public var event: ConsentEvent
    public var recordedAt: Date
}

/// The subject's consent as of an instant, derived from their history, with the events it rests on.
public struct DerivedConsent: Sendable, Equatable {
    public var state: ConsentState
    /// The latest event considered (nil if none).
    public var lastEvent: Int64?
}

/// The consent store on SQLite: each subject's append-only history of consent events, keyed by the same
/// pseudonym as the audit trail, and the state derived from it as of any instant. Safe from any thread.
///
/// Reads are cached per subject; the cache is dropped for a subject whenever this store records for them, and
/// entirely whenever anyone else has recorded a consent event since (a counter the database keeps), so a
/// withdrawal is in force for the very next decision.
public final class SQLiteConsentStore: ConsentSource, @unchecked Sendable {
    public let path: String
    let queue: DatabasePool
    let health: StoreHealth
    /// A read-only connection of the store's own for the look-up every decision makes: a plain serial
    /// connection answers it faster than borrowing one of the pool's readers.
    private let reader: DatabaseQueue
    private let pseudonymizer: SubjectPseudonymizer
    private let lock = NSLock()
    private var histories: [Data: [ConsentEventRecord]] = [:]
    private var seenVersion: Int64 = -1

    /// Opens (or creates) the store in the database at `path` (the audit trail's, by default), with subject
    /// pseudonyms keyed by `<path>.subject-key` unless another key file is named.
    public convenience init(path: String, subjectKeyPath: String? = nil, durability: Durability = .full) throws {
        try self.init(database: StoreDatabase(path: path, subjectKeyPath: subjectKeyPath, durability: durability))
    }

    /// The store in `database`, on its connection (and a reading connection of its own).
    public init(database: StoreDatabase) throws {
        path = database.path
        health = database.health
        (queue, pseudonymizer) = (database.queue, database.pseudonymizer)
        reader = try StoreMigrations.openReader(path: database.readerLocation)
    }

    /// Records events for any subjects, in order, in one transaction: all or none.
    @discardableResult
    public func record(_ events: [(subject: String, event: ConsentEvent)], at instant: Date = Date()) throws -> [ConsentEventRecord] {
        let recordedAt = Date(timeIntervalSince1970: instant.timeIntervalSince1970.rounded(.down))
        let pseudonyms = events.map { pseudonymizer.pseudonym(for: $0.subject) }
        var versionBefore: Int64 = 0
        let records = try health.guarding {
            try queue.write { db -> [ConsentEventRecord] in
                let before = try Int64.fetchOne(db, sql: "SELECT n FROM consent_version") ?? 0
                defer { versionBefore = before }
                let insert = try db.cachedStatement(
                    sql: """
                        INSERT INTO consent_event (subject, kind, target, version, by_guardian, source, occurred_at, recorded_at, evidence)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """)
                return try zip(events, pseudonyms).map { item, pseudonym in
                    let event = item.event
                    try insert.execute(arguments: [
                        pseudonym, event.kind.rawValue, event.target, event.version, event.byGuardian,
                        event.source.rawValue, Int64(event.occurredAt.timeIntervalSince1970.rounded(.down)),
                        Int64(recordedAt.timeIntervalSince1970), event.evidence,
                    ])
                    var stored = event
                    stored.occurredAt = Date(timeIntervalSince1970: event.occurredAt.timeIntervalSince1970.rounded(.down))
                    return ConsentEventRecord(id: db.lastInsertedRowID, event: stored, recordedAt: recordedAt)
                }
            }
        }
        lock.lock()
        for pseudonym in pseudonyms { histories[pseudonym] = nil }
        // Only our own events since the last look: the rest of the cache is still good.
        if versionBefore == seenVersion { seenVersion += Int64(records.count) }
        lock.unlock()
        return records
    }

    /// Consent events that occurred in `[from, to)`, by kind (`grant`, `withdraw`, `expire`, `object`, `opt_out`)
    /// and target: what a privacy impact assessment reports about consent in practice.
    public func eventCounts(from: Date? = nil, to: Date? = nil) throws -> [(kind: String, target: String, events: Int)] {
        let lower = from.map { Int64($0.timeIntervalSince1970.rounded(.up)) } ?? .min
        let upper = to.map { Int64($0.timeIntervalSince1970.rounded(.up)) } ?? .max
        return try reader.inDatabase { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT kind, target, count(*) FROM consent_event WHERE occurred_at >= ? AND occurred_at < ? GROUP BY 1, 2 ORDER BY 1, 2
                    """, arguments: [lower, upper]
            ).map { ($0[0], $0[1], $0[2]) }
        }
    }

    /// Every event recorded for the subject, in the order they occurred (ties in the order recorded).
    public func history(subject: String) throws -> [ConsentEventRecord] {
        let pseudonym = pseudonymizer.pseudonym(for: subject)
        // Outside a transaction: two statements in autocommit cost less than BEGIN and COMMIT around them, and
        // an event recorded in between only makes the next look drop the cache once more.
        return try reader.inDatabase { db in
            let version = try Int64.fetchOne(db.cachedStatement(sql: "SELECT n FROM consent_version")) ?? 0
            lock.lock()
            if version != seenVersion {
                histories.removeAll()
                seenVersion = version
            }
            let cached = histories[pseudonym]
            lock.unlock()
            if let cached { return cached }
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT id, kind, target, version, by_guardian, source, occurred_at, recorded_at, evidence FROM consent_event
                        WHERE subject = ? ORDER BY occurred_at, id
                        """), arguments: [pseudonym])
            let history = try rows.map(Self.record)
            // Cached only if no event was recorded from before the first look to after the read (the rows then
            // belong to `version`) and no one has moved the cache on since: a stale history is never kept.
            let after = try Int64.fetchOne(db.cachedStatement(sql: "SELECT n FROM consent_version")) ?? 0
            lock.lock()
            if after == version && seenVersion == version {
                if histories.count >= 100_000 { histories.removeAll() }
                histories[pseudonym] = history
            }
            lock.unlock()
            return history
        }
    }

    static func record(_ row: Row) throws -> ConsentEventRecord {
        guard let kind = ConsentEvent.Kind(rawValue: row[1]), let source = ConsentEvent.Source(rawValue: row[5]) else {
            throw StoreError.corruptIndex("consent event \(row[0] as Int64) has an unknown kind or source")
        }
        return ConsentEventRecord(
            id: row[0],
            event: ConsentEvent(
                kind: kind, target: row[2], version: row[3], byGuardian: row[4], source: source,
                occurredAt: Date(timeIntervalSince1970: Double(row[6] as Int64)), evidence: row[8]),
            recordedAt: Date(timeIntervalSince1970: Double(row[7] as Int64)))
    }

    /// The subject's consent as of `instant`: the events that occurred by then, folded in order. A grant
    /// stands until withdrawn or expired (and the plan also lapses it by the scope's `expires_after`);
    /// objections and opt-outs stand once made.
    public func consent(subject: String, asOf instant: Date) throws -> DerivedConsent {
        Self.fold(try health.guarding { try history(subject: subject) }, asOf: instant)
    }

    static func fold(_ history: [ConsentEventRecord], asOf instant: Date) -> DerivedConsent {
        var grants: [String: ConsentGrant] = [:]
        var order: [String] = []
        var objections: [String] = [], optOuts: [String] = []
        var last: Int64?
        for record in history where record.event.occurredAt <= instant {
            let event = record.event
            last = record.id
            switch event.kind {
            case .grant:
                if grants[event.target] == nil { order.append(event.target) }
                grants[event.target] = ConsentGrant(
                    scope: event.target, version: event.version ?? 1, grantedAt: event.occurredAt,
                    byGuardian: event.byGuardian, event: record.id)
            case .withdraw, .expire:
                grants[event.target] = nil
            case .object:
                if !objections.contains(event.target) { objections.append(event.target) }
            case .optOut:
                if !optOuts.contains(event.target) { optOuts.append(event.target) }
            }
        }
        return DerivedConsent(
            state: ConsentState(grants: order.compactMap { grants[$0] }, objections: objections, optOuts: optOuts),
            lastEvent: last)
    }

    /// Records what a TC string says about the scopes mapped to TCF purposes (`tcf_purposes`): a grant of each
    /// scope whose purposes were all consented to, at the scope's current version, and a withdrawal of each
    /// that was not — the string is the person's whole current choice. Dated when it is recorded: the string's
    /// own dates are set by the client (and often rounded to the day), so they are kept as evidence but never
    /// allowed to place the choice before, or after, events recorded since.
    @discardableResult
    public func record(_ tc: TCString, raw: String, subject: String, scopes: [ConsentScope], at instant: Date = Date()) throws
        -> [ConsentEventRecord]
    {
        let granted = Set(tc.grantedScopes(in: scopes).map(\.id))
        let evidence = JSONValue.object([
            ("tc_string", .string(raw)), ("last_updated", .string(Timestamps.format(tc.lastUpdated))),
            ("cmp_id", .int(tc.cmpID)), ("cmp_version", .int(tc.cmpVersion)),
            ("vendor_list_version", .int(tc.vendorListVersion)),
            ("tcf_policy_version", .int(tc.policyVersion)),
        ]).serialized()
        let events = scopes.filter { !$0.tcfPurposes.isEmpty }.sorted { $0.id < $1.id }.map { scope in
            ConsentEvent(
                kind: granted.contains(scope.id) ? .grant : .withdraw, target: scope.id,
                version: granted.contains(scope.id) ? scope.version : nil, source: .tcf, occurredAt: instant,
                evidence: evidence)
        }
        return try record(events, subject: subject, at: instant)
    }
}
