import AccordStore
import Foundation

/// Group commit in front of an audit trail, for callers on threads and callers in tasks alike: every entry
/// waiting when a commit starts goes into that one transaction, and each caller returns only once its own
/// entries are committed — or with the error that kept them out (then none of them is recorded).
///
/// Who commits: a thread caller that arrives while no commit runs leads, and writes everything pending; when
/// it is done it hands the lead to the next waiting thread caller, or, when only tasks are waiting, to the
/// recorder's own commit thread. Task callers block no thread waiting: one that finds the recorder idle commits
/// at once on its own thread, the others suspend until their commit is done.
/// Waiting thread callers are woken alone, not all at every commit.
///
/// Safe from any thread. The state (`pending`, `writing`) is guarded by one lock, held only to move tickets,
/// never across a commit.
public final class AuditRecorder: @unchecked Sendable {
    public let trail: any AuditTrail
    private let lock = NSLock()
    private var pending: [Ticket] = []
    /// Whether a commit is running or its lead is being handed on.
    private var writing = false
    /// Wakes the commit thread (for task callers, or a lead handed to it).
    private let wake = DispatchSemaphore(value: 0)

    private final class Ticket {
        let entries: [AuditEntry]
        var result: Result<[AuditRecord], Error>?
        /// A thread caller sleeps on it; nil for a task caller.
        let semaphore: DispatchSemaphore?
        /// A task caller resumes through it.
        let continuation: CheckedContinuation<[AuditRecord], Error>?

        init(_ entries: [AuditEntry], semaphore: DispatchSemaphore? = nil, continuation: CheckedContinuation<[AuditRecord], Error>? = nil) {
            self.entries = entries
            self.semaphore = semaphore
            self.continuation = continuation
        }

        func finish(_ result: Result<[AuditRecord], Error>) {
            self.result = result
            if let continuation { continuation.resume(with: result) } else { semaphore?.signal() }
        }
    }

    public init(trail: any AuditTrail) {
        self.trail = trail
        // The thread holds the recorder only while it commits, so a recorder no one uses any more goes away (and
        // its thread with it, within a second).
        let thread = Thread { [weak self] in
            while let recorder = self { recorder.commitWhenWoken(waitingUpTo: .now() + 1) }
        }
        thread.name = "accord.audit.commit"
        thread.start()
    }

    // MARK: - Thread callers

    /// Records `entries` together (in one commit, in order, possibly with other callers' entries around them);
    /// returns once they are committed. Blocks the calling thread.
    public func record(batch entries: [AuditEntry]) throws -> [AuditRecord] {
        guard !entries.isEmpty else { return [] }
        let ticket = Ticket(entries, semaphore: DispatchSemaphore(value: 0))
        lock.lock()
        pending.append(ticket)
        if writing {
            lock.unlock()
            ticket.semaphore!.wait()
            if let result = ticket.result { return try result.get() }
            // Handed the lead: `writing` is still set, and this caller's entries are still pending.
        } else {
            writing = true
            lock.unlock()
        }
        commitPending()
        return try ticket.result!.get()
    }

    public func record(_ entry: AuditEntry) throws -> AuditRecord {
        try record(batch: [entry])[0]
    }

    // MARK: - Task callers

    /// Records `entries` together. A task that finds the recorder idle commits them itself, on its own thread:
    /// waking the commit thread and being resumed from it would cost more than a commit at `normal` (two thread
    /// switches, ~100 µs on a small virtual machine). Otherwise the task suspends (no thread is held waiting)
    /// until a commit by the commit thread includes them. So a commit holds at most one task's thread, and only
    /// while nothing else waits.
    public func record(batch entries: [AuditEntry]) async throws -> [AuditRecord] {
        guard !entries.isEmpty else { return [] }
        if let result = leadIfIdle(entries) { return try result.get() }
        return try await withCheckedThrowingContinuation { continuation in
            lock.lock()
            pending.append(Ticket(entries, continuation: continuation))
            let lead = !writing
            writing = true
            lock.unlock()
            if lead { wake.signal() }
        }
    }

    /// Commits `entries` on this thread if no commit runs and nothing waits; nil (nothing done) otherwise.
    private func leadIfIdle(_ entries: [AuditEntry]) -> Result<[AuditRecord], Error>? {
        lock.lock()
        guard !writing && pending.isEmpty else {
            lock.unlock()
            return nil
        }
        writing = true
        let ticket = Ticket(entries)
        pending.append(ticket)
        lock.unlock()
        commitPending()
        return ticket.result!
    }

    // MARK: - Committing

    /// Run by the holder of the lead: commits everything pending in one transaction, tells each caller, then
    /// hands the lead on (or gives it up when nothing is waiting).
    private func commitPending() {
        lock.lock()
        let batch = pending
        pending = []
        lock.unlock()
        let outcome = Result { try trail.record(batch: batch.flatMap(\.entries)) }
        var offset = 0
        lock.lock()
        // The next leader is chosen before anyone is told, so that no caller of this batch can lead twice.
        let next = pending.first
        if next == nil { writing = false }
        lock.unlock()
        for ticket in batch {
            let count = ticket.entries.count
            ticket.finish(outcome.map { Array($0[offset..<offset + count]) })
            offset += count
        }
        guard let next else { return }
        // A thread caller woken without a result leads; tasks wait for the commit thread.
        if next.continuation == nil { next.semaphore!.signal() } else { wake.signal() }
    }

    private func commitWhenWoken(waitingUpTo deadline: DispatchTime) {
        guard wake.wait(timeout: deadline) == .success else { return }
        commitPending()
    }
}
