import AccordCore
import AccordRuntime
import AccordStore
import ArgumentParser
import Foundation

/// `accord retention`: what the retention rules mean for the embedded feature store, and doing it.
struct RetentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Plan and carry out the policies' retention rules on the embedded feature store.",
        subcommands: [RetentionPlanCommand.self, RetentionPurgeCommand.self]
    )
}

struct RetentionOptions: ParsableArguments {
    @Option(help: "The policy folder or file.")
    var policies: String = "policies"
    @Option(name: .customLong("as-of"), help: "The instant, RFC 3339 (default: now).")
    var asOf: String?
    @OptionGroup var store: StoreOptions

    func validate() throws {
        if let asOf, Timestamps.parse(asOf) == nil { throw ValidationError("--as-of must be an RFC 3339 timestamp") }
    }

    var instant: Date { asOf.flatMap(Timestamps.parse) ?? Date() }

    func planner() throws -> RetentionPlanner {
        let result = PolicySetValidator.validate(paths: [policies])
        guard let set = result.policySet else {
            let renderer = DiagnosticRenderer(sources: result.sources)
            throw CommandFailure(code: .policyProblem, message: result.diagnostics.map { renderer.text($0) }.joined(separator: "\n"))
        }
        guard FileManager.default.fileExists(atPath: store.db) else {
            throw CommandFailure(code: .usage, message: "\(store.db): error: no such database")
        }
        return RetentionPlanner(policies: set, store: try SQLiteFeatureStore(path: store.db))
    }
}

extension RetentionPlanner.Item {
    var json: JSONValue {
        .object([
            ("rule", .string(rule)), ("feature", .string(feature)), ("category", .string(category)),
            ("max_age", .string(maxAge.description)), ("on_expiry", .string(action.rawValue)),
            ("purposes", .array(purposes.map(JSONValue.string))), ("purges", .bool(purges)),
            ("rows", .int(rows)), ("subjects", .int(subjects)),
        ])
    }
}

struct RetentionPlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "List what each retention rule would delete or anonymise, with counts (JSON Lines).")
    @OptionGroup var options: RetentionOptions

    func run() throws {
        for item in try options.planner().plan(asOf: options.instant) { print(item.json.serialized()) }
    }
}

struct RetentionPurgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Delete or anonymise what the retention rules for every purpose expire; recorded in the audit trail; safe to rerun.")
    @OptionGroup var options: RetentionOptions

    func run() throws {
        // A purge dated in the future would delete what has not expired yet, and date the trail ahead for good.
        if options.instant > Date().addingTimeInterval(60) {
            throw CommandFailure(code: .usage, message: "error: --as-of for a purge cannot be in the future")
        }
        let planner = try options.planner()
        let done = try planner.purge(asOf: options.instant, trail: try options.store.openTrail())
        for item in done { print(item.json.serialized()) }
        print("purged: \(done.reduce(0) { $0 + $1.rows }) rows under \(done.count) rule/feature pairs")
    }
}
