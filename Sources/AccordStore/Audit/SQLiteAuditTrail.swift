import AccordCore
import Crypto
import Foundation
import GRDB
import GRDBSQLite

/// How hard a commit is pushed to disk before `record` returns.
public enum Durability: String, Sendable, CaseIterable {
    /// `synchronous = FULL`: a recorded decision survives a process crash, an OS crash and power loss.
    case full
    /// `synchronous = NORMAL`: survives a process crash; in WAL mode the last commits can be lost on power loss.
    case normal
    /// `synchronous = OFF`: for benchmarks and throwaway trails only; an OS crash can lose or corrupt the trail.
    case off

    var pragmaValue: Int { switch self { case .full: 2; case .normal: 1; case .off: 0 } }
}

/// The audit trail on SQLite (WAL, `synchronous = FULL` by default): append-only, hash-chained, with signed
/// RFC 6962 checkpoints. A decision reported as recorded is committed to disk. Safe from any thread.
public final class SQLiteAuditTrail: AuditTrail, @unchecked Sendable {
    public let path: String
    let queue: DatabasePool
    /// Shared with the other stores on the file: once it is found damaged, no more records are written.
    public let health: StoreHealth
    private let pseudonymizer: SubjectPseudonymizer
    let signingKey: Curve25519.Signing.PrivateKey
    let macKey: RecordMAC
    /// Per-subject seal keys already read or created; touched only inside `queue` (so serialised by it).
    private let sealKeys = SealKeyCache()
    private var randomPool = RandomPool()
    private let appendWorker = DispatchQueue(label: "accord.audit.append")
    /// Slices chained by the append worker and by the writer itself (for tests and tuning).
    private(set) var slicesChained: (byWorker: Int, byWriter: Int) = (0, 0)
    /// Keys added to `subject_key_recent` since its last merge, by this connection.
    private var newKeys = 0
    /// Tags of the seal keys created by the batch being written: if it rolls back, they leave the cache.
    private var keysCreatedInBatch: [Int64] = []
    private var seenErasure: Int64 = -1
    /// Rows in `audit_term_pending` (as this connection last knew: other writers' rows are folded with its own).
    private var pendingPostings = 0

    /// Opens (or creates) the trail at `path`. Keys default to files beside it: `<path>.subject-key`
    /// (pseudonyms) and `<path>.signing-key` (checkpoints, and record MACs derived from it).
    public convenience init(path: String, subjectKeyPath: String? = nil, signingKeyPath: String? = nil, durability: Durability = .full) throws {
        try self.init(database: StoreDatabase(path: path, subjectKeyPath: subjectKeyPath, durability: durability), signingKeyPath: signingKeyPath)
    }

