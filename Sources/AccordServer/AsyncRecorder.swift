import AccordStore
import Foundation

/// Group commit for async callers: a request's records are queued and the request suspends (no thread is held
/// waiting); one thread of its own commits whatever has queued up, in one transaction, and resumes every caller
/// whose records it committed — or hands each the error that kept them out.
final class AsyncRecorder: @unchecked Sendable {
    let trail: any AuditTrail
    private let lock = NSLock()
    private var pending: [(entries: [AuditEntry], continuation: CheckedContinuation<Void, Error>)] = []
    private let wake = DispatchSemaphore(value: 0)

    init(trail: any AuditTrail) {
        self.trail = trail
        // The thread holds the recorder only while it commits, so a recorder no one uses any more goes away (and
        // its thread with it, within a second).
        let thread = Thread { [weak self] in
            while let recorder = self {
                recorder.commitPending(waitingUpTo: .now() + 1)
            }
        }
        thread.name = "accord.audit.commit"
        thread.start()
    }

    func record(_ entries: [AuditEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            lock.lock()
            pending.append((entries, continuation))
            lock.unlock()
            wake.signal()
        }
    }

    private func commitPending(waitingUpTo deadline: DispatchTime) {
        guard wake.wait(timeout: deadline) == .success else { return }
        lock.lock()
        let batch = pending
        pending = []
        lock.unlock()
        guard !batch.isEmpty else { return }
        do {
            _ = try trail.record(batch: batch.flatMap(\.entries))
            for item in batch { item.continuation.resume() }
        } catch {
            for item in batch { item.continuation.resume(throwing: error) }
        }
    }
}
