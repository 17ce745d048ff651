import AccordCore
import Foundation
import GRDB

/// A filter over the trail. Every field narrows; an empty query matches everything. Results come newest first.
public struct AuditQuery: Sendable, Equatable {
    /// Recorded at or after.
    public var from: Date?
    /// Recorded before.
    public var to: Date?
    /// The clear subject id: pseudonymised with the trail's key to search, never stored.
    public var subject: String?
    /// A purpose and every purpose below it (`ads` matches `ads.targeting`).
    public var purpose: String?
    public var action: String?
    /// `permit`, `deny` or `partial`.
    public var effect: String?
    /// A rule id that decided some resource.
    public var rule: String?
    /// A reason code given for some resource.
    public var reason: String?
    public var actor: String?
    /// A policy revision, or a prefix of one.
    public var revision: String?
    public var decisionID: String?
    /// At most this many records; nil for all.
    public var limit: Int?

    public init(
        from: Date? = nil, to: Date? = nil, subject: String? = nil, purpose: String? = nil, action: String? = nil,
        effect: String? = nil, rule: String? = nil, reason: String? = nil, actor: String? = nil, revision: String? = nil,
        decisionID: String? = nil, limit: Int? = nil
    ) {
        self.from = from
        self.to = to
        self.subject = subject
        self.purpose = purpose
        self.action = action
        self.effect = effect
        self.rule = rule
        self.reason = reason
        self.actor = actor
        self.revision = revision
        self.decisionID = decisionID
        self.limit = limit
    }

    /// Conditions on the record's own columns, in SQL over `audit_record r`.
    func columnConditions(within bounds: (lower: Int64, upper: Int64)?) -> (sql: String, arguments: StatementArguments) {
        var conditions = ["1 = 1"]
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let bounds {
            conditions.append("r.sequence BETWEEN ? AND ?")
            arguments += [bounds.lower, bounds.upper]
        }
        if let purpose {
            // '/' is the character after '.': the range holds exactly the names below `purpose`.
            conditions.append("(r.purpose = ? OR (r.purpose > ? AND r.purpose < ?))")
            arguments += [purpose, purpose + ".", purpose + "/"]
        }
        for (column, value) in [("action", action), ("effect", effect), ("actor", actor), ("decision_id", decisionID)] {
            guard let value else { continue }
            conditions.append("r.\(column) = ?")
            arguments.append(value)
        }
        if let revision {
            conditions.append("substr(r.revision, 1, ?) = ?")
            arguments += [revision.utf8.count, revision]
        }
        return (conditions.joined(separator: " AND "), StatementArguments(arguments))
    }

    /// What the columns do not show: reason codes and rule ids inside the resources.
    func matchesResources(_ record: AuditRecord) -> Bool {
        guard reason != nil || rule != nil else { return true }
        let outcomes = record.resourceOutcomes
        if let reason, !outcomes.contains(where: { $0.reasons.contains(reason) }) { return false }
        if let rule, !outcomes.contains(where: { $0.rules.contains(rule) }) { return false }
        return true
    }

    /// The posting term that drives the search when there is no subject: the one likely to match least.
    /// A revision prefix cannot drive (postings hold whole revisions); it is checked on the candidates.
    var drivingTerm: String? {
        let candidates: [(TermKey.Kind, String?)] = [
            (.rule, rule), (.reason, reason), (.actor, actor), (.purpose, purpose),
            (.action, action), (.effect, effect),
        ]
        return candidates.lazy.compactMap { kind, value in value.map { TermKey(kind, $0).text } }.first
    }
}

/// A summary of a window of the trail.
public struct AuditStats: Sendable, Equatable {
    public struct PurposeCount: Sendable, Equatable {
        public var purpose: String
        public var permit: Int
        public var partial: Int
        public var deny: Int
        public var total: Int { permit + partial + deny }
    }

