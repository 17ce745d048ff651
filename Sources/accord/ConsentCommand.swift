import AccordCore
import AccordStore
import ArgumentParser
import Foundation

/// `accord consent`: the consent store — each person's history of consent events and the state it gives.
struct ConsentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consent",
        abstract: "Record and read consent: grants, withdrawals, objections, opt-outs, and their history.",
        subcommands: [
            ConsentGrantCommand.self, ConsentWithdrawCommand.self, ConsentObjectCommand.self, ConsentOptOutCommand.self,
            ConsentTCFCommand.self, ConsentGPCCommand.self, ConsentShowCommand.self, ConsentHistoryCommand.self,
            ConsentImportCommand.self, ConsentDecodeTCFCommand.self,
        ]
    )
}

/// What every recorded event takes besides its target.
struct EventOptions: ParsableArguments {
    @Option(help: "Where the event came from: api, tcf, gpc or import.")
    var source: String = "api"

    @Option(help: "When the person acted, RFC 3339 (default: now).")
    var at: String?

    @Option(help: "How it was collected, as a JSON object (form, CMP, TC string…).")
    var evidence: String?

    func validate() throws {
        if ConsentEvent.Source(rawValue: source) == nil { throw ValidationError("--source must be api, tcf, gpc or import") }
        if let at, Timestamps.parse(at) == nil { throw ValidationError("--at must be an RFC 3339 timestamp such as 2026-01-31T00:00:00Z") }
        if let evidence {
            guard let data = evidence.data(using: .utf8), (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
                throw ValidationError("--evidence must be a JSON object")
            }
        }
    }

    func event(_ kind: ConsentEvent.Kind, target: String, version: Int? = nil, byGuardian: Bool = false) -> ConsentEvent {
        ConsentEvent(
            kind: kind, target: target, version: version, byGuardian: byGuardian, source: ConsentEvent.Source(rawValue: source)!,
            occurredAt: at.flatMap(Timestamps.parse) ?? Date(), evidence: evidence)
    }
}

/// Records one event and prints it.
private func record(_ event: ConsentEvent, subject: String, store: StoreOptions) throws {
    let recorded = try store.openConsent().record([event], subject: subject)[0]
    print(recorded.json.serialized())
}

struct ConsentGrantCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "grant", abstract: "Record that a person agreed to a consent scope.")

    @Argument(help: "The person's id, as requests name them (stored only as a keyed pseudonym).")
    var subject: String
    @Option(help: "The consent scope agreed to.")
    var scope: String
    @Option(help: "The version of the scope's text agreed to.")
    var version: Int = 1
    @Flag(help: "Given by a parent or guardian.")
    var guardian = false
    @OptionGroup var event: EventOptions
    @OptionGroup var store: StoreOptions
    @Option(help: "The policy folder whose ConsentScopes the scope must be one of (default: ./policies, if there is one).")
    var policies: String?

    func validate() throws {
        if !(1...1_000_000).contains(version) { throw ValidationError("--version must be between 1 and 1000000") }
    }

    func run() throws {
        try checkScope(scope, policies: policies)
        try record(event.event(.grant, target: scope, version: version, byGuardian: guardian), subject: subject, store: store)
    }
}

struct ConsentWithdrawCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "withdraw", abstract: "Record that a person took a consent back.")

    @Argument(help: "The person's id.")
    var subject: String
    @Option(help: "The consent scope withdrawn.")
    var scope: String
    @OptionGroup var event: EventOptions
    @OptionGroup var store: StoreOptions
    @Option(help: "The policy folder whose ConsentScopes the scope must be one of (default: ./policies, if there is one).")
    var policies: String?

    func run() throws {
        try checkScope(scope, policies: policies)
        try record(event.event(.withdraw, target: scope), subject: subject, store: store)
    }
}

