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

    @OptionGroup var store: StoreOptions

    func validate() throws {
        if (request == nil) == (requests == nil) {
            throw ValidationError("give exactly one of --request FILE or --requests FILE.jsonl")
        }
        if let asOf, Timestamps.parse(asOf) == nil {
            throw ValidationError("--as-of must be an RFC 3339 timestamp such as 2026-01-31T00:00:00Z")
        }
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: policies) else {
            throw CommandFailure(code: .usage, message: "\(policies): error: no such file or folder")
        }
        let result = PolicySetValidator.validate(paths: [policies])
        guard let set = result.policySet else {
            let renderer = DiagnosticRenderer(sources: result.sources)
            throw CommandFailure(
                code: .policyProblem,
                message: result.diagnostics.map { renderer.text($0) }.joined(separator: "\n") + "policies are invalid; nothing decided")
        }
        // What differs from the server is only which parts the decision point gets (see DecisionPoint.Configuration).
        let point = DecisionPoint(
            plan: DecisionPlan.compile(set),
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
        let failures = try decideStream(requests!, with: decider)
        try decider.finish()
        if failures > 0 { throw ExitCode(AccordExit.usage.rawValue) }
    }

    /// Decides the JSON Lines at `path`, printing one line per request in order; returns how many could not be read.
    private func decideStream(_ path: String, with decider: EvalDecider) throws -> Int {
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
                pending.append(try DecisionRequest.decode(json: line))
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
            return decided.decision.json(decisionID: decided.id).serialized()
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
