import AccordCore
import Foundation
import GRDB

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
        var problems: [AuditProblem] = []
        func report(_ sequence: Int64?, _ message: String) {
            // The first few name the records; the rest would add nothing a person reads.
            if problems.count < 20 { problems.append(AuditProblem(kind: .lookupMismatch, sequence: sequence, decisionID: nil, message: message)) }
        }
        let records = try Int64.fetchOne(db, sql: "SELECT count(*) FROM audit_record") ?? 0
        let last = try Int64.fetchOne(db, sql: "SELECT max(sequence) FROM audit_record") ?? 0

        // Postings as stored: audit_term, then the pending rows (newer than any sequence in audit_term).
        var stored: [String: [Int64]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT term, sequences FROM audit_term ORDER BY term, last_sequence") {
            guard let term = String.fromDatabaseValue(row[0]), let blob = Data.fromDatabaseValue(row[1]), let sequences = Postings.decode(blob) else {
                report(nil, "a row of audit_term cannot be read")
                continue
            }
            stored[term, default: []].append(contentsOf: sequences)
        }
        for row in try Row.fetchAll(db, sql: "SELECT postings FROM audit_term_pending ORDER BY first_sequence") {
            guard let blob = Data.fromDatabaseValue(row[0]), let terms = Postings.decodePending(blob) else {
                report(nil, "a row of audit_term_pending cannot be read")
                continue
            }
            for (term, sequences) in terms { stored[term, default: []].append(contentsOf: sequences) }
        }
        // Postings as the records say they should be, in sequence order.
        var expected: [String: [Int64]] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT sequence, revision, actor, purpose, action, effect, resources FROM audit_record ORDER BY sequence")
        while let row = try rows.next() {
            let sequence: Int64 = row[0]
            for term in Self.terms(revision: row[1] ?? "", actor: row[2] ?? "", purpose: row[3] ?? "", action: row[4] ?? "", effect: row[5] ?? "",
                                   resources: row[6] ?? "") {
                expected[term, default: []].append(sequence)
            }
        }
        for term in Set(stored.keys).union(expected.keys).sorted() {
            let have = stored[term] ?? [], want = expected[term] ?? []
            guard have != want else { continue }
            let haveSet = Set(have), wantSet = Set(want)
            if let hidden = want.first(where: { !haveSet.contains($0) }) {
                report(hidden, "is missing from the lookup for '\(term)' (\(wantSet.subtracting(haveSet).count) record(s)): lookup rows were removed")
            } else if let stray = have.first(where: { !wantSet.contains($0) }) {
                report(stray, "the lookup for '\(term)' points at a record that does not carry it" + (stray > last ? " (or does not exist)" : ""))
            } else {
                report(nil, "the lookup for '\(term)' lists a record twice")
            }
        }

        // The subject index.
        var indexed = Set<Int64>()
        for row in try Row.fetchAll(db, sql: "SELECT bucket, sequence FROM audit_subject") {
            let bucket: Int64 = row[0], sequence: Int64 = row[1]
            if sequence < 1 || sequence > last || bucket != AuditTerm.subjectBucket(sequence) {
                report(sequence, "a subject-index entry points at no record in its place")
            } else if !indexed.insert(sequence).inserted {
                report(sequence, "is in the subject index twice")
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
                report(nil, "erasure \(id) was not written by this trail's engine (its MAC does not verify)")
                continue
            }
            erased += count
        }
        let unindexed = records - Int64(indexed.count)
        if unindexed > erased {
            let first = try firstUnindexed(db, indexed: indexed)
            report(first, "\(unindexed - erased) record(s) are missing from the subject index beyond the \(erased) that erasures account for: "
                       + "a person's lookup rows were removed (their records are hidden from export and query)")
        }
        return problems
    }

    /// The lookup terms of a stored record, as `terms(of:)` made them when it was appended.
    static func terms(revision: String, actor: String, purpose: String, action: String, effect: String, resources: String) -> [String] {
        var terms = ["a:" + actor, "c:" + action, "e:" + effect, "v:" + revision]
        var dot = purpose.firstIndex(of: ".")
        while let end = dot {
            terms.append("p:" + purpose[..<end])
            dot = purpose[purpose.index(after: end)...].firstIndex(of: ".")
        }
        terms.append("p:" + purpose)
        let fixed = terms.count
        // Reasons and rules in the order `terms(of:)` meets them: per resource, each reason then its rule.
        if case .array(let items)? = try? JSONReader.parse(Array(resources.utf8)) {
            for item in items {
                let reasons = item["reasons"]?.arrayValue ?? [], rules = item["rules"]?.arrayValue ?? []
                for reason in reasons.compactMap(\.stringValue) where !terms[fixed...].contains("r:" + reason) { terms.append("r:" + reason) }
                for rule in rules.compactMap(\.stringValue) where !terms[fixed...].contains("u:" + rule) { terms.append("u:" + rule) }
            }
        }
        return terms
    }

    private static func firstUnindexed(_ db: Database, indexed: Set<Int64>) throws -> Int64? {
        let sequences = try Int64.fetchCursor(db, sql: "SELECT sequence FROM audit_record ORDER BY sequence")
        while let sequence = try sequences.next() {
            if !indexed.contains(sequence) { return sequence }
        }
        return nil
    }
}