struct ConsentObjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "object",
        abstract: "Record that a person objected to a purpose (legitimate interest, GDPR Art. 21).")

    @Argument(help: "The person's id.")
    var subject: String
    @Option(help: "The purpose objected to (covers its sub-purposes).")
    var purpose: String
    @OptionGroup var event: EventOptions
    @OptionGroup var store: StoreOptions

    func run() throws { try record(event.event(.object, target: purpose), subject: subject, store: store) }
}

struct ConsentOptOutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "opt-out",
        abstract: "Record that a person opted out of a purpose or a flag such as sale_or_share.")

    @Argument(help: "The person's id.")
    var subject: String
    @Option(help: "A purpose, or the flag sale_or_share or profiling.")
    var of: String
    @OptionGroup var event: EventOptions
    @OptionGroup var store: StoreOptions

    func run() throws { try record(event.event(.optOut, target: of), subject: subject, store: store) }
}

/// A grant or withdrawal of a scope no policy declares would be recorded and never count: refused, naming the
/// known scopes, when the policies are given (`--policies`) or found (`./policies`). Policies found but invalid
/// are reported and not used for the check; given and invalid, they fail the command.
private func checkScope(_ scope: String, policies: String?) throws {
    let path = policies ?? "policies"
    guard FileManager.default.fileExists(atPath: path) else {
        if let policies { throw CommandFailure(code: .usage, message: "\(policies): error: no such file or folder") }
        return
    }
    let known: [ConsentScope]
    do {
        known = try consentScopes(path)
    } catch let failure as CommandFailure where policies == nil {
        writeError("warning: ./policies is not a valid policy set, so the scope '\(scope)' was not checked against it\n\(failure.message)")
        return
    }
    guard !known.contains(where: { $0.id == scope }) else { return }
    let names = known.map(\.id)
    let suggestion = Suggestion.closest(to: scope, in: names).map { " (did you mean '\($0)'?)" } ?? ""
    throw CommandFailure(
        code: .usage,
        message: "--scope: error: no consent scope '\(scope)' in \(path)\(suggestion); known scopes: "
            + (names.isEmpty ? "none" : names.joined(separator: ", ")))
}

/// Reads a policy set for its consent scopes, or fails with its diagnostics.
private func consentScopes(_ policies: String) throws -> [ConsentScope] {
    let result = PolicySetValidator.validate(paths: [policies])
    guard let set = result.policySet else {
        let renderer = DiagnosticRenderer(sources: result.sources)
        throw CommandFailure(code: .policyProblem, message: result.diagnostics.map { renderer.text($0) }.joined(separator: "\n"))
    }
    return set.scopes.values.sorted { $0.id < $1.id }
}

/// A TC string, or a usage error saying why it is not one.
private func decodeTC(_ text: String) throws -> TCString {
    do {
        return try TCString(decoding: text)
    } catch {
        throw CommandFailure(code: .usage, message: "error: not a TCF v2 TC string: \(error)")
    }
}

struct ConsentTCFCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tcf",
        abstract: "Record a person's choices from an IAB TCF v2 TC string, through the scopes' tcf_purposes.")

    @Argument(help: "The person's id.")
    var subject: String
    @Argument(help: "The TC string.")
    var tcString: String
    @Option(help: "The policy folder whose ConsentScopes map TCF purposes to scopes.")
    var policies: String = "policies"
    @OptionGroup var store: StoreOptions

    func run() throws {
        let tc = try decodeTC(tcString)
        let events = try store.openConsent().record(tc, raw: tcString, subject: subject, scopes: try consentScopes(policies))
        for event in events { print(event.json.serialized()) }
    }
}

