import AccordCore
import Crypto
import Foundation
import GRDB
import GRDBSQLite

extension SQLiteAuditTrail {
    // MARK: - Writing

    /// Appends decisions in one transaction (group commit); returns once all are committed, or throws and
    /// records none of them. A record's time is the later of its entry's instant and the previous record's:
    /// time never runs backwards along the chain.
    ///
    /// Two stages share the work. A worker on another core prepares each slice of the batch (pseudonyms, the
    /// resources column, lookup terms, the hash over each record's body) and, when every subject's seal key is
    /// already known, chains it too (seal, hash, MAC), in order, one slice ahead. This thread resolves seal keys
    /// that are not (from the database, or new), chains what the worker could not, and inserts.
    public func record(batch entries: [AuditEntry]) throws -> [AuditRecord] {
        // Nothing to record is no commit at all (an empty commit would take the next commit's first sequence).
        guard !entries.isEmpty else { return [] }
        // A short first slice, done on this thread; the rest by the worker, ahead of the inserts.
        let head = min(entries.count, 64)
        let slices =
            [0..<head].filter { !$0.isEmpty }
            + stride(from: head, to: entries.count, by: Self.sliceSize).map { $0..<min($0 + Self.sliceSize, entries.count) }
        // The transaction is managed here, inside the queue, so that a failure at any point — commit included —
        // is cleaned up before any other batch can run.
        return try health.guarding {
            try queue.writeWithoutTransaction { db in
                keysCreatedInBatch.removeAll()
                var records: [AuditRecord] = []
                do {
                    try db.inTransaction(.immediate) {
                        records = try appendBatch(entries, slices: slices, db)
                        return .commit
                    }
                } catch {
                    // The keys this batch created were rolled back with it: never seal later records under them.
                    for tag in keysCreatedInBatch { sealKeys.remove(tag: tag) }
                    newKeys = max(0, newKeys - keysCreatedInBatch.count)
                    keysCreatedInBatch.removeAll()
                    throw error
                }
                return records
            }
        }
    }

