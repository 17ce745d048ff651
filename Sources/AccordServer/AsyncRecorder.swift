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
        let thread = Thread { [unowned self] in self.run() }
        thread.name = "accord.audit.commit"
        thread.start()
    }

    func record(_ entries: [AuditEntry]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            lock.lock()
            pending.append((entries, continuation))
            lock.unlock()
            wake.signal()
        }
    }

    private func run() {
        while true {
            wake.wait()
            lock.lock()
            let batch = pending
            pending = []
            lock.unlock()
            guard !batch.isEmpty else { continue }
            do {
                _ = try trail.record(batch: batch.flatMap(\.entries))
                for item in batch { item.continuation.resume() }
            } catch {
                for item in batch { item.continuation.resume(throwing: error) }
            }
        }
    }
}
