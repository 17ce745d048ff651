import AccordCore
import AccordRuntime
import AccordStore
import ArgumentParser
import Foundation
import RecsysModel

/// `accord demo`: personalised ML within the policy, end to end, on a synthetic workspace.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Build a synthetic recommender workspace and run it through the gate: reads, training, a withdrawal, "
            + "lineage, retention, verification."
    )

    @Option(help: "The policy folder.")
    var policies: String = "policies"

    @Option(help: "The workspace description.")
    var spec: String = "examples/recsys/workspace.json"

    @Option(help: "Where the workspace is built (replaced if it exists).")
    var workspace: String = "demo-workspace"

    func run() throws {
        let started = Date()
        guard let data = FileManager.default.contents(atPath: spec),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let settings = DemoSettings(object)
        else { throw CommandFailure(code: .usage, message: "\(spec): error: not a workspace description") }
        let result = PolicySetValidator.validate(paths: [policies])
        guard let set = result.policySet else {
            let renderer = DiagnosticRenderer(sources: result.sources)
            throw CommandFailure(code: .policyProblem, message: result.diagnostics.map { renderer.text($0) }.joined(separator: "\n"))
        }
        try? FileManager.default.removeItem(atPath: workspace)
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        let demo = try DemoRun(settings: settings, policies: set, database: workspace + "/accord.sqlite")
        let outcome = try demo.run(describing: "\(workspace)/ from \(spec)")
        try Data((outcome.summary.serialized() + "\n").utf8).write(to: URL(fileURLWithPath: workspace + "/summary.json"))
        print(outcome.text(workspace: workspace, database: demo.database, seconds: Date().timeIntervalSince(started)))
        if !outcome.verification.isIntact { throw ExitCode(AccordExit.policyProblem.rawValue) }
    }
}

/// One run of the demo over a fresh workspace: the steps in order, each printing what it does.
struct DemoRun {
    let settings: DemoSettings
    let policies: PolicySet
    let database: String
    let stores: Stores
    let gate: FeatureGate
    let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
    static let region = RequestContext(processingRegion: "EU")

    init(settings: DemoSettings, policies: PolicySet, database path: String) throws {
        self.settings = settings
        self.policies = policies
        database = path
        // One connection for every store in the file, as a serving process holds it.
        stores = try Stores.sqlite(try StoreDatabase(path: path, durability: .normal))
        gate = FeatureGate(plan: DecisionPlan.compile(policies), store: stores.features, trail: stores.trail, consent: stores.consent)
    }

    private func step(_ text: String) {
        print("• " + text)
        fflush(nil)
    }

    func run(describing workspace: String) throws -> DemoOutcome {
        step(
            "building \(workspace): \(settings.people) people, \(settings.weeks) weeks of \(settings.features.count) features")
        var generator = DemoGenerator(settings: settings, now: now)
        try stores.features.write(generator.rows())
        try stores.consent.record(generator.consentEvents(), at: Date())
        let people = generator.subjects
        let statuses = try onlineReads(people)
        let (training, quality) = try training(people)
        let after = try withdrawal(people, generator: generator)
        step("purging what the retention rules expire")
        let purged = try RetentionPlanner(policies: policies, store: stores.features).purge(
            asOf: now.addingTimeInterval(1), trail: stores.trail)
        step("checkpointing and verifying the audit trail")
        let checkpoint = try stores.trail.checkpoint(at: now)
        return DemoOutcome(
            statuses: statuses, training: training.manifest, quality: quality, withdrawnReadAfter: after,
            rowsPurged: purged.reduce(0) { $0 + $1.rows }, checkpoint: checkpoint, verification: try stores.trail.verify(),
            stats: try stores.trail.stats(from: nil, to: nil, topReasons: 5))
    }

    /// Recommendation-time reads, one per person: how many values of each status were served.
    private func onlineReads(_ people: [Subject]) throws -> [String: Int] {
        step("online reads for personalization.recommendations, one per person")
        var statuses: [String: Int] = [:]
        for person in people {
            let served = try read(person, settings.onlineFeatures, asOf: now)
            for value in served.values { statuses[value.status.rawValue, default: 0] += 1 }
        }
        return statuses
    }

    private func read(_ person: Subject, _ features: [String], asOf instant: Date) throws -> FeatureGate.SubjectFeatures {
        try gate.onlineFeatures(
            subjects: [person], features: features, purpose: "personalization.recommendations",
            actor: Actor(id: "recsys-online"), context: Self.region, asOf: instant)[0]
    }

    /// A training set, and the model trained on it (registered in the lineage).
    private func training(_ people: [Subject]) throws -> (FeatureGate.TrainingSet, Double?) {
        step("building a training set for model.training and training the click model")
        let training = try gate.trainingSet(
            features: settings.trainingFeatures + [settings.label], purpose: "model.training",
            actor: Actor(id: "trainer"), population: people, from: now.addingTimeInterval(-120 * 86_400),
            to: now, context: Self.region, asOf: now, lineage: stores.lineage, id: "recs-training-1")
        let quality = DemoModel.evaluate(rows: training.rows, features: settings.trainingFeatures, label: settings.label)
        try stores.lineage.register(model: "recs-click", version: "1", trainingSet: training.manifest.id, at: now)
        return (training, quality)
    }

