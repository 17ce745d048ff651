import AccordCore
import AccordReports
import AccordRuntime
import AccordStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus

/// The decision server: AuthZEN 1.0 and Accord's native API over HTTP (docs/server.md).
public struct AccordHTTPServer: Sendable {
    public let configuration: ServerConfiguration
    public let service: DecisionService
    let registry: PrometheusCollectorRegistry
    let counters = Counters()

    /// One request counter and one duration histogram per path, made once: making a swift-metrics metric looks
    /// it up in the registry, which cost a seventh of the server's time when done per request.
    final class Counters: @unchecked Sendable {
        private let lock = NSLock()
        private var byPath: [String: (requests: Metrics.Counter, duration: Metrics.Timer)] = [:]

        func metrics(_ path: String) -> (requests: Metrics.Counter, duration: Metrics.Timer) {
            lock.lock()
            defer { lock.unlock() }
            if let made = byPath[path] { return made }
            let made = (
                Metrics.Counter(label: "accord_http_requests_total", dimensions: [("path", path)]),
                Metrics.Timer(label: "accord_http_request_duration_seconds", dimensions: [("path", path)])
            )
            byPath[path] = made
            return made
        }
    }

    /// The duration histogram's buckets: fine below 10 ms, where decisions are answered.
    static let durationBuckets: [Duration] = [0.25, 0.5, 1, 2, 5, 10, 25, 100, 1_000].map { .microseconds(Int64($0 * 1_000)) }

    /// Counts and logs decisions that failed closed; `/readyz` reads `trailDown` (the decision point tells it,
    /// in AccordRuntime, and nothing calls back into the server).
    let monitor: FailClosedMonitor

    public init(configuration: ServerConfiguration, logger: Logger = Logger(label: "accord")) throws {
        self.configuration = configuration
        let database = try StoreDatabase(path: configuration.database, durability: configuration.durability)
        monitor = FailClosedMonitor(logger: logger)
        service = try DecisionService(
            policies: configuration.policies, database: database, spendBudgets: configuration.spendBudgets,
            observer: monitor)
        registry = PrometheusCollectorRegistry()
    }

    /// Every route, each controller adding its own (one file per concern in Controllers/).
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        HealthController(server: self).addRoutes(to: router)
        AuthZENController(server: self).addRoutes(to: router)
        AuthZENSearchController(server: self).addRoutes(to: router)
        DecisionController(server: self).addRoutes(to: router)
        ConsentController(server: self).addRoutes(to: router)
        AuditController(server: self).addRoutes(to: router)
        GateController(server: self).addRoutes(to: router)
        TrainingSetController(server: self).addRoutes(to: router)
        AdminController(server: self).addRoutes(to: router)
        return router
    }

    /// Serves until SIGTERM or SIGINT (then finishes the requests in flight: each answered decision is already
    /// committed). SIGHUP reloads the policies.
    public func run(logger: Logger = Logger(label: "accord")) async throws {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.durationBuckets
        MetricsSystem.bootstrap(factory)
        signal(SIGHUP, SIG_IGN)
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        let service = self.service
        hangup.setEventHandler {
            switch service.reload() {
            case .success(let revision): logger.info("policies reloaded", metadata: ["revision": .string(revision)])
            case .failure(let problem):
                logger.error(
                    "reload refused: the new policies are invalid; still serving the running set",
                    metadata: ["problems": .string(problem.description)])
            }
        }
        hangup.resume()
        let checkpoints = configuration.checkpointEvery.map { schedule in
            Task.detached {
                await Self.checkpointInBackground(
                    service: service, schedule: schedule, publish: configuration.publishCheckpoints, logger: logger)
            }
        }
        defer { checkpoints?.cancel() }
        let app = Application(
            router: router(),
            server: .http1(configuration: .init(idleTimeout: .seconds(30))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "accord"),
            onServerRunning: { channel in
                logger.info(
                    "serving",
                    metadata: [
                        "address": .string("\(channel.localAddress.map { "\($0)" } ?? "")"), "revision": .string(service.plan.revision),
                    ])
            },
            logger: logger)
        try await app.runService()
        hangup.cancel()
    }

    /// Signs (and publishes) a checkpoint whenever the schedule says one is due; a failure is logged and tried
    /// again at the next tick, never fatal to serving.
    static func checkpointInBackground(service: DecisionService, schedule: CheckpointSchedule, publish: String?, logger: Logger) async {
        var lastSize = (try? service.stores.trail.checkpoints().map(\.size).max()) ?? 0
        var lastTime = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(200))
            guard let size = try? service.stores.trail.latestSequence(), size > lastSize else { continue }
            let due =
                switch schedule {
                case .records(let n): size - lastSize >= Int64(n)
                case .seconds(let t): ContinuousClock.now - lastTime >= .seconds(t)
                }
            guard due else { continue }
            do {
                let checkpoint =
                    try publish.map { try service.stores.trail.checkpoint(publishingTo: $0).0 } ?? service.stores.trail.checkpoint()
                lastSize = checkpoint.size
                lastTime = .now
                logger.info(
                    "checkpoint",
                    metadata: [
                        "size": .string("\(checkpoint.size)"), "root": .string(checkpoint.root),
                        "published": .string(publish ?? "no"),
                    ])
            } catch {
                logger.error("checkpoint failed; trying again", metadata: ["error": .string("\(error)")])
                lastTime = .now
            }
        }
    }
}
