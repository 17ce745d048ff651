import AccordServer
import AccordStore
import ArgumentParser
import Foundation

/// `accord serve`: the decision server (AuthZEN and the native API over HTTP).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve decisions over HTTP: OpenID AuthZEN 1.0 and the native API, every decision recorded (docs/server.md)."
    )

    @Option(help: "The policy folder or file.")
    var policies = "policies"

    @Option(help: "The SQLite database of the audit trail and the consent store.")
    var db = "accord.sqlite"

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on.")
    var port = 8181

    @Option(help: "A file holding the bearer token that admin and consent-writing endpoints require (or set ACCORD_TOKEN).")
    var tokenFile: String?

    @Option(help: "Largest request body accepted, in bytes.")
    var maxBody = 1 << 20

    @Option(help: "Most evaluations or requests in one batch (/access/v1/evaluations, /v1/decide/batch).")
    var maxItems = 1_000

    @Option(
        help: ArgumentHelp(
            "Also require the bearer token on these endpoints; 'decisions' covers the AuthZEN and native decision endpoints.",
            valueName: "decisions"))
    var requireToken: [String] = []

    @Option(help: "full (default), normal or off: how hard each commit is pushed to disk.")
    var durability = "full"

    @Flag(help: "Decide aggregates without spending from the privacy-budget ledger (by default they spend, as `accord eval --budgets`).")
    var noBudgets = false

    @Option(
        help: ArgumentHelp(
            "Sign a checkpoint on its own every N records (10000) or every T of time (30s, 5m, 1h) when records came in.",
            valueName: "N|T"))
    var checkpointEvery: String?

    @Option(
        help: ArgumentHelp(
            "Publish each background checkpoint as a C2SP signed note: appended to FILE, or written into DIR.", valueName: "FILE|DIR"))
    var publish: String?

    @Option(
        name: .customLong("public-url"),
        help: ArgumentHelp(
            "The base URL clients reach this server by (e.g. https://pdp.example.org behind a TLS terminator), named in "
                + "/.well-known/authzen-configuration.", valueName: "URL"))
    var publicURL: String?

    @Option(
        name: .customLong("default-purpose"),
        help: "The purpose of an AuthZEN evaluation without context.purpose (else it is denied with request.no_purpose).")
    var defaultPurpose: String?

    @Flag(
        name: .customLong("show-locations"),
        help: "Show rule locations (file:line:col) in decisions to callers without the token too (by default only token holders see them).")
    var showLocations = false

    func run() async throws {
        var token = ProcessInfo.processInfo.environment["ACCORD_TOKEN"]
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw CommandFailure(code: .usage, message: "\(tokenFile): error: cannot read the token file")
            }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let given = token, given.count < 16 {
            throw CommandFailure(code: .usage, message: "error: the token must be at least 16 characters")
        }
        guard let durability = Durability(rawValue: durability) else {
            throw CommandFailure(code: .usage, message: "--durability: error: full, normal or off")
        }
        guard maxItems > 0 else { throw CommandFailure(code: .usage, message: "--max-items: error: at least 1") }
        for group in requireToken where group != "decisions" {
            throw CommandFailure(code: .usage, message: "--require-token: error: unknown group '\(group)' (known: decisions)")
        }
        if !requireToken.isEmpty && token == nil {
            throw CommandFailure(code: .usage, message: "--require-token: error: no token is configured (--token-file or ACCORD_TOKEN)")
        }
        var schedule: CheckpointSchedule?
        if let checkpointEvery {
            guard let parsed = CheckpointSchedule(checkpointEvery) else {
                throw CommandFailure(
                    code: .usage, message: "--checkpoint-every: error: a number of records (10000) or a time with a unit (30s, 5m, 1h)")
            }
            schedule = parsed
        } else if publish != nil {
            throw CommandFailure(code: .usage, message: "--publish: error: needs --checkpoint-every (when to checkpoint)")
        }
        if let publicURL {
            guard let url = URL(string: publicURL), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil,
                url.query == nil, url.fragment == nil
            else {
                throw CommandFailure(code: .usage, message: "--public-url: error: an http:// or https:// URL without query or fragment")
            }
        }
        let server: AccordHTTPServer
        do {
            server = try AccordHTTPServer(
                configuration: ServerConfiguration(
                    policies: policies, database: db, host: host, port: port, token: token,
                    maxBodyBytes: maxBody, durability: durability,
                    checkpointEvery: schedule, publishCheckpoints: publish,
                    maxItems: maxItems, tokenForDecisions: requireToken.contains("decisions"),
                    spendBudgets: !noBudgets, publicURL: publicURL, defaultPurpose: defaultPurpose,
                    showLocations: showLocations))
        } catch let problem as DecisionService.PolicyProblem {
            throw CommandFailure(code: .policyProblem, message: "\(problem)\npolicies are invalid; not serving")
        }
        if let defaultPurpose, server.service.plan.policySet.purposes[defaultPurpose] == nil {
            throw CommandFailure(
                code: .usage, message: "--default-purpose: error: '\(defaultPurpose)' is not a purpose of the policies in \(policies)")
        }
        try await server.run()
    }
}
