import AccordCore
import Foundation
import GRDB
import GRDBSQLite

extension SQLiteAuditTrail {
    /// The MAC an erasure row carries, so that `verify` can count erased records without trusting a row anyone
    /// could insert.
    static func erasureMAC(id: Int64, erasedAt: Int64, records: Int64, key: RecordMAC) -> Data {
        key.mac(Data("accord audit erasure v1|\(id)|\(erasedAt)|\(records)".utf8))
    }

    /// The lookup tables checked against the records. Postings: for every term, exactly the records that carry
    /// it. Subject index: every entry points at a record in its bucket, no record twice, and the records with
    /// no entry are exactly as many as the (authenticated) erasures made unfindable — so that deleting a
    /// person's lookup rows, which hides their records from `export` and `query`, does not pass unseen.
    static func lookupProblems(_ db: Database, macKey: RecordMAC) throws -> [AuditProblem] {
        var problems = LookupProblems()
        let last = try Int64.fetchOne(db, sql: "SELECT max(sequence) FROM audit_record") ?? 0
        try postingProblems(db, last: last, into: &problems)
        try subjectIndexProblems(db, last: last, macKey: macKey, into: &problems)
        return problems.found
    }

    /// The problems found, the first few of them: the rest would add nothing a person reads.
    struct LookupProblems {
        private(set) var found: [AuditProblem] = []

        mutating func report(_ sequence: Int64?, _ message: String) {
            if found.count < 20 { found.append(AuditProblem(kind: .lookupMismatch, sequence: sequence, decisionID: nil, message: message)) }
        }
    }

    /// Postings as stored (`audit_term`, `audit_term_pending`) against those the records say they should be.
    private static func postingProblems(_ db: Database, last: Int64, into problems: inout LookupProblems) throws {
        // Terms numbered once each; the postings as stored and as the records say they should be, per number.
        var terms = TermNumbers()
        var stored: [[Int64]] = []
        func store(_ term: String, _ sequences: [Int64]) {
            let id = terms.number(term)
            while stored.count <= id { stored.append([]) }
            stored[id].append(contentsOf: sequences)
        }
        for row in try Row.fetchAll(db, sql: "SELECT term, sequences FROM audit_term ORDER BY term, last_sequence") {
            guard let term = String.fromDatabaseValue(row[0]), let blob = Data.fromDatabaseValue(row[1]),
                let sequences = Postings.decode(blob)
            else {
                problems.report(nil, "a row of audit_term cannot be read")
                continue
            }
            store(term, sequences)
        }
        for row in try Row.fetchAll(db, sql: "SELECT postings FROM audit_term_pending ORDER BY first_sequence") {
            guard let blob = Data.fromDatabaseValue(row[0]), let pending = Postings.decodePending(blob) else {
                problems.report(nil, "a row of audit_term_pending cannot be read")
                continue
            }
            for (term, sequences) in pending { store(term, sequences) }
        }
        let expected = try expectedPostings(db, terms: &terms)
        for id in 0..<terms.count {
            let have = id < stored.count ? stored[id] : [], want = id < expected.count ? expected[id] : []
            guard have != want else { continue }
            let term = terms.names[id]
            let haveSet = Set(have), wantSet = Set(want)
            if let hidden = want.first(where: { !haveSet.contains($0) }) {
                problems.report(
                    hidden,
                    "is missing from the lookup for '\(term)' (\(wantSet.subtracting(haveSet).count) record(s)): lookup rows were removed")
            } else if let stray = have.first(where: { !wantSet.contains($0) }) {
                problems.report(
                    stray,
                    "the lookup for '\(term)' points at a record that does not carry it" + (stray > last ? " (or does not exist)" : ""))
            } else {
                problems.report(nil, "the lookup for '\(term)' lists a record twice")
            }
        }
    }

