import AccordCore
import Crypto
import Foundation
import GRDB
import GRDBSQLite

// MARK: - The append pipeline: entries prepared and chained one slice ahead

extension SQLiteAuditTrail {
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
                let (record, state) = AuditRecord.unchained(
                    sequence: context.first + Int64(index), entry: entry,
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
        var terms = [
            TermKey(.actor, entry.request.actor.id), TermKey(.action, entry.decision.action),
            TermKey(.effect, entry.decision.effect.rawValue), TermKey(.revision, entry.decision.revision),
        ]
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
}