struct ConsentImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import consent events from a CSV (with a header row) or JSON Lines file: all lines or none.",
        discussion: "Fields: subject, kind (grant, withdraw, expire, object, opt_out), target, occurred_at (RFC 3339); "
            + "optional: version, by_guardian, source (default import), evidence (a JSON object).")

    @Argument(help: "The file: .csv is read as CSV, anything else as JSON Lines.")
    var file: String
    @OptionGroup var store: StoreOptions

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw CommandFailure(code: .usage, message: "\(file): error: cannot read the file as UTF-8 text")
        }
        switch ConsentImport.read(text, csv: file.lowercased().hasSuffix(".csv"), file: (file as NSString).lastPathComponent) {
        case .failure(let failure):
            throw CommandFailure(
                code: .usage,
                message: failure.problems.map { "\(file):\($0.line): error: \($0.message)" }
                    .joined(separator: "\n")
                    + "\n\(file): nothing imported (\(failure.problems.count) bad line\(failure.problems.count == 1 ? "" : "s"))")
        case .success(let events):
            let recorded = try store.openConsent().record(events)
            print(
                "imported \(recorded.count) consent event\(recorded.count == 1 ? "" : "s")"
                    + (recorded.isEmpty ? "" : " (events \(recorded.first!.id)–\(recorded.last!.id))"))
        }
    }
}

struct ConsentGPCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gpc",
        abstract: "Record a Global Privacy Control signal (Sec-GPC: 1): an opt-out of sale and sharing where the jurisdiction honours it.")

    @Argument(help: "The person's id.")
    var subject: String
    @Option(help: "When the signal was seen, RFC 3339 (default: now).")
    var at: String?
    @OptionGroup var store: StoreOptions

    func validate() throws {
        if let at, Timestamps.parse(at) == nil { throw ValidationError("--at must be an RFC 3339 timestamp") }
    }

    func run() throws {
        print(try store.openConsent().recordGPC(subject: subject, at: at.flatMap(Timestamps.parse) ?? Date()).json.serialized())
    }
}

struct ConsentDecodeTCFCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode-tcf", abstract: "Decode an IAB TCF v2 TC string's core segment (and, with --policies, the scopes it grants).")

    @Argument(help: "The TC string.")
    var tcString: String
    @Option(help: "A policy folder: also list the consent scopes the string grants through their tcf_purposes.")
    var policies: String?

    func run() throws {
        let tc = try decodeTC(tcString)
        func numbers(_ set: Set<Int>) -> JSONValue { .array(set.sorted().map { .int($0) }) }
        var pairs: [(String, JSONValue)] = [
            ("version", .int(tc.version)), ("created", .string(Timestamps.format(tc.created))),
            ("last_updated", .string(Timestamps.format(tc.lastUpdated))), ("cmp_id", .int(tc.cmpID)),
            ("cmp_version", .int(tc.cmpVersion)), ("consent_screen", .int(tc.consentScreen)),
            ("consent_language", .string(tc.consentLanguage)), ("vendor_list_version", .int(tc.vendorListVersion)),
            ("tcf_policy_version", .int(tc.policyVersion)), ("is_service_specific", .bool(tc.isServiceSpecific)),
            ("use_non_standard_texts", .bool(tc.useNonStandardTexts)), ("special_feature_opt_ins", numbers(tc.specialFeatureOptIns)),
            ("purpose_consents", numbers(tc.purposeConsents)), ("purpose_legitimate_interests", numbers(tc.purposeLegitimateInterests)),
            ("purpose_one_treatment", .bool(tc.purposeOneTreatment)), ("publisher_cc", .string(tc.publisherCountry)),
            ("vendor_consents", numbers(tc.vendorConsents)), ("vendor_legitimate_interests", numbers(tc.vendorLegitimateInterests)),
        ]
        if let policies {
            pairs.append(("granted_scopes", .array(tc.grantedScopes(in: try consentScopes(policies)).map { .string($0.id) })))
        }
        print(JSONValue.object(pairs).serialized())
    }
}

