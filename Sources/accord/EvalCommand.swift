import AccordCore
import AccordRuntime
import AccordStore
import ArgumentParser
import Foundation

/// `accord eval`: decide requests against a policy set and print the decisions as JSON.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Decide one request (--request) or a stream of them (--requests, JSON Lines); print decisions as JSON."
    )

    @Option(help: "The policy folder or file.")
    var policies: String = "policies"

    @Option(help: "A JSON file holding one request ('-' for standard input).")
    var request: String?

    @Option(help: "A JSON Lines file of requests, one per line ('-' for standard input); one decision per line out.")
    var requests: String?

    @Option(name: .customLong("as-of"), help: "The instant to decide at, RFC 3339 (default: now).")
    var asOf: String?

    @Flag(help: "Add the rules considered for each resource.")
    var explain = false

    @Flag(help: "Record every decision in the audit trail (--db); a decision that cannot be recorded is a deny.")
    var record = false

    @Flag(
        name: .customLong("consent-store"),
        help: "Requests without a `consent` object take the subject's consent from the consent store (--db) as of --as-of.")
    var consentStore = false

    @Flag(
        help:
            "Aggregates under a budgeted differential_privacy obligation spend from the privacy-budget ledger (--db); a spend past the budget is a deny."
    )
    var budgets = false

    @Flag(
        help: ArgumentHelp(
            "With --requests FILE: also time the policy evaluation alone, on standard error.",
            discussion: """
                After the decisions are printed, every request read is decided again by the compiled plan alone \
                (nothing recorded, no store read: the consent the requests carry), in batches of 1,000, and one JSON \
                line goes to standard error: {"accord_timing": {"requests", "resources", "load_ms", "median_ns", \
                "p10_ns", "p90_ns"}} — the time per request of the median, 10th and 90th percentile batch, and the \
                time to read, validate and compile the policies.
                """))
    var timing = false

    @OptionGroup var store: StoreOptions

    func validate() throws {
        if (request == nil) == (requests == nil) {
            throw ValidationError("give exactly one of --request FILE or --requests FILE.jsonl")
        }
        if timing && (requests == nil || requests == "-" || consentStore || budgets) {
            throw ValidationError(
                "--timing times the plan alone over a file of requests: give --requests FILE, without --consent-store or --budgets")
        }
        if let asOf, Timestamps.parse(asOf) == nil {
            throw ValidationError("--as-of must be an RFC 3339 timestamp such as 2026-01-31T00:00:00Z")
        }
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: policies) else {
            throw CommandFailure(code: .usage, message: "\(policies): error: no such file or folder")
        }
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let result = PolicySetValidator.validate(paths: [policies])
        guard let set = result.policySet else {
            let renderer = DiagnosticRenderer(sources: result.sources)
            throw CommandFailure(
                code: .policyProblem,
                message: result.diagnostics.map { renderer.text($0) }.joined(separator: "\n") + "policies are invalid; nothing decided")
        }
        let plan = DecisionPlan.compile(set)
        let loadNanoseconds = DispatchTime.now().uptimeNanoseconds - loadStart
        // What differs from the server is only which parts the decision point gets (see DecisionPoint.Configuration).
        let point = DecisionPoint(
            plan: plan,
            configuration: DecisionPoint.Configuration(
                consent: consentStore ? try store.openConsent() : nil, budgets: budgets ? try store.openBudgets() : nil,
                trail: record ? try store.openTrail() : nil))
        let decider = EvalDecider(
            point: point, instant: asOf.flatMap(Timestamps.parse) ?? Date(), options: EvaluationOptions(explain: explain))
        if let request {
            let data = try read(request)
            do {
                print(decider.decide([try DecisionRequest.decode(json: data)])[0])
            } catch {
                throw CommandFailure(code: .usage, message: "\(request): error: \(error)")
            }
            try decider.finish()
            return
        }
        var read: [DecisionRequest]? = timing ? [] : nil
        let failures = try decideStream(requests!, with: decider, keeping: &read)
        try decider.finish()
        if let read { Self.time(read, plan: plan, asOf: decider.instant, loadNanoseconds: loadNanoseconds) }
        if failures > 0 { throw ExitCode(AccordExit.usage.rawValue) }
    }

    /// `--timing`: `requests` decided again by `plan` alone in batches of 1,000; one JSON line on standard error.
    private static func time(_ requests: [DecisionRequest], plan: DecisionPlan, asOf instant: Date, loadNanoseconds: UInt64) {
        let (batches, resources) = plan.timeEvaluation(of: requests, asOf: instant, batch: 1_000)
        let perRequest = batches.sorted()
        func percentile(_ p: Double) -> JSONValue {
            perRequest.isEmpty ? .null : .int(Int(perRequest[min(perRequest.count - 1, Int(Double(perRequest.count) * p))].rounded()))
        }
        let figures = JSONValue.object([
            ("requests", .int(requests.count)), ("resources", .int(resources)),
            ("load_ms", .double((Double(loadNanoseconds) / 1e6 * 10).rounded() / 10)),
            ("median_ns", percentile(0.5)), ("p10_ns", percentile(0.1)), ("p90_ns", percentile(0.9)),
        ])
        writeError(JSONValue.object([("accord_timing", figures)]).serialized())
    }

    /// Decides the JSON Lines at `path`, printing one line per request in order; returns how many could not be read.
    /// Requests read are also kept in `keeping` when it is not nil.
    private func decideStream(_ path: String, with decider: EvalDecider, keeping kept: inout [DecisionRequest]?) throws -> Int {
        guard let lines = LineReader(path: path) else {
            throw CommandFailure(code: .usage, message: "\(path): error: cannot read file")
        }
        // From a file, decisions are recorded in commits of up to 1,000; from standard input or a pipe, one at a time,
        // so a caller holding the pipe open gets each answer as soon as it is recorded.
        // Anything but a regular file (a FIFO, /dev/stdin, a process substitution) is a stream someone may hold open.
        let batchSize = path == "-" || !Self.isRegularFile(path) ? 1 : 1_000
        var pending: [DecisionRequest] = []
        func flush() {
            guard !pending.isEmpty else { return }
            for line in decider.decide(pending) { print(line) }
            pending.removeAll(keepingCapacity: true)
            fflush(nil)
        }
        var failures = 0
        var lineNumber = 0
        for line in lines {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            do {
                let request = try DecisionRequest.decode(json: line)
                pending.append(request)
                kept?.append(request)
                if pending.count >= batchSize { flush() }
            } catch {
                // A request that cannot be read is answered with an error, never a decision, in its place in the output.
                flush()
                failures += 1
                writeError("\(path):\(lineNumber): error: \(error)")
                print(JSONValue.object([("line", .int(lineNumber)), ("error", .string(error.description))]).serialized())
                fflush(nil)
            }
        }
        flush()
        return failures
    }

    /// Whether `path` (followed through links) is a regular file rather than a pipe, FIFO or device.
    static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    private func read(_ path: String) throws -> Data {
        if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandFailure(code: .usage, message: "\(path): error: cannot read file")
        }
        return data
    }
}

