import AccordCore
import Foundation
import Logging
import Metrics

/// Makes failing closed visible: a decision denied because the trail or the consent store could not be used
/// is counted in `accord_decisions_failed_closed_total{reason}` (swift-metrics: whatever backend the process
/// bootstrapped, Prometheus in `accord serve`), its cause logged the first time it is seen and then as a count
/// at most every ten seconds (not a line per request), and `trailDown` names the cause while the trail cannot
/// be written (`accord serve` answers `/readyz` with 503 then). The decision point tells it synchronously, on
/// the deciding thread; callers read its state, so nothing calls back into them.
public final class FailClosedMonitor: FailClosedObserver, @unchecked Sendable {
    private let logger: Logger
    private let lock = NSLock()
    private var counters: [ReasonCode: Metrics.Counter] = [:]
    /// Per cause: decisions since it was last logged, and when that was.
    private var causes: [String: (unlogged: Int, loggedAt: ContinuousClock.Instant)] = [:]
    private var trailDownSince: String?
    static let summaryInterval: Duration = .seconds(10)

    public init(logger: Logger) { self.logger = logger }

    /// Why the trail cannot be written, while it cannot.
    public var trailDown: String? {
        lock.lock()
        defer { lock.unlock() }
        return trailDownSince
    }

    /// Looks at decisions just answered; `recorded`: whether their commit went through.
    public func observe(_ decisions: [Decision], recorded: Bool) {
        observe(failures: decisions.compactMap(\.failedClosed), recorded: recorded)
    }

    private func observe(failures reasons: [Reason], recorded: Bool) {
        let failures = reasons.map { ($0.code, $0.detail ?? "no detail") }
        lock.lock()
        if recorded, let cause = trailDownSince {
            trailDownSince = nil
            lock.unlock()
            logger.notice("the audit trail is written again; decisions are recorded", metadata: ["after": .string(cause)])
            lock.lock()
        }
        if !recorded, let first = failures.first(where: { $0.0 == .auditUnavailable }) { trailDownSince = first.1 }
        var toLog: [(String, ReasonCode, Int, Bool)] = []
        let now = ContinuousClock.now
        for (code, cause) in failures {
            let counter =
                counters[code] ?? Metrics.Counter(label: "accord_decisions_failed_closed_total", dimensions: [("reason", code.rawValue)])
            counters[code] = counter
            counter.increment()
            let key = code.rawValue + ": " + cause
            if var seen = causes[key] {
                seen.unlogged += 1
                if now - seen.loggedAt >= Self.summaryInterval {
                    toLog.append((cause, code, seen.unlogged, false))
                    seen = (0, now)
                }
                causes[key] = seen
            } else {
                causes[key] = (0, now)
                toLog.append((cause, code, 1, true))
            }
        }
        lock.unlock()
        for (cause, code, count, first) in toLog {
            let metadata: Logger.Metadata = ["reason": .string(code.rawValue), "cause": .string(cause)]
            if first {
                logger.error("decision denied because it could not be made safely (fail closed)", metadata: metadata)
            } else {
                logger.error("\(count) more decisions denied for the same cause in the last \(Self.summaryInterval)", metadata: metadata)
            }
        }
    }
}