    func appendBatch(_ entries: [AuditEntry], slices: [Range<Int>], _ db: Database) throws -> [AuditRecord] {
        try forgetSealKeysIfChangedElsewhere(db)
        let last = try Row.fetchOne(db, sql: "SELECT sequence, hash, recorded_at FROM audit_record ORDER BY sequence DESC LIMIT 1")
        let first: Int64 = (last?[0] ?? 0) + 1
        guard let genesis = SHA256Digest(last?[1] ?? AuditRecord.genesis) else {
            throw StoreError.corruptIndex("the last record's hash is not 32 bytes; run `accord audit verify`")
        }
        // A record's time: the latest instant so far, so that time never runs backwards along the chain.
        var times: [Int64] = []
        times.reserveCapacity(entries.count)
        var time: Int64 = last?[2] ?? .min
        for entry in entries {
            time = max(time, Int64(entry.instant.timeIntervalSince1970.rounded(.down)))
            times.append(time)
        }
        let context = PreparedSlice.Context(
            entries: entries, first: first, times: times, pseudonymizer: pseudonymizer,
            sealKeys: sealKeys, macKey: macKey, worker: appendWorker)
        let links = ChainLinks(count: slices.count)
        defer { links.cancel() }  // a worker still waiting on a link this thread will never set returns
        var prepared = slices.enumerated().map { n, range in
            PreparedSlice.start(context, range, after: n == 0 ? nil : (links, n - 1), async: n > 0)
        }

        let insert = try RawStatement(
            db,
            """
            INSERT INTO audit_record (sequence, decision_id, recorded_at, revision, actor, purpose, action, subject_seal,
                jurisdiction, effect, resources, processing_region, previous_hash, hash, mac)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let subject = try RawStatement(db, "INSERT INTO audit_subject (bucket, tag, sequence) VALUES (?, ?, ?)")
        var postings: [TermKey: [Int]] = [:]
        var records: [AuditRecord] = []
        records.reserveCapacity(entries.count)
        var previous = genesis
        for n in slices.indices {
            let slice = prepared[n].result()
            if !slice.chained {
                // Some seal key was not in memory: chain the slice here, where the database is.
                for offset in slice.items.indices {
                    var id = slice.items[offset].record.decisionID
                    let key = try sealKey(for: slice.items[offset], db)
                    let seal = id.withUTF8 { key.digest(UnsafeRawBufferPointer($0)) }
                    previous = slice.chain(offset, seal: seal, previous: previous, macKey: macKey)
                }
                links.set(n, last: previous)
                slicesChained.byWriter += 1
            } else {
                previous = slice.items.last!.hash
                slicesChained.byWorker += 1
            }
            for item in slice.items {
                let record = item.record
                try insert.run(db) { s in
                    s.bind(record.sequence); s.bind(record.decisionID); s.bind(times[Int(record.sequence - first)])
                    s.bind(record.revision); s.bind(record.actor); s.bind(record.purpose); s.bind(record.action)
                    s.bind(item.seal); s.bind(record.jurisdiction); s.bind(record.effect); s.bind(record.resources)
                    s.bind(record.processingRegion); s.bind(item.previous); s.bind(item.hash); s.bind(item.mac)
                }
                try subject.run(db) { s in
                    s.bind(AuditTerm.subjectBucket(record.sequence)); s.bind(item.tag); s.bind(record.sequence)
                }
                records.append(record)
            }
            for (term, indices) in slice.postings { postings[term, default: []].append(contentsOf: indices) }
            prepared[n] = PreparedSlice.done  // let the slice's memory go
        }
        try writePostings(postings, first: first, count: entries.count, db)
        try mergeRecentKeysIfDue(db)
        return records
    }

    static let sliceSize = 256

    /// A commit of fewer records than this puts its postings in one `audit_term_pending` row.
    static let smallCommit = 64
    /// Pending rows folded into `audit_term` at a time.
    static let foldEvery = 256

    /// A small commit's postings go to one pending row; a larger one's to `audit_term`, one row per term, after
    /// folding what is pending (so that pending sequences stay newer than any in `audit_term`).
    func writePostings(_ postings: [TermKey: [Int]], first: Int64, count: Int, _ db: Database) throws {
        if count < Self.smallCommit {
            var blob = [UInt8]()
            blob.reserveCapacity(postings.count * 24)
            for (term, indices) in postings {
                let text = Array(term.text.utf8)
                let sequences = Postings.encode(indices, from: first)
                Postings.appendVarint(UInt64(text.count), to: &blob)
                blob.append(contentsOf: text)
                Postings.appendVarint(UInt64(sequences.count), to: &blob)
                blob.append(contentsOf: sequences)
            }
            try RawStatement(db, "INSERT INTO audit_term_pending (first_sequence, postings) VALUES (?, ?)").run(db) { s in
                s.bind(first); s.bind(Data(blob))
            }
            pendingPostings += 1
            if pendingPostings >= Self.foldEvery { try foldPendingPostings(db) }
            return
        }
        // Another connection's pending rows count too.
        let pending = try pendingPostings > 0 || Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM audit_term_pending)") == true
        if pending { try foldPendingPostings(db) }
        let posting = try RawStatement(db, "INSERT INTO audit_term (term, last_sequence, sequences) VALUES (?, ?, ?)")
        for (term, indices) in postings {
            try posting.run(db) { s in
                s.bind(term.text); s.bind(first + Int64(indices.last!)); s.bind(Postings.encode(indices, from: first))
            }
        }
    }

    /// Moves every pending row into `audit_term`: one row per term over all of them.
    func foldPendingPostings(_ db: Database) throws {
        var byTerm: [String: [Int64]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT postings FROM audit_term_pending ORDER BY first_sequence") {
            guard let terms = Postings.decodePending(row[0]) else { throw StoreError.corruptIndex("pending postings") }
            for (term, sequences) in terms { byTerm[term, default: []].append(contentsOf: sequences) }
        }
        let posting = try RawStatement(db, "INSERT INTO audit_term (term, last_sequence, sequences) VALUES (?, ?, ?)")
        for (term, sequences) in byTerm {
            try posting.run(db) { s in
                s.bind(term); s.bind(sequences.last!); s.bind(Postings.encode(sequences))
            }
        }
        // The append-only trigger lets pending rows go only while a fold is under way, inside this transaction.
        try db.execute(
            sql:
                "INSERT INTO postings_fold_in_progress (n) VALUES (1); DELETE FROM audit_term_pending; DELETE FROM postings_fold_in_progress"
        )
        pendingPostings = 0
    }
}
