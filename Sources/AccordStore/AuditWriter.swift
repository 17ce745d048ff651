import Foundation

/// Group commit for concurrent callers: whoever arrives while no commit is running leads — writes every
/// pending record in one transaction — and, if more arrived meanwhile, hands the lead to the first of them;
/// the others sleep until their own records are committed (each woken alone, not all at every commit). Each
/// caller returns only when its records are committed, or with the error that kept them out. Safe from any
/// thread.
public final class AuditWriter: @unchecked Sendable {
    public let trail: any AuditTrail
    private let lock = NSLock()
    private var pending: [Ticket] = []
    private var writing = false

    private final class Ticket {
        let entries: [AuditEntry]
        var result: Result<[AuditRecord], Error>?
        let wake = DispatchSemaphore(value: 0)

        init(_ entries: [AuditEntry]) { self.entries = entries }
    }

    public init(trail: any AuditTrail) { self.trail = trail }

    public func record(_ entry: AuditEntry) throws -> AuditRecord {
        try record(batch: [entry])[0]
    }

    /// Records `entries` together (in one commit, in order, possibly with other callers' entries around them).
    public func record(batch entries: [AuditEntry]) throws -> [AuditRecord] {
        guard !entries.isEmpty else { return [] }
        let ticket = Ticket(entries)
        lock.lock()
        pending.append(ticket)
        if writing {
            lock.unlock()
            ticket.wake.wait()
            if let result = ticket.result { return try result.get() }
            // Handed the lead: `writing` is still set, and this caller's entries are still pending.
        } else {
            writing = true
            lock.unlock()
        }
        lock.lock()
        let batch = pending
        pending = []
        lock.unlock()
        let outcome = Result { try trail.record(batch: batch.flatMap(\.entries)) }
        var offset = 0
        for item in batch {
            switch outcome {
            case .success(let records): item.result = .success(Array(records[offset..<offset + item.entries.count]))
            case .failure(let error): item.result = .failure(error)
            }
            offset += item.entries.count
        }
        lock.lock()
        if let next = pending.first {
            next.wake.signal()  // woken without a result: it leads
        } else {
            writing = false
        }
        lock.unlock()
        for item in batch where item !== ticket { item.wake.signal() }
        return try ticket.result!.get()
    }
}