    public var records: Int
    public var first: Date?
    public var last: Date?
    public var byPurpose: [PurposeCount]
    /// Reason codes by how many records gave them (each counted once per record), most frequent first.
    public var topReasons: [(code: String, records: Int)]
    public var checkpoints: Int
    public var erasures: Int
    /// Records written by retention purges (`AuditRecord.Kind.retentionPurge`): counted here, not as decisions.
    public var retentionPurges: Int = 0
    /// Decisions about uses of personal data: `records` less the purge records.
    public var decisions: Int { records - retentionPurges }

    public static func == (lhs: AuditStats, rhs: AuditStats) -> Bool {
        lhs.records == rhs.records && lhs.first == rhs.first && lhs.last == rhs.last && lhs.byPurpose == rhs.byPurpose
            && lhs.topReasons.map(\.code) == rhs.topReasons.map(\.code) && lhs.topReasons.map(\.records) == rhs.topReasons.map(\.records)
            && lhs.checkpoints == rhs.checkpoints && lhs.erasures == rhs.erasures && lhs.retentionPurges == rhs.retentionPurges
    }
}

extension SQLiteAuditTrail {
    /// Records matching `query`, newest first. A subject goes through its index, a decision id through its
    /// unique index, a term (rule, reason, actor, purpose) through its postings; every other filter is checked
    /// on the candidate records. Reading stops at the limit.
    public func query(_ query: AuditQuery) throws -> [AuditRecord] {
        try queue.read { db in
            let bounds = try Self.sequences(db, from: query.from, to: query.to)
            if let bounds, bounds.lower > bounds.upper { return [] }
            let limit = query.limit ?? .max
            let (conditions, arguments) = query.columnConditions(within: bounds)
            var found: [AuditRecord] = []
            func take(_ sql: String, _ arguments: StatementArguments) throws {
                let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
                while found.count < limit, let row = try rows.next() {
                    let record = Self.record(row)
                    if query.matchesResources(record) { found.append(record) }
                }
            }
            let columns = Self.columns.split(separator: ",").map { "r." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
            /// Candidates newest first, fetched a few hundred at a time with the column filters applied.
            func take(candidates: [Int64]) throws {
                for start in stride(from: 0, to: candidates.count, by: 500) where found.count < limit {
                    let chunk = candidates[start..<min(start + 500, candidates.count)].map(String.init).joined(separator: ",")
                    try take(
                        "SELECT \(columns) FROM audit_record r WHERE r.sequence IN (\(chunk)) AND \(conditions) ORDER BY r.sequence DESC",
                        arguments)
                }
            }
            func inside(_ sequence: Int64) -> Bool { bounds.map { $0.lower <= sequence && sequence <= $0.upper } ?? true }
            switch strategy(for: query) {
            case .subject:
                try take(candidates: try Self.sealedSequences(db, pseudonym: pseudonym(for: query.subject!)).filter(inside))
            case .postings(let term):
                // Pending postings first: they are all newer than any in audit_term.
                var pending: [Int64] = []
                for (found, sequences) in try Self.pendingPostings(db, from: bounds?.lower ?? 0) where found == term {
                    pending.append(contentsOf: sequences)
                }
                try take(candidates: pending.sorted(by: >).filter(inside))
                let postings = try Row.fetchCursor(
                    db, sql: "SELECT sequences FROM audit_term WHERE term = ? AND last_sequence >= ? ORDER BY last_sequence DESC",
                    arguments: [term, bounds?.lower ?? 0])
                while found.count < limit, let row = try postings.next() {
                    guard let sequences = Postings.decode(row[0]) else { throw StoreError.corruptIndex("postings of \(term)") }
                    try take(candidates: sequences.reversed().filter(inside))
                }
            case .scan:
                try take("SELECT \(columns) FROM audit_record r WHERE \(conditions) ORDER BY r.sequence DESC", arguments)
            }
            return found
        }
    }

    /// The postings of small commits not yet folded into `audit_term`, of commits that may hold sequences from
    /// `lower` on.
    static func pendingPostings(_ db: Database, from lower: Int64) throws -> [(term: String, sequences: [Int64])] {
        // A commit's first sequence is below `lower` only if the commit is older than the bound's or holds it.
        let start =
            try Int64.fetchOne(db, sql: "SELECT max(first_sequence) FROM audit_term_pending WHERE first_sequence <= ?", arguments: [lower])
            ?? lower
        var out: [(term: String, sequences: [Int64])] = []
        for row in try Row.fetchAll(db, sql: "SELECT postings FROM audit_term_pending WHERE first_sequence >= ?", arguments: [start]) {
            guard let terms = Postings.decodePending(row[0]) else { throw StoreError.corruptIndex("pending postings") }
            out.append(contentsOf: terms)
        }
        return out
    }

    /// How a query is answered.
    enum Strategy: Equatable {
        case subject(tag: Int64)
        case postings(term: String)
        /// Newest first along the sequence (a decision id, or only column filters).
        case scan
    }

    func strategy(for query: AuditQuery) -> Strategy {
        if let subject = query.subject { return .subject(tag: AuditTerm.subjectTag(pseudonym(for: subject))) }
        if query.decisionID == nil, let term = query.drivingTerm { return .postings(term: term) }
        return .scan
    }

    /// The records of `[from, to)` as bounds on the sequence: `recorded_at` never decreases along the chain, so
    /// bisection finds each end in O(log n) look-ups and no time index is needed. nil without bounds; a lower
    /// bound above the upper when nothing is inside.
    static func sequences(_ db: Database, from: Date?, to: Date?) throws -> (lower: Int64, upper: Int64)? {
        guard from != nil || to != nil else { return nil }
        // Two queries: SQLite answers a lone min() or max() of the key from the tree's edge, both together by a scan.
        guard let first = try Int64.fetchOne(db, sql: "SELECT min(sequence) FROM audit_record"),
            let last = try Int64.fetchOne(db, sql: "SELECT max(sequence) FROM audit_record")
        else { return (1, 0) }
        let probe = try db.cachedStatement(
            sql: "SELECT sequence, recorded_at FROM audit_record WHERE sequence >= ? ORDER BY sequence LIMIT 1")
        /// The first sequence recorded at or after `instant` (last + 1 if none).
        func firstAtOrAfter(_ instant: Date) throws -> Int64 {
            let seconds = Int64(instant.timeIntervalSince1970.rounded(.up))
            var low = first, high = last + 1
            while low < high {
                let middle = low + (high - low) / 2
                guard let row = try Row.fetchOne(probe, arguments: [middle]) else { high = middle; continue }
                let sequence = Int64.fromDatabaseValue(row[0]) ?? middle, recorded = Int64.fromDatabaseValue(row[1]) ?? .min
                if recorded >= seconds { high = middle } else { low = sequence + 1 }
            }
            return low
        }
        return (try from.map(firstAtOrAfter) ?? first, try to.map(firstAtOrAfter).map { $0 - 1 } ?? last)
    }

    /// Everything recorded about one person, oldest first, each record checked to be sealed for them (an index
    /// entry pointing at someone else's record is refused, not shown). Empty after `erase(subject:)`.
    public func export(subject: String) throws -> [AuditRecord] {
        try query(AuditQuery(subject: subject)).reversed()
    }

    /// Records in `[from, to)` by purpose, actor and effect: who used what, and how often they were refused.
    public func activity(from: Date? = nil, to: Date? = nil) throws -> [(purpose: String, actor: String, effect: String, records: Int)] {
        try queue.read { db in
            let bounds = try Self.sequences(db, from: from, to: to)
            let window = bounds == nil ? "1 = 1" : "sequence BETWEEN ? AND ?"
            let args: StatementArguments = bounds.map { [$0.lower, $0.upper] } ?? []
            return try Row.fetchAll(
                db, sql: "SELECT purpose, actor, effect, count(*) FROM audit_record WHERE \(window) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
                arguments: args
            ).map { ($0[0], $0[1], $0[2], $0[3]) }
        }
    }

    /// Decisions by purpose and effect, top reasons, in `[from, to)` (either end open).
    public func stats(from: Date? = nil, to: Date? = nil, topReasons: Int = 10) throws -> AuditStats {
        try queue.read { db in
            let bounds = try Self.sequences(db, from: from, to: to)
            let window = bounds == nil ? "1 = 1" : "r.sequence BETWEEN ? AND ?"
            let args: StatementArguments = bounds.map { [$0.lower, $0.upper] } ?? []
            var byPurpose: [String: AuditStats.PurposeCount] = [:]
            // Retention purges are their own kind, not refused uses: counted apart, and their reason left out of the top reasons.
            let purgeCondition = "r.purpose = '\(AuditRecord.retentionPurpose)' AND r.decision_id GLOB '\(AuditRecord.retentionIDPrefix)*'"
            var purges = 0
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT r.purpose, r.effect, \(purgeCondition), count(*) FROM audit_record r WHERE \(window) GROUP BY 1, 2, 3
                    """, arguments: args)
            {
                if row[2] as Bool { purges += row[3]; continue }
                let purpose: String = row[0]
                var entry = byPurpose[purpose] ?? AuditStats.PurposeCount(purpose: purpose, permit: 0, partial: 0, deny: 0)
                switch row[1] as String {
                case "permit": entry.permit += row[3]
                case "partial": entry.partial += row[3]
                default: entry.deny += row[3]
                }
                byPurpose[purpose] = entry
            }
            let span = try Row.fetchOne(
                db, sql: "SELECT count(*), min(r.recorded_at), max(r.recorded_at) FROM audit_record r WHERE \(window)",
                arguments: args)
            let purgeSequences =
                purges == 0
                ? []
                : Set(
                    try Int64.fetchAll(
                        db, sql: "SELECT r.sequence FROM audit_record r WHERE \(window) AND \(purgeCondition)",
                        arguments: args))
            // Reason codes from their postings: each record counted once per code, purges left out.
            var reasons: [String: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT term, sequences FROM audit_term WHERE term >= 'r:' AND term < 'r;' AND last_sequence >= ?",
                arguments: [bounds?.lower ?? 0])
            {
                guard let sequences = Postings.decode(row[1]) else { throw StoreError.corruptIndex("postings of \(row[0] as String)") }
                let inside =
                    sequences.filter { s in bounds.map { $0.lower <= s && s <= $0.upper } ?? true }.count
                    - (purgeSequences.isEmpty ? 0 : sequences.filter { purgeSequences.contains($0) }.count)
                if inside > 0 { reasons[String((row[0] as String).dropFirst(2)), default: 0] += inside }
            }
            for (term, sequences) in try Self.pendingPostings(db, from: bounds?.lower ?? 0) where term.hasPrefix("r:") {
                let inside = sequences.filter { s in bounds.map { $0.lower <= s && s <= $0.upper } ?? true && !purgeSequences.contains(s)
                }.count
                if inside > 0 { reasons[String(term.dropFirst(2)), default: 0] += inside }
            }
            let top = reasons.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(topReasons).map {
                (code: $0.key, records: $0.value)
            }
            return AuditStats(
                records: span?[0] ?? 0,
                first: span.flatMap { Int64.fromDatabaseValue($0[1]) }.map { Date(timeIntervalSince1970: Double($0)) },
                last: span.flatMap { Int64.fromDatabaseValue($0[2]) }.map { Date(timeIntervalSince1970: Double($0)) },
                byPurpose: byPurpose.values.sorted { ($0.total, $1.purpose) > ($1.total, $0.purpose) },
                topReasons: Array(top),
                checkpoints: try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_checkpoint") ?? 0,
                erasures: try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_erasure") ?? 0, retentionPurges: purges)
        }
    }
}
