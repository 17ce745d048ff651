import Foundation

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