/// Decides batches for `accord eval` and renders each decision's JSON line. A decision turned into a deny because
/// the trail or the consent store failed is answered (as a deny) and its cause goes to standard error once;
/// `finish` then exits 3, so that a script cannot miss it.
final class EvalDecider {
    let point: DecisionPoint
    let instant: Date
    let options: EvaluationOptions
    private var failedClosed = 0
    private var causesSeen: Set<String> = []

    init(point: DecisionPoint, instant: Date, options: EvaluationOptions) {
        self.point = point
        self.instant = instant
        self.options = options
    }

    /// Decides a batch (recorded in one commit when recording) and returns each decision's JSON line.
    func decide(_ batch: [DecisionRequest]) -> [String] {
        point.decide(batch, asOf: instant, options: options).map { decided in
            note(decided.decision)
            return String(decoding: decided.decision.jsonBytes(decisionID: decided.id), as: UTF8.self)
        }
    }

    private func note(_ decision: Decision) {
        guard let reason = decision.failedClosed else { return }
        failedClosed += 1
        let cause = "\(reason.code.rawValue): \(reason.detail ?? "no detail")"
        if causesSeen.insert(cause).inserted {
            writeError("error: decisions denied because they could not be made safely (fail closed): \(cause)")
        }
    }

    /// Exits 3 if any decision failed closed.
    func finish() throws {
        guard failedClosed > 0 else { return }
        writeError("error: \(failedClosed) decision\(failedClosed == 1 ? " was" : "s were") denied because a store failed (see above)")
        throw ExitCode(AccordExit.internalError.rawValue)
    }
}