struct ConsentShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print a person's consent state as of an instant.")

    @Argument(help: "The person's id.")
    var subject: String
    @Option(name: .customLong("as-of"), help: "The instant, RFC 3339 (default: now).")
    var asOf: String?
    @Option(help: "A policy folder: adds when each grant expires under its scope's expires_after.")
    var policies: String?
    @OptionGroup var store: StoreOptions

    func validate() throws {
        if let asOf, Timestamps.parse(asOf) == nil { throw ValidationError("--as-of must be an RFC 3339 timestamp") }
    }

    func run() throws {
        var expiries: [String: PolicyDuration] = [:]
        if let policies {
            for scope in try consentScopes(policies) { if let after = scope.expiresAfter { expiries[scope.id] = after } }
        }
        let instant = asOf.flatMap(Timestamps.parse) ?? Date()
        let derived = try store.openExistingConsent().consent(subject: subject, asOf: instant)
        print(
            JSONValue.object([
                ("subject", .string(subject)),
                ("as_of", .string(Timestamps.format(instant))),
                (
                    "grants",
                    .array(
                        derived.state.grants.map { grant in
                            var pairs: [(String, JSONValue)] = [
                                ("scope", .string(grant.scope)), ("version", .int(grant.version)),
                                ("granted_at", .string(Timestamps.format(grant.grantedAt))),
                            ]
                            if grant.byGuardian { pairs.append(("by_guardian", .bool(true))) }
                            if let after = expiries[grant.scope] {
                                let expiry = grant.grantedAt.addingTimeInterval(Double(after.seconds))
                                pairs.append(("expires_at", .string(Timestamps.format(expiry))))
                                pairs.append(("expired", .bool(expiry <= instant)))
                            }
                            if let event = grant.event { pairs.append(("event", .int(Int(event)))) }
                            return .object(pairs)
                        })
                ),
                ("objections", .array(derived.state.objections.map(JSONValue.string))),
                ("opt_outs", .array(derived.state.optOuts.map(JSONValue.string))),
                ("last_event", derived.lastEvent.map { .int(Int($0)) } ?? .null),
            ]).serialized())
    }
}

struct ConsentHistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Print every consent event of a person, in order.")

    @Argument(help: "The person's id.")
    var subject: String
    @Option(help: "Output: table, json or jsonl.")
    var format: RecordFormat = .table
    @OptionGroup var store: StoreOptions

    func validate() throws {
        if format == .csv { throw ValidationError("--format must be table, json or jsonl") }
    }

    func run() throws {
        let history = try store.openExistingConsent().history(subject: subject)
        switch format {
        case .json: print(JSONValue.array(history.map(\.json)).serialized())
        case .jsonl, .csv: for record in history { print(record.json.serialized()) }
        case .table:
            print(
                table(
                    header: ["EVENT", "OCCURRED", "KIND", "TARGET", "VERSION", "SOURCE", "RECORDED"],
                    rows: history.map { r in
                        [
                            String(r.id), Timestamps.format(r.event.occurredAt),
                            r.event.kind.rawValue + (r.event.byGuardian ? " (guardian)" : ""),
                            r.event.target, r.event.version.map(String.init) ?? "", r.event.source.rawValue,
                            Timestamps.format(r.recordedAt),
                        ]
                    }) + "(\(history.count) event\(history.count == 1 ? "" : "s"))", terminator: "\n")
        }
    }
}

extension ConsentEventRecord {
    var json: JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("event", .int(Int(id))), ("kind", .string(event.kind.rawValue)), ("target", .string(event.target)),
        ]
        if let version = event.version { pairs.append(("version", .int(version))) }
        if event.byGuardian { pairs.append(("by_guardian", .bool(true))) }
        pairs += [
            ("source", .string(event.source.rawValue)), ("occurred_at", .string(Timestamps.format(event.occurredAt))),
            ("recorded_at", .string(Timestamps.format(recordedAt))),
        ]
        if let evidence = event.evidence { pairs.append(("evidence", .string(evidence))) }
        return .object(pairs)
    }
}