    /// A withdrawal: the next read is denied, and the lineage says which model to retrain. Returns the status of
    /// the read after it.
    private func withdrawal(_ people: [Subject], generator: DemoGenerator) throws -> String {
        guard
            let withdrawn = people.first(where: {
                generator.consented($0.id, "personalization") && !generator.consented($0.id, "health_insights")
                    && ($0.age ?? 0) >= 18 && $0.jurisdiction == "EU"
            })
        else { throw CommandFailure(code: .internalError, message: "error: the workspace has no one to withdraw consent") }
        step("\(withdrawn.id) withdraws consent for personalisation")
        let before = try read(withdrawn, ["clicks_7d"], asOf: now)
        try stores.consent.record(
            [ConsentEvent(kind: .withdraw, target: "personalization", occurredAt: now)], subject: withdrawn.id, at: now)
        let after = try read(withdrawn, ["clicks_7d"], asOf: now.addingTimeInterval(1))
        let sets = try stores.lineage.trainingSets(including: withdrawn.id)
        print(
            "    read before: \(before.values[0].status.rawValue); after: \(after.values[0].status.rawValue) "
                + "(\(after.values[0].reasons.map(\.code.rawValue).joined(separator: ", ")))")
        print(
            "    lineage: in \(sets.map(\.id).joined(separator: ", ")); models to retrain: "
                + sets.flatMap(\.models).joined(separator: ", "))
        return after.values[0].status.rawValue
    }
}

/// What a demo run found, as `summary.json` and as the closing text.
struct DemoOutcome {
    var statuses: [String: Int]
    var training: FeatureGate.TrainingManifest
    var quality: Double?
    var withdrawnReadAfter: String
    var rowsPurged: Int
    var checkpoint: Checkpoint
    var verification: AuditVerification
    var stats: AuditStats

    private var permits: Int { stats.byPurpose.map(\.permit).reduce(0, +) }
    private var partials: Int { stats.byPurpose.map(\.partial).reduce(0, +) }
    private var denies: Int { stats.byPurpose.map(\.deny).reduce(0, +) }
    private var excluded: [(String, Int)] { training.rowsExcluded.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    private var values: [(String, Int)] { statuses.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }

    var summary: JSONValue {
        .object([
            ("records", .int(stats.records)), ("decisions", .int(stats.decisions)),
            ("retention_purge_records", .int(stats.retentionPurges)),
            ("by_effect", .object([("permit", .int(permits)), ("partial", .int(partials)), ("deny", .int(denies))])),
            ("top_reasons", .array(stats.topReasons.map { .object([("code", .string($0.code)), ("records", .int($0.records))]) })),
            ("online_values", .object(values.map { ($0.0, .int($0.1)) })),
            ("training_rows", .int(training.rowsIncluded)),
            ("training_rows_excluded", .object(excluded.map { ($0.0, .int($0.1)) })),
            ("model_auc", quality.map { .double(($0 * 1_000).rounded() / 1_000) } ?? .null),
            ("withdrawal_read_after", .string(withdrawnReadAfter)),
            ("rows_purged", .int(rowsPurged)),
            ("trail_intact", .bool(verification.isIntact)),
            ("checkpoint", .object([("size", .int(Int(checkpoint.size))), ("root", .string(checkpoint.root))])),
        ])
    }

    func text(workspace: String, database: String, seconds: Double) -> String {
        """

        Summary (\(workspace)/summary.json; the trail is \(database))
          decisions recorded: \(stats.decisions) — \(permits) permit, \(partials) partial, \(denies) deny \
        (and \(stats.retentionPurges) retention purge records)
          top reasons: \(stats.topReasons.map { "\($0.code) \($0.records)" }.joined(separator: ", "))
          online values: \(values.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
          training set: \(training.rowsIncluded) rows kept; excluded \(excluded.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
          click model AUC on held-out people: \(quality.map { String(format: "%.3f", $0) } ?? "n/a")
          retention purge: \(rowsPurged) rows deleted or anonymised, \(stats.retentionPurges) purge records
          audit trail: \(verification.isIntact ? "intact" : "NOT intact"), \(verification.records) records, checkpoint root \(checkpoint.root.prefix(16))…
          done in \(String(format: "%.1f", seconds)) s
        """
    }
}

/// The workspace description (examples/recsys/workspace.json).
struct DemoSettings {
    var seed: UInt64
    var people: Int
    var weeks: Int
    var jurisdictions: [String]
    var consentRates: [String: Double]
    var features: [String]
    var onlineFeatures: [String]
    var trainingFeatures: [String]
    var label: String