    /// The trail in `database`, on its connection; the signing key defaults to `<path>.signing-key`.
    public init(database: StoreDatabase, signingKeyPath: String? = nil) throws {
        path = database.path
        health = database.health
        (queue, pseudonymizer) = (database.queue, database.pseudonymizer)
        let signing = try KeyFile.loadOrCreate(at: signingKeyPath ?? path + ".signing-key",
                                               mayCreate: !database.isReadOnly && !StoreMigrations.holdsData(queue, signed: true))
        signingKey = try Curve25519.Signing.PrivateKey(rawRepresentation: signing.bytes)
        macKey = RecordMAC(key: HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: signing.bytes),
                                                       info: Data("accord audit record mac v1".utf8), outputByteCount: 32))
        pendingPostings = try queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM audit_term_pending") } ?? 0
    }

    /// The hex Ed25519 public key that verifies this trail's checkpoints.
    public var publicKey: String { signingKey.publicKey.rawRepresentation.hexString }

    /// The keyed pseudonym this trail uses for a subject id (HMAC-SHA256 under the subject key).
    public func pseudonym(for subject: String) -> Data { pseudonymizer.pseudonym(for: subject) }

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
        let slices = [0..<head].filter { !$0.isEmpty }
            + stride(from: head, to: entries.count, by: Self.sliceSize).map { $0..<min($0 + Self.sliceSize, entries.count) }
        // The transaction is managed here, inside the queue, so that a failure at any point — commit included —
        // is cleaned up before any other batch can run.
        return try health.guarding { try queue.writeWithoutTransaction { db in
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
        } }
    }

    private func appendBatch(_ entries: [AuditEntry], slices: [Range<Int>], _ db: Database) throws -> [AuditRecord] {
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
        let context = PreparedSlice.Context(entries: entries, first: first, times: times, pseudonymizer: pseudonymizer,
                                            sealKeys: sealKeys, macKey: macKey, worker: appendWorker)
        let links = ChainLinks(count: slices.count)
        defer { links.cancel() }  // a worker still waiting on a link this thread will never set returns
        var prepared = slices.enumerated().map { n, range in
            PreparedSlice.start(context, range, after: n == 0 ? nil : (links, n - 1), async: n > 0)
        }

        let insert = try RawStatement(db, """
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
                try subject.run(db) { s in s.bind(AuditTerm.subjectBucket(record.sequence)); s.bind(item.tag); s.bind(record.sequence) }
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
    private func writePostings(_ postings: [TermKey: [Int]], first: Int64, count: Int, _ db: Database) throws {
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
            try posting.run(db) { s in s.bind(term); s.bind(sequences.last!); s.bind(Postings.encode(sequences)) }
        }
        // The append-only trigger lets pending rows go only while a fold is under way, inside this transaction.
        try db.execute(sql: "INSERT INTO postings_fold_in_progress (n) VALUES (1); DELETE FROM audit_term_pending; DELETE FROM postings_fold_in_progress")
        pendingPostings = 0
    }

    /// One entry on its way into the chain: its subject's pseudonym and tag, the record (its chain fields
    /// filled in once chained), the hash state over its body, and its chain digests.
    struct Prepared: @unchecked Sendable {
        var pseudonym: Data
        var tag: Int64
        var record: AuditRecord
        var bodyHash: HashState
        var seal = SHA256Digest.zero
        var previous = SHA256Digest.zero
        var hash = SHA256Digest.zero
        var mac = SHA256Digest.zero
    }

    /// The last hash of each slice, published by whoever chained it, awaited by the worker chaining the next.
    final class ChainLinks: @unchecked Sendable {
        private let condition = NSCondition()
        private var last: [SHA256Digest?]
        private var cancelled = false

        init(count: Int) { last = Array(repeating: nil, count: count) }

        func set(_ slice: Int, last hash: SHA256Digest) {
            condition.lock()
            last[slice] = hash
            condition.broadcast()
            condition.unlock()
        }

        /// The slice's last hash once published; nil if the batch was abandoned.
        func wait(_ slice: Int) -> SHA256Digest? {
            condition.lock()
            defer { condition.unlock() }
            while last[slice] == nil && !cancelled { condition.wait() }
            return last[slice]
        }

        func cancel() {
            condition.lock()
            cancelled = true
            condition.broadcast()
            condition.unlock()
        }
    }

    /// What a slice of a batch needs before it is inserted: per entry its `Prepared`, and per lookup term the
    /// batch positions carrying it. Computed here or on the worker.
    final class PreparedSlice: @unchecked Sendable {
        struct Context: @unchecked Sendable {
            let entries: [AuditEntry]
            let first: Int64
            let times: [Int64]
            let pseudonymizer: SubjectPseudonymizer
            let sealKeys: SealKeyCache
            let macKey: RecordMAC
            /// The trail's own serial queue: its slices are chained in order, each after the one before, and
            /// never wait behind another trail's.
            let worker: DispatchQueue
        }

        private(set) var items: [Prepared] = []
        private(set) var postings: [TermKey: [Int]] = [:]
        /// Whether the worker chained the slice (every seal key was in memory).
        private(set) var chained = false
        private let done = DispatchSemaphore(value: 0)

        static let done = PreparedSlice()

        /// Prepares `range`; if `after` names the previous slice's link, also chains it from that slice's last
        /// hash when every seal key is cached, and publishes its own. `async`: on the worker queue.
        static func start(_ context: Context, _ range: Range<Int>, after: (links: ChainLinks, slice: Int)?, async: Bool) -> PreparedSlice {
            let slice = PreparedSlice()
            let work: @Sendable () -> Void = {
                slice.prepare(context, range)
                if let after { slice.tryChain(context, after.links, after: after.slice) }
                slice.done.signal()
            }
            if async { context.worker.async(execute: work) } else { work() }
            return slice
        }


        private func prepare(_ context: Context, _ range: Range<Int>) {
            items.reserveCapacity(range.count)
            var encoder = CanonicalEncoder(capacity: 2_048, tagged: false)
            for index in range {
                let entry = context.entries[index]
                let pseudonym = context.pseudonymizer.pseudonym(for: entry.request.subject.id)
                let (record, state) = AuditRecord.unchained(sequence: context.first + Int64(index), entry: entry,
                                                            recordedAt: context.times[index], encoder: &encoder)
                items.append(Prepared(pseudonym: pseudonym, tag: AuditTerm.subjectTag(pseudonym), record: record, bodyHash: state))
                for term in SQLiteAuditTrail.terms(of: entry) { postings[term, default: []].append(index) }
            }
        }

        private func tryChain(_ context: Context, _ links: ChainLinks, after previousSlice: Int) {
            var keys: [RecordMAC] = []
            keys.reserveCapacity(items.count)
            for item in items {
                guard let key = context.sealKeys.key(tag: item.tag, pseudonym: SHA256Digest(item.pseudonym)!) else { return }
                keys.append(RecordMAC(key: key))
            }
            guard var previous = links.wait(previousSlice) else { return }
            for offset in items.indices {
                var id = items[offset].record.decisionID
                let seal = id.withUTF8 { keys[offset].digest(UnsafeRawBufferPointer($0)) }
                previous = chain(offset, seal: seal, previous: previous, macKey: context.macKey)
            }
            chained = true
            links.set(previousSlice + 1, last: previous)
        }

        /// Chains item `offset` after `previous`; returns its hash.
        func chain(_ offset: Int, seal: SHA256Digest, previous: SHA256Digest, macKey: RecordMAC) -> SHA256Digest {
            var state = items[offset].bodyHash
            state.update(field: seal)
            state.update(field: previous)
            let hash = state.finalize()
            let mac = hash.withUnsafeBytes { macKey.digest($0) }
            items[offset].seal = seal
            items[offset].previous = previous
            items[offset].hash = hash
            items[offset].mac = mac
            items[offset].record.subjectSeal = seal.data
            items[offset].record.previousHash = previous.data
            items[offset].record.hash = hash.data
            items[offset].record.mac = mac.data
            return hash
        }

        /// The slice, once computed (waits for the worker if needed).
        func result() -> PreparedSlice {
            done.wait()
            done.signal()  // later calls return at once
            return self
        }
    }

    /// What a record is found by besides its subject: its purpose and every purpose above it, its actor,
    /// action, effect and policy revision, its reason codes and rule ids.
    static func terms(of entry: AuditEntry) -> [TermKey] {
        var terms = [TermKey(.actor, entry.request.actor.id), TermKey(.action, entry.decision.action),
                     TermKey(.effect, entry.decision.effect.rawValue), TermKey(.revision, entry.decision.revision)]
        let purpose = entry.decision.purpose
        var dot = purpose.firstIndex(of: ".")
        while let end = dot {
            terms.append(TermKey(.purpose, purpose[..<end]))
            dot = purpose[purpose.index(after: end)...].firstIndex(of: ".")
        }
        terms.append(TermKey(.purpose, purpose))
        let fixed = terms.count
        for resource in entry.decision.resources {
            for reason in resource.reasons {
                let code = TermKey(.reason, reason.code.rawValue)
                if !terms[fixed...].contains(code) { terms.append(code) }
                if let rule = reason.rule {
                    let id = TermKey(.rule, rule.id)
                    if !terms[fixed...].contains(id) { terms.append(id) }
                }
            }
        }
        return terms
    }

    /// The subject's seal key, created on first sight.
    private func sealKey(for subject: Prepared, _ db: Database) throws -> RecordMAC {
        let pseudonym = SHA256Digest(subject.pseudonym)!
        if let key = sealKeys.key(tag: subject.tag, pseudonym: pseudonym) { return RecordMAC(key: key) }
        var key = try Self.subjectKey(db, pseudonym: subject.pseudonym)
        if key == nil {
            let fresh = randomPool.next32()
            try RawStatement(db, "INSERT INTO subject_key_recent (pseudonym, key) VALUES (?, ?)").run(db) { s in
                s.bind(subject.pseudonym); s.bind(fresh)
            }
            newKeys += 1
            keysCreatedInBatch.append(subject.tag)
            key = fresh
        }
        guard let digest = SHA256Digest(key!) else { throw StoreError.corruptIndex("a subject key is not 32 bytes") }
        sealKeys.insert(tag: subject.tag, pseudonym: pseudonym, key: digest)
        return RecordMAC(key: digest)
    }

    /// A subject's seal key, wherever it is kept; nil if they have none (never seen, or erased).
    static func subjectKey(_ db: Database, pseudonym: Data) throws -> Data? {
        if let key = try RawStatement(db, "SELECT key FROM subject_key_recent WHERE pseudonym = ?").blob(db, { $0.bind(pseudonym) }) {
            return key
        }
        return try RawStatement(db, "SELECT key FROM subject_key WHERE pseudonym = ?").blob(db) { $0.bind(pseudonym) }
    }

    /// Moves the recent keys into the main table in key order (each of its pages written once, not once per
    /// key), when enough have gathered.
    private func mergeRecentKeysIfDue(_ db: Database) throws {
        guard newKeys >= 8_192 else { return }
        try db.execute(sql: """
            INSERT INTO subject_key (pseudonym, key) SELECT pseudonym, key FROM subject_key_recent ORDER BY pseudonym;
            DELETE FROM subject_key_recent;
            """)
        newKeys = 0
    }

    /// Another connection (an `erase` from another process) may have destroyed keys this one remembers.
    private func forgetSealKeysIfChangedElsewhere(_ db: Database) throws {
        // Seal keys never change once made; they only disappear, by erasure. So only an erasure this connection
        // has not seen (the newest `audit_erasure` row) empties the cache — not every write by another store.
        let erasures = try Int64.fetchOne(db, sql: "SELECT max(id) FROM audit_erasure") ?? 0
        if erasures != seenErasure {
            sealKeys.removeAll()
            seenErasure = erasures
        }
    }

    /// Commits the Merkle root of every record so far, signed.
    @discardableResult
    public func checkpoint(at instant: Date = Date()) throws -> Checkpoint {
        try health.guarding { try writeCheckpoint(at: instant) }
    }

    private func writeCheckpoint(at instant: Date) throws -> Checkpoint {
        try queue.write { db in
            // Start from the tree as the last checkpoint left it, if its records are still the first ones:
            // a checkpoint then costs the records since, not the whole trail.
            var tree = MerkleAccumulator()
            if let row = try Row.fetchOne(db, sql: "SELECT size, peaks FROM audit_merkle_state ORDER BY size DESC LIMIT 1"),
               let saved = Data.fromDatabaseValue(row[1]).flatMap(MerkleAccumulator.init(serialized:)),
               saved.size == (Int.fromDatabaseValue(row[0]) ?? -1),
               try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_record WHERE sequence <= ?", arguments: [saved.size]) == saved.size {
                tree = saved
            }
            let hashes = try Data.fetchCursor(db, sql: "SELECT hash FROM audit_record WHERE sequence > ? ORDER BY sequence",
                                              arguments: [tree.size])
            while let hash = try hashes.next() { tree.append(leafHash: MerkleTree.leafHash(hash)) }
            try db.execute(sql: "INSERT OR REPLACE INTO audit_merkle_state (size, peaks) VALUES (?, ?)",
                           arguments: [tree.size, tree.serialized])
            var checkpoint = Checkpoint(id: 0, size: Int64(tree.size), root: tree.root.hexString,
                                        createdAt: Date(timeIntervalSince1970: instant.timeIntervalSince1970.rounded(.down)),
                                        signature: "", publicKey: publicKey)
            checkpoint.signature = try signingKey.signature(for: Data(checkpoint.signedText.utf8)).hexString
            try db.execute(sql: "INSERT INTO audit_checkpoint (size, root, created_at, signature, public_key) VALUES (?, ?, ?, ?, ?)",
                           arguments: [checkpoint.size, checkpoint.root, Timestamps.format(checkpoint.createdAt), checkpoint.signature,
                                       checkpoint.publicKey])
            checkpoint.id = db.lastInsertedRowID
            return checkpoint
        }
    }

    // MARK: - Erasure

    /// Crypto-shredding: destroys the subject's seal key and index entries, and removes their consent history,
    /// their own budget spends, their place in training-set lineage and their values in the embedded feature
    /// store (overwritten on disk, the WAL checkpointed and truncated), so their records stay in the chain —
    /// every hash, checkpoint and proof still verifies — but can no longer be found or tied to them. Returns
    /// how many records that covered.
    @discardableResult
    public func erase(subject: String, at instant: Date = Date()) throws -> Int {
        try erasure(of: subject, at: instant).records
    }

    /// What an erasure removed, per store.
    public struct ErasureReceipt: Sendable, Equatable {
        /// Audit records that can no longer be found or tied to the subject (they stay in the chain).
        public var records: Int
        public var consentEvents: Int
        public var budgetSpends: Int
        public var trainingSetMemberships: Int
        /// Rows of the embedded feature store (`feature_value`) keyed by the subject's id.
        public var featureValues: Int
    }

    /// Erases `subject` everywhere this database keeps them, in one transaction, and says what went (see
    /// `erase(subject:at:)`).
    public func erasure(of subject: String, at instant: Date = Date()) throws -> ErasureReceipt {
        let pseudonym = pseudonymizer.pseudonym(for: subject)
        let receipt = try health.guarding { try queue.write { db -> ErasureReceipt in
            let tag = AuditTerm.subjectTag(pseudonym)
            let count = try Self.sealedSequences(db, pseudonym: pseudonym).count
            try db.execute(sql: "DELETE FROM subject_key WHERE pseudonym = ?", arguments: [pseudonym])
            try db.execute(sql: "DELETE FROM subject_key_recent WHERE pseudonym = ?", arguments: [pseudonym])
            // Every index entry under the tag goes, forged ones included, so that the tag itself is gone (another
            // subject sharing all 8 bytes of it, a one-in-2^64 chance, would have to be found by a scan).
            let last = try Int64.fetchOne(db, sql: "SELECT max(sequence) FROM audit_record") ?? 0
            try db.execute(sql: "INSERT INTO erasure_in_progress (pseudonym) VALUES (?)", arguments: [pseudonym])
            let delete = try db.cachedStatement(sql: "DELETE FROM audit_subject WHERE bucket = ? AND tag = ?")
            for bucket in 0...AuditTerm.subjectBucket(last) { try delete.execute(arguments: [bucket, tag]) }
            // Their consent history and their own budget spends go too: both are keyed by the pseudonym, and
            // the audit records cite the consent events.
            try db.execute(sql: "DELETE FROM consent_event WHERE subject = ?", arguments: [pseudonym])
            let consentEvents = db.changesCount
            try db.execute(sql: "DELETE FROM budget_spend WHERE budget LIKE ?", arguments: ["%#" + pseudonym.hexString])
            let budgetSpends = db.changesCount
            try db.execute(sql: "DELETE FROM erasure_in_progress WHERE pseudonym = ?", arguments: [pseudonym])
            // And their place in training-set lineage (`accord lineage` before erasing shows the models to retrain).
            try db.execute(sql: "DELETE FROM training_subject WHERE pseudonym = ?", arguments: [pseudonym])
            let memberships = db.changesCount
            // And the values the embedded feature store holds under their clear id (the one table keyed by it).
            try db.execute(sql: "DELETE FROM feature_value WHERE entity_key = ?", arguments: [subject])
            let featureValues = db.changesCount
            let id = (try Int64.fetchOne(db, sql: "SELECT max(id) FROM audit_erasure") ?? 0) + 1
            let erasedAt = Int64(instant.timeIntervalSince1970)
            try db.execute(sql: "INSERT INTO audit_erasure (id, erased_at, records, mac) VALUES (?, ?, ?, ?)",
                           arguments: [id, erasedAt, count, Self.erasureMAC(id: id, erasedAt: erasedAt, records: Int64(count), key: macKey)])
            sealKeys.remove(tag: tag)
            return ErasureReceipt(records: count, consentEvents: consentEvents, budgetSpends: budgetSpends,
                                  trainingSetMemberships: memberships, featureValues: featureValues)
        } }
        try truncateWAL()
        return receipt
    }

    /// Old page images holding the key or the clear id may still sit in the WAL: copy back and truncate it.
    /// Deleted rows are zeroed in the file itself (`secure_delete`); `feature_value` is a WITHOUT ROWID table, a
    /// B-tree whose interior cells are entries themselves rather than copies of keys, so no divider is left behind.
    private func truncateWAL() throws {
        // A reader on another connection can hold the WAL back for a moment; after that the erasure is reported incomplete.
        for attempt in 0..<50 {
            let result = try queue.writeWithoutTransaction { db in try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
            if let result, (result[0] as Int?) == 0, (result[1] as Int?) == (result[2] as Int?) { return }
            if attempt < 49 { usleep(20_000) }
        }
        throw StoreError.unavailable("the subject's key is deleted, but the write-ahead log could not be truncated (another "
                                     + "connection is reading): old copies of it may stay in \(path)-wal until the next checkpoint")
    }

    // MARK: - Reading

    /// A subject's records, newest first: those indexed under their tag and sealed under their key (an index
    /// entry pointing at another record, or another subject sharing the 8-byte tag, is not theirs). None once
    /// their key is erased.
    static func sealedSequences(_ db: Database, pseudonym: Data) throws -> [Int64] {
        guard let key = try subjectKey(db, pseudonym: pseudonym) else { return [] }
        let seal = RecordMAC(key: SymmetricKey(data: key))
        let record = try db.cachedStatement(sql: "SELECT decision_id, subject_seal FROM audit_record WHERE sequence = ?")
        return try subjectSequences(db, tag: AuditTerm.subjectTag(pseudonym)).filter { sequence in
            guard let row = try Row.fetchOne(record, arguments: [sequence]),
                  let id = String.fromDatabaseValue(row[0]), let stored = Data.fromDatabaseValue(row[1])
            else { return false }
            return seal.mac(Data(id.utf8)) == stored
        }
    }

    /// The sequences indexed under a subject tag, newest first: one seek per bucket.
    static func subjectSequences(_ db: Database, tag: Int64) throws -> [Int64] {
        guard let last = try Int64.fetchOne(db, sql: "SELECT max(sequence) FROM audit_record") else { return [] }
        let seek = try db.cachedStatement(sql: "SELECT sequence FROM audit_subject WHERE bucket = ? AND tag = ? ORDER BY sequence DESC")
        var sequences: [Int64] = []
        for bucket in stride(from: AuditTerm.subjectBucket(last), through: 0, by: -1) {
            sequences += try Int64.fetchAll(seek, arguments: [bucket, tag])
        }
        return sequences
    }

    public func count() throws -> Int { try queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM audit_record") ?? 0 } }

    /// The newest record's sequence (0 for an empty trail): one look-up at the end of the table, where `count()`
    /// walks all of it. Sequences are contiguous from 1, so on an intact trail the two agree.
    public func latestSequence() throws -> Int64 {
        try queue.read { try Int64.fetchOne($0, sql: "SELECT max(sequence) FROM audit_record") ?? 0 }
    }

    /// Every record, oldest first.
    public func records() throws -> [AuditRecord] {
        try queue.read { db in try Row.fetchAll(db, sql: "SELECT \(Self.columns) FROM audit_record ORDER BY sequence").map(Self.record) }
    }

    public func checkpoints() throws -> [Checkpoint] {
        try queue.read { db in try Self.checkpoints(db) }
    }

    static func checkpoints(_ db: Database) throws -> [Checkpoint] {
        try Row.fetchAll(db, sql: "SELECT id, size, root, created_at, signature, public_key FROM audit_checkpoint ORDER BY id").map { row in
            Checkpoint(id: row[0], size: row[1], root: row[2], createdAt: Timestamps.parse(row[3]) ?? .distantPast,
                       signature: row[4], publicKey: row[5])
        }
    }

    static let columns = "sequence, decision_id, recorded_at, revision, actor, purpose, action, subject_seal, jurisdiction, effect, " +
        "resources, processing_region, previous_hash, hash, mac"

    /// A record from a row selected with `columns`, read by position.
    /// Values of the wrong type (a tampered row) read as empty rather than trapping: `verify` names such rows.
    static func record(_ row: Row) -> AuditRecord {
        func int(_ i: Int) -> Int64 { Int64.fromDatabaseValue(row[i]) ?? 0 }
        func text(_ i: Int) -> String { String.fromDatabaseValue(row[i]) ?? "" }
        func optionalText(_ i: Int) -> String? { String.fromDatabaseValue(row[i]) }
        func blob(_ i: Int) -> Data { Data.fromDatabaseValue(row[i]) ?? Data() }
        return AuditRecord(sequence: int(0), decisionID: text(1), recordedAt: Date(timeIntervalSince1970: Double(int(2))),
                           revision: text(3), actor: text(4), purpose: text(5), action: text(6), subjectSeal: blob(7),
                           jurisdiction: optionalText(8), effect: text(9), resources: text(10), processingRegion: optionalText(11),
                           previousHash: blob(12), hash: blob(13), mac: blob(14))
    }
}

/// A prepared statement driven through SQLite's C interface: binding and stepping without building
/// `DatabaseValue`s, for the append path. Text and blobs are copied into one scratch buffer per statement
/// and bound in place (SQLite would otherwise allocate and copy each value); bindings are cleared after each
/// step, so none outlives the buffer.
struct RawStatement {
    let statement: OpaquePointer
    private let scratch: Scratch

    init(_ db: Database, _ sql: String) throws {
        statement = try db.cachedStatement(sql: sql).sqliteStatement
        scratch = Scratch()
    }

    final class Scratch {
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: 16_384, alignment: 8)
        deinit { bytes.deallocate() }
    }

    /// Binds with `bind` (in parameter order) and steps once to completion.
    func run(_ db: Database, _ bind: (inout Binder) -> Void) throws {
        var binder = Binder(statement: statement, scratch: scratch.bytes)
        bind(&binder)
        let code = sqlite3_step(statement)
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }

    /// Binds, then hands each row to `row` (read its columns with `Columns`) until there are no more.
    func rows(_ db: Database, _ bind: (inout Binder) -> Void, _ row: (Columns) throws -> Void) throws {
        var binder = Binder(statement: statement, scratch: scratch.bytes)
        bind(&binder)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        while true {
            switch sqlite3_step(statement) {
            case SQLITE_ROW: try row(Columns(statement: statement))
            case SQLITE_DONE: return
            case let code: throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
        }
    }

    /// The current row's columns, valid only inside the `rows` callback.
    struct Columns {
        let statement: OpaquePointer

        func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }
        func double(_ column: Int32) -> Double { sqlite3_column_double(statement, column) }
        func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }

        /// The column as text (a BLOB's bytes read as UTF-8).
        func text(_ column: Int32) -> String {
            guard let pointer = sqlite3_column_text(statement, column) else { return "" }
            return String(decoding: UnsafeBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(statement, column))), as: UTF8.self)
        }

        /// The first byte of a text column (0 if empty or NULL): enough to tell a short closed set of words apart.
        func firstByte(_ column: Int32) -> UInt8 {
            guard let pointer = sqlite3_column_text(statement, column), sqlite3_column_bytes(statement, column) > 0 else { return 0 }
            return pointer.pointee
        }
    }

    /// Binds, steps once and returns the first column of the row as bytes, or nil when there is no row.
    func blob(_ db: Database, _ bind: (inout Binder) -> Void) throws -> Data? {
        var binder = Binder(statement: statement, scratch: scratch.bytes)
        bind(&binder)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        switch sqlite3_step(statement) {
        case SQLITE_ROW:
            guard let pointer = sqlite3_column_blob(statement, 0) else { return Data() }
            return Data(bytes: pointer, count: Int(sqlite3_column_bytes(statement, 0)))
        case SQLITE_DONE: return nil
        case let code: throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }

    struct Binder {
        let statement: OpaquePointer
        let scratch: UnsafeMutableRawBufferPointer
        var index: Int32 = 1
        private var used = 0
        private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

        init(statement: OpaquePointer, scratch: UnsafeMutableRawBufferPointer) {
            self.statement = statement
            self.scratch = scratch
        }

        /// `bytes` in the scratch buffer (or, if it is full, copied by SQLite) as the next parameter.
        private mutating func bindBytes(_ bytes: UnsafeRawBufferPointer, text: Bool) {
            var pointer = bytes.baseAddress ?? UnsafeRawPointer(scratch.baseAddress!)
            var destructor: sqlite3_destructor_type? = Self.transient
            if used + bytes.count <= scratch.count {
                let target = scratch.baseAddress! + used
                if bytes.count > 0 { target.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
                pointer = UnsafeRawPointer(target)
                destructor = nil  // SQLITE_STATIC: valid until the bindings are cleared after the step
                used += bytes.count
            }
            if text {
                sqlite3_bind_text(statement, index, pointer.assumingMemoryBound(to: CChar.self), Int32(bytes.count), destructor)
            } else {
                sqlite3_bind_blob(statement, index, pointer, Int32(bytes.count), destructor)
            }
            index += 1
        }

        mutating func bind(_ value: Int64) {
            sqlite3_bind_int64(statement, index, value)
            index += 1
        }

        mutating func bind(_ value: String?) {
            guard var value else {
                sqlite3_bind_null(statement, index)
                index += 1
                return
            }
            value.withUTF8 { bindBytes(UnsafeRawBufferPointer($0), text: true) }
        }

        mutating func bind(_ digest: SHA256Digest) {
            digest.withUnsafeBytes { bindBytes($0, text: false) }
        }

        mutating func bind(_ value: Data) {
            value.withUnsafeBytes { bindBytes($0, text: false) }
        }
    }
}

/// Fresh keys from the system's generator, drawn 4 KiB at a time rather than one system call per key.
struct RandomPool {
    private var buffer = [UInt8](repeating: 0, count: 4_096)
    private var offset = 4_096

    mutating func next32() -> Data {
        if offset + 32 > buffer.count {
            // The kernel's generator (getrandom on Linux, arc4random on Apple platforms), one call per refill.
            buffer.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
            offset = 0
        }
        defer {
            // Used bytes are wiped from the pool.
            for i in offset..<(offset + 32) { buffer[i] = 0 }
            offset += 32
        }
        return Data(buffer[offset..<(offset + 32)])
    }
}

/// Ascending sequences as LEB128 deltas from zero: a commit's records carrying one term, in a few bytes each.
enum Postings {
    static func encode(_ sequences: [Int64]) -> Data { encode(sequences.map { Int($0) }, from: 0) }

    /// The sequences `base + offset` for ascending `offsets`.
    static func encode(_ offsets: [Int], from base: Int64) -> Data {
        var out: [UInt8] = []
        out.reserveCapacity(offsets.count * 2)
        var previous: Int64 = 0
        for offset in offsets {
            let sequence = base + Int64(offset)
            var delta = UInt64(bitPattern: sequence - previous)
            previous = sequence
            repeat {
                let low = UInt8(delta & 0x7F)
                delta >>= 7
                out.append(delta == 0 ? low : low | 0x80)
            } while delta != 0
        }
        return Data(out)
    }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var value = value
        repeat {
            let low = UInt8(value & 0x7F)
            value >>= 7
            out.append(value == 0 ? low : low | 0x80)
        } while value != 0
    }

    /// A pending row: (term, its sequences) pairs; nil if malformed.
    static func decodePending(_ data: Data) -> [(term: String, sequences: [Int64])]? {
        let bytes = [UInt8](data)
        var at = 0
        func varint() -> Int? {
            var value: UInt64 = 0, shift: UInt64 = 0
            while at < bytes.count, shift < 63 {
                let byte = bytes[at]
                at += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value <= UInt64(bytes.count) ? Int(value) : nil }
                shift += 7
            }
            return nil
        }
        var out: [(term: String, sequences: [Int64])] = []
        while at < bytes.count {
            guard let length = varint(), at + length <= bytes.count else { return nil }
            let term = String(decoding: bytes[at..<at + length], as: UTF8.self)
            at += length
            guard let count = varint(), at + count <= bytes.count, let sequences = decode(Data(bytes[at..<at + count])) else { return nil }
            at += count
            out.append((term, sequences))
        }
        return out
    }

    /// nil if the bytes are not a valid encoding (a truncated or overlong varint).
    static func decode(_ data: Data) -> [Int64]? {
        var out: [Int64] = []
        var value: UInt64 = 0, shift: UInt64 = 0, previous: Int64 = 0
        for byte in data {
            // The tenth byte may carry only the 64th bit.
            guard shift < 64, shift < 63 || byte & 0x7E == 0 else { return nil }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                previous &+= Int64(bitPattern: value)
                out.append(previous)
                value = 0
                shift = 0
            } else {
                shift += 7
            }
        }
        return shift == 0 ? out : nil
    }
}

/// Recently used subject seal keys in two generations: when the newer fills up it becomes the older and the
/// oldest entries are dropped, so memory stays bounded (about 150 bytes an entry, 200,000 entries at most)
/// while subjects that keep coming back stay cached. Read by the append worker, written by the writer: locked.
final class SealKeyCache: @unchecked Sendable {
    private typealias Entry = (pseudonym: SHA256Digest, key: SHA256Digest)
    private var newer: [Int64: Entry] = [:]
    private var older: [Int64: Entry] = [:]
    private let capacity = 100_000
    private let lock = NSLock()

    func key(tag: Int64, pseudonym: SHA256Digest) -> SHA256Digest? {
        lock.lock()
        defer { lock.unlock() }
        if let entry = newer[tag], entry.pseudonym == pseudonym { return entry.key }
        guard let entry = older[tag], entry.pseudonym == pseudonym else { return nil }
        store(tag: tag, entry: entry)
        return entry.key
    }

    func insert(tag: Int64, pseudonym: SHA256Digest, key: SHA256Digest) {
        lock.lock()
        defer { lock.unlock() }
        store(tag: tag, entry: (pseudonym, key))
    }

    private func store(tag: Int64, entry: Entry) {
        if newer.count >= capacity {
            older = newer
            newer = Dictionary(minimumCapacity: capacity)
        }
        newer[tag] = entry
    }

    func remove(tag: Int64) {
        lock.lock()
        defer { lock.unlock() }
        newer[tag] = nil
        older[tag] = nil
    }

    func removeAll() {
        lock.lock()
        defer { lock.unlock() }
        newer.removeAll()
        older.removeAll()
    }
}
