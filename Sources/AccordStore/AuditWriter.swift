import Foundation

/// Group commit for concurrent callers: whoever arrives while no commit is running writes every pending
/// record in one transaction; the others wait for it. Each caller returns only when its own record is
/// committed (or gets the error that kept it out). Safe from any thread.
public final class AuditWriter: @unchecked Sendable {
    public let trail: any AuditTrail
    private let condition = NSCondition()
    private var pending: [(entries: [AuditEntry], ticket: Ticket)] = []
    private var writing = false

    private final class Ticket {
        var result: Result<[AuditRecord], Error>?
    }

    public init(trail: any AuditTrail) { self.trail = trail }

    public func record(_ entry: AuditEntry) throws -> AuditRecord {
        try record(batch: [entry])[0]
    }

    /// Records `entries` together (in one commit, in order, possibly with other callers' entries around them).
    public func record(batch entries: [AuditEntry]) throws -> [AuditRecord] {
        guard !entries.isEmpty else { return [] }
        let ticket = Ticket()
        condition.lock()
        defer { condition.unlock() }
        pending.append((entries, ticket))
        while ticket.result == nil {
            if writing {
                condition.wait()
                continue
            }
            // Lead: take everything waiting and commit it together.
            writing = true
            let batch = pending
            pending = []
            condition.unlock()
            let outcome = Result { try trail.record(batch: batch.flatMap(\.entries)) }
            condition.lock()
            switch outcome {
            case .success(let records):
                var offset = 0
                for item in batch {
                    item.ticket.result = .success(Array(records[offset..<offset + item.entries.count]))
                    offset += item.entries.count
                }
            case .failure(let error): for item in batch { item.ticket.result = .failure(error) }
            }
            writing = false
            condition.broadcast()
        }
        return try ticket.result!.get()
    }
}