    init?(_ object: [String: Any]) {
        guard let seed = object["seed"] as? Int, let people = object["people"] as? Int, (1...100_000).contains(people),
            let weeks = object["weeks"] as? Int, (1...520).contains(weeks), let jurisdictions = object["jurisdictions"] as? [String],
            !jurisdictions.isEmpty, let rates = object["consent_rates"] as? [String: Double],
            let features = object["features"] as? [String],
            let online = object["online_features"] as? [String], let training = object["training_features"] as? [String],
            let label = object["label"] as? String
        else { return nil }
        (self.seed, self.people, self.weeks, self.jurisdictions) = (UInt64(seed), people, weeks, jurisdictions)
        (consentRates, self.features, onlineFeatures, trainingFeatures, self.label) = (rates, features, online, training, label)
    }
}

/// Deterministic synthetic people, consent and weekly feature values.
struct DemoGenerator {
    let settings: DemoSettings
    let now: Date
    private var state: UInt64
    private(set) var subjects: [Subject] = []
    private var consents: [String: Set<String>] = [:]

    init(settings: DemoSettings, now: Date) {
        self.settings = settings
        self.now = now
        state = settings.seed
        for i in 0..<settings.people {
            let subject = Subject(
                id: String(format: "user-%04d", i), age: 14 + Int(next() % 57),
                jurisdiction: settings.jurisdictions[i % settings.jurisdictions.count])
            subjects.append(subject)
            consents[subject.id] = Set(settings.consentRates.sorted { $0.key < $1.key }.filter { uniform() < $0.value }.map(\.key))
        }
    }

    private mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }

    func consented(_ subject: String, _ scope: String) -> Bool { consents[subject]?.contains(scope) == true }

    func consentEvents() -> [(subject: String, event: ConsentEvent)] {
        subjects.flatMap { subject in
            (consents[subject.id] ?? []).sorted().map { scope in
                (
                    subject.id,
                    ConsentEvent(
                        kind: .grant, target: scope, version: 3, byGuardian: (subject.age ?? 18) < 16,
                        occurredAt: now.addingTimeInterval(-Double(settings.weeks * 7 + 1) * 86_400))
                )
            }
        }
    }

    /// Weekly values; purchases follow clicks and views (the label the click model learns), with noise.
    mutating func rows() -> [FeatureRow] {
        var rows: [FeatureRow] = []
        for subject in subjects {
            let appetite = uniform()
            for week in 0..<settings.weeks {
                let at = now.addingTimeInterval(-Double(week * 7 + 1) * 86_400)
                let clicks = Int64(appetite * 40 + uniform() * 10), views = Int64(appetite * 90 + uniform() * 30)
                let purchases = Int64(max(0, appetite * 6 + (uniform() - 0.5) * 4))
                for feature in settings.features {
                    let value: FeatureValue =
                        switch feature {
                        case "clicks_7d": .int(clicks)
                        case "clicks_30d": .int(clicks * 4 + Int64(uniform() * 8))
                        case "views_30d": .int(views)
                        case "purchases_90d": .int(purchases)
                        case "age_bucket": .string("\((subject.age ?? 30) / 10 * 10)s")
                        case "gps_last": .string(String(format: "%.4f,%.4f", 48 + uniform() * 6, 2 + uniform() * 12))
                        case "heart_rate_avg": .double(55 + uniform() * 40)
                        default: .int(Int64(uniform() * 100))
                        }
                    rows.append(FeatureRow(entity: subject.id, feature: feature, value: value, eventTime: at))
                }
            }
        }
        return rows
    }
}

/// The click model on a training set: one example per person (their latest week), purchases above two as
/// the label, a fifth of the people held out for the AUC.
enum DemoModel {
    static func evaluate(rows: [FeatureRow], features: [String], label: String) -> Double? {
        var latest: [String: [String: FeatureRow]] = [:]
        for row in rows where latest[row.entity]?[row.feature].map({ $0.eventTime < row.eventTime }) ?? true {
            latest[row.entity, default: [:]][row.feature] = row
        }
        let examples = latest.keys.sorted().compactMap { id -> (x: [Double], y: Bool)? in
            guard let values = latest[id], case .int(let y)? = values[label]?.value else { return nil }
            let x = features.compactMap { feature -> Double? in
                guard case .int(let v)? = values[feature]?.value else { return nil }
                return Double(v)
            }
            return x.count == features.count ? (x, y > 2) : nil
        }
        let train = examples.enumerated().filter { $0.offset % 5 != 0 }.map(\.element)
        let test = examples.enumerated().filter { $0.offset % 5 == 0 }.map(\.element)
        guard !train.isEmpty, !test.isEmpty else { return nil }
        let model = ClickModel(examples: train.map(\.x), labels: train.map(\.y))
        return ClickModel.auc(scores: test.map { model.probability($0.x) }, labels: test.map(\.y))
    }
}