    /// The subject index: every entry in its place, none twice, and no more records missing from it than the
    /// authenticated erasures account for.
    private static func subjectIndexProblems(_ db: Database, last: Int64, macKey: RecordMAC, into problems: inout LookupProblems) throws {
        let records = try Int64.fetchOne(db, sql: "SELECT count(*) FROM audit_record") ?? 0
        var indexed = Set<Int64>(minimumCapacity: Int(records))
        let entries = try db.makeStatement(sql: "SELECT bucket, sequence FROM audit_subject")
        while true {
            let step = sqlite3_step(entries.sqliteStatement)
            if step == SQLITE_DONE { break }
            guard step == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: step), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            let bucket = sqlite3_column_int64(entries.sqliteStatement, 0), sequence = sqlite3_column_int64(entries.sqliteStatement, 1)
            if sequence < 1 || sequence > last || bucket != AuditTerm.subjectBucket(sequence) {
                problems.report(sequence, "a subject-index entry points at no record in its place")
            } else if !indexed.insert(sequence).inserted {
                problems.report(sequence, "is in the subject index twice")
            }
        }
        var erased: Int64 = 0
        // A trail written before erasures carried MACs (read-only, not yet migrated) has every erasure as legacy.
        let migrated = try db.tableExists("audit_erasure_legacy")
        let legacyUntil = migrated ? try Int64.fetchOne(db, sql: "SELECT legacy_until FROM audit_erasure_legacy") ?? 0 : .max
        for row in try Row.fetchAll(db, sql: "SELECT id, erased_at, records, \(migrated ? "mac" : "NULL") FROM audit_erasure ORDER BY id") {
            let id: Int64 = row[0], erasedAt: Int64 = row[1], count: Int64 = row[2]
            let mac = Data.fromDatabaseValue(row[3])
            if id > legacyUntil && mac != erasureMAC(id: id, erasedAt: erasedAt, records: count, key: macKey) {
                problems.report(nil, "erasure \(id) was not written by this trail's engine (its MAC does not verify)")
                continue
            }
            erased += count
        }
        let unindexed = records - Int64(indexed.count)
        if unindexed > erased {
            let first = try firstUnindexed(db, indexed: indexed)
            problems.report(
                first,
                "\(unindexed - erased) record(s) are missing from the subject index beyond the \(erased) that erasures account for: "
                    + "a person's lookup rows were removed (their records are hidden from export and query)")
        }
    }

    /// For each term number, the records that carry the term, in sequence order — the lookup terms of each
    /// stored record as `terms(of:)` made them when it was appended. One pass over the rows through SQLite's C
    /// interface; a column value seen before costs a dictionary look-up, not new strings.
    static func expectedPostings(_ db: Database, terms: inout TermNumbers) throws -> [[Int64]] {
        var expected: [[Int64]] = []
        var fixed = Array(repeating: BytesTable<[Int]>(), count: 5)
        let kinds: [(prefix: String, column: Int32)] = [("v:", 1), ("a:", 2), ("p:", 3), ("c:", 4), ("e:", 5)]
        var names = [BytesTable<Int>(), BytesTable<Int>()]  // reasons, rules
        var ids: [Int] = []
        let owner = try db.makeStatement(
            sql: "SELECT sequence, revision, actor, purpose, action, effect, resources FROM audit_record ORDER BY sequence")
        let statement = owner.sqliteStatement
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            let sequence = sqlite3_column_int64(statement, 0)
            ids.removeAll(keepingCapacity: true)
            for (k, kind) in kinds.enumerated() {
                let bytes = columnBytes(statement, kind.column)
                if let known = fixed[k][bytes] { ids += known; continue }
                let value = String(decoding: bytes, as: UTF8.self)
                var made: [Int] = []
                if kind.prefix == "p:" {
                    // The purpose and every purpose above it.
                    var dot = value.firstIndex(of: ".")
                    while let end = dot {
                        made.append(terms.number("p:" + value[..<end]))
                        dot = value[value.index(after: end)...].firstIndex(of: ".")
                    }
                }
                made.append(terms.number(kind.prefix + value))
                fixed[k].insert(bytes, made)
                ids += made
            }
            let fixedCount = ids.count
            func add(_ k: Int, _ bytes: UnsafeRawBufferPointer) {
                let id: Int
                if let known = names[k][bytes] {
                    id = known
                } else {
                    id = terms.number((k == 0 ? "r:" : "u:") + String(decoding: bytes, as: UTF8.self))
                    names[k].insert(bytes, id)
                }
                if !ids[fixedCount...].contains(id) { ids.append(id) }
            }
            let resources = columnBytes(statement, 6)
            if !ResourceTerms.scan(resources, add) {
                // A value with an escape (or a column not written by the engine): decoded properly.
                ids.removeSubrange(fixedCount...)
                let parsed = ResourceTerms.parse(resources)
                for (k, list) in [parsed.reasons, parsed.rules].enumerated() {
                    for name in list { var name = name; name.withUTF8 { add(k, UnsafeRawBufferPointer($0)) } }
                }
            }
            for id in ids {
                while expected.count <= id { expected.append([]) }
                expected[id].append(sequence)
            }
        }
        withExtendedLifetime(owner) {}
        return expected
    }

    private static func columnBytes(_ statement: OpaquePointer, _ column: Int32) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: sqlite3_column_blob(statement, column), count: Int(sqlite3_column_bytes(statement, column)))
    }

    private static func firstUnindexed(_ db: Database, indexed: Set<Int64>) throws -> Int64? {
        let sequences = try Int64.fetchCursor(db, sql: "SELECT sequence FROM audit_record ORDER BY sequence")
        while let sequence = try sequences.next() {
            if !indexed.contains(sequence) { return sequence }
        }
        return nil
    }
}

/// Lookup terms numbered in the order first seen.
struct TermNumbers {
    private var numbers: [String: Int] = [:]
    private(set) var names: [String] = []
    var count: Int { names.count }

    mutating func number(_ term: String) -> Int {
        if let known = numbers[term] { return known }
        numbers[term] = names.count
        names.append(term)
        return names.count - 1
    }
}

/// The reason codes and rule ids of a stored resources column, in order.
enum ResourceTerms {
    /// A direct scan of the column as the engine writes it (`"reasons":["…",…]`, `"rules":[…]` per resource),
    /// each name handed to `found` (0: reason, 1: rule); false when the column holds an escape, so that `parse`
    /// decodes it properly. A quote inside a value is always
    /// escaped, so the keys cannot be matched inside one.
    static func scan(_ bytes: UnsafeRawBufferPointer, _ found: (_ kind: Int, _ name: UnsafeRawBufferPointer) -> Void) -> Bool {
        let n = bytes.count
        func matches(_ key: StaticString, at at: Int) -> Bool {
            let count = key.utf8CodeUnitCount
            guard at + count <= n else { return false }
            for j in 0..<count where bytes[at + j] != key.utf8Start[j] { return false }
            return true
        }
        // A first pass refuses escapes, so that nothing is reported from a column the second pass could misread.
        if bytes.contains(UInt8(ascii: "\\")) { return false }
        var i = 0
        while i < n {
            guard bytes[i] == UInt8(ascii: "\"") else { i += 1; continue }
            let kind = matches(#""reasons":["#, at: i) ? 0 : matches(#""rules":["#, at: i) ? 1 : -1
            guard kind >= 0 else { i += 1; continue }
            i += kind == 0 ? 11 : 9
            // Strings up to the closing bracket.
            while i < n, bytes[i] != UInt8(ascii: "]") {
                guard bytes[i] == UInt8(ascii: "\"") else { i += 1; continue }
                var end = i + 1
                while end < n, bytes[end] != UInt8(ascii: "\"") { end += 1 }
                guard end < n else { return false }
                found(kind, UnsafeRawBufferPointer(rebasing: bytes[(i + 1)..<end]))
                i = end + 1
            }
        }
        return true
    }

    /// The same through the strict JSON reader (for a column holding escapes, or not written by the engine).
    static func parse(_ bytes: UnsafeRawBufferPointer) -> (reasons: [String], rules: [String]) {
        var reasons: [String] = [], rules: [String] = []
        if case .array(let items)? = try? JSONReader.parse(Array(bytes)) {
            for item in items {
                reasons += (item["reasons"]?.arrayValue ?? []).compactMap(\.stringValue)
                rules += (item["rules"]?.arrayValue ?? []).compactMap(\.stringValue)
            }
        }
        return (reasons, rules)
    }
}

/// A map from short byte strings (column values, names) to what they stand for, looked up without making a
/// `String`: hashed, then compared byte for byte.
struct BytesTable<Value> {
    private var buckets: [Int: [(bytes: [UInt8], value: Value)]] = [:]

    static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        return hasher.finalize()
    }

    subscript(_ bytes: UnsafeRawBufferPointer) -> Value? {
        guard let entries = buckets[Self.hash(bytes)] else { return nil }
        for entry in entries where entry.bytes.count == bytes.count && entry.bytes.elementsEqual(bytes) { return entry.value }
        return nil
    }

    mutating func insert(_ bytes: UnsafeRawBufferPointer, _ value: Value) {
        buckets[Self.hash(bytes), default: []].append((Array(bytes), value))
    }
}
