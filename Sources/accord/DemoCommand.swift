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
        let plan = DecisionPlan.compile(set)
        try? FileManager.default.removeItem(atPath: workspace)
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        let db = workspace + "/accord.sqlite"
        // One connection for every store in the file, as a serving process holds it.
        let database = try StoreDatabase(path: db, durability: .normal)
        let store = SQLiteFeatureStore(database: database)
        let trail = try SQLiteAuditTrail(database: database)
        let consent = try SQLiteConsentStore(database: database)
        let lineage = SQLiteLineageStore(database: database)
        let gate = FeatureGate(plan: plan, store: store, trail: trail, consent: consent)
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        func step(_ text: String) { print("• " + text); fflush(nil) }

        // 1. The workspace.
        step(
            "building \(workspace)/ from \(spec): \(settings.people) people, \(settings.weeks) weeks of \(settings.features.count) features"
        )
        var generator = DemoGenerator(settings: settings, now: now)
        try store.write(generator.rows())
        try consent.record(generator.consentEvents())
        let people = generator.subjects

        // 2. Recommendation-time reads.
        step("online reads for personalization.recommendations, one per person")
        var statuses: [String: Int] = [:]
        for person in people {
            let served = try gate.onlineFeatures(
                subjects: [person], features: settings.onlineFeatures, purpose: "personalization.recommendations",
                actor: Actor(id: "recsys-online"), context: RequestContext(processingRegion: "EU"), asOf: now)
            for value in served[0].values { statuses[value.status.rawValue, default: 0] += 1 }
        }

        // 3. A training set, and the model trained on it.
        step("building a training set for model.training and training the click model")
        let training = try gate.trainingSet(
            features: settings.trainingFeatures + [settings.label], purpose: "model.training",
            actor: Actor(id: "trainer"), population: people, from: now.addingTimeInterval(-120 * 86_400),
            to: now, context: RequestContext(processingRegion: "EU"), asOf: now, lineage: lineage,
            id: "recs-training-1")
        let quality = DemoModel.evaluate(rows: training.rows, features: settings.trainingFeatures, label: settings.label)
        try lineage.register(model: "recs-click", version: "1", trainingSet: training.manifest.id, at: now)

        // 4. A withdrawal: the next read is denied, and the lineage says which model to retrain.
        guard
            let withdrawn = people.first(where: {
                generator.consented($0.id, "personalization") && !generator.consented($0.id, "health_insights")
                    && ($0.age ?? 0) >= 18 && $0.jurisdiction == "EU"
            })
        else { throw CommandFailure(code: .internalError, message: "error: the workspace has no one to withdraw consent") }
        step("\(withdrawn.id) withdraws consent for personalisation")
        let before = try gate.onlineFeatures(
            subjects: [withdrawn], features: ["clicks_7d"], purpose: "personalization.recommendations",
            actor: Actor(id: "recsys-online"), context: RequestContext(processingRegion: "EU"), asOf: now)
        try consent.record([ConsentEvent(kind: .withdraw, target: "personalization", occurredAt: now)], subject: withdrawn.id, at: now)
        let after = try gate.onlineFeatures(
            subjects: [withdrawn], features: ["clicks_7d"], purpose: "personalization.recommendations",
            actor: Actor(id: "recsys-online"), context: RequestContext(processingRegion: "EU"),
            asOf: now.addingTimeInterval(1))
        let sets = try lineage.trainingSets(including: withdrawn.id)
        print(
            "    read before: \(before[0].values[0].status.rawValue); after: \(after[0].values[0].status.rawValue) "
                + "(\(after[0].values[0].reasons.map(\.code.rawValue).joined(separator: ", ")))")
        print(
            "    lineage: in \(sets.map(\.id).joined(separator: ", ")); models to retrain: "
                + sets.flatMap(\.models).joined(separator: ", "))

        // 5. Retention.
        step("purging what the retention rules expire")
        let purged = try RetentionPlanner(policies: set, store: store).purge(asOf: now.addingTimeInterval(1), trail: trail)

        // 6. The trail, checkpointed and verified.
        step("checkpointing and verifying the audit trail")
        let checkpoint = try trail.checkpoint(at: now)
        let verification = try trail.verify()
        let stats = try trail.stats(topReasons: 5)

        let summary = JSONValue.object([
            ("records", .int(stats.records)), ("decisions", .int(stats.decisions)),
            ("retention_purge_records", .int(stats.retentionPurges)),
            (
                "by_effect",
                .object([
                    ("permit", .int(stats.byPurpose.map(\.permit).reduce(0, +))),
                    ("partial", .int(stats.byPurpose.map(\.partial).reduce(0, +))),
                    ("deny", .int(stats.byPurpose.map(\.deny).reduce(0, +))),
                ])
            ),
            ("top_reasons", .array(stats.topReasons.map { .object([("code", .string($0.code)), ("records", .int($0.records))]) })),
            ("online_values", .object(statuses.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
            ("training_rows", .int(training.manifest.rowsIncluded)),
            ("training_rows_excluded", .object(training.manifest.rowsExcluded.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
            ("model_auc", quality.map { .double(($0 * 1_000).rounded() / 1_000) } ?? .null),
            ("withdrawal_read_after", .string(after[0].values[0].status.rawValue)),
            ("rows_purged", .int(purged.reduce(0) { $0 + $1.rows })),
            ("trail_intact", .bool(verification.isIntact)),
            ("checkpoint", .object([("size", .int(Int(checkpoint.size))), ("root", .string(checkpoint.root))])),
        ])
        try Data((summary.serialized() + "\n").utf8).write(to: URL(fileURLWithPath: workspace + "/summary.json"))
        print(
            """

            Summary (\(workspace)/summary.json; the trail is \(db))
              decisions recorded: \(stats.decisions) — \(stats.byPurpose.map(\.permit).reduce(0, +)) permit, \
            \(stats.byPurpose.map(\.partial).reduce(0, +)) partial, \(stats.byPurpose.map(\.deny).reduce(0, +)) deny \
            (and \(stats.retentionPurges) retention purge records)
              top reasons: \(stats.topReasons.map { "\($0.code) \($0.records)" }.joined(separator: ", "))
              online values: \(statuses.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
              training set: \(training.manifest.rowsIncluded) rows kept; excluded \(training.manifest.rowsExcluded.sorted { $0.key < $1.key }
                .map { "\($0.key) \($0.value)" }.joined(separator: ", "))
              click model AUC on held-out people: \(quality.map { String(format: "%.3f", $0) } ?? "n/a")
              retention purge: \(purged.reduce(0) { $0 + $1.rows }) rows deleted or anonymised, \(stats.retentionPurges) purge records
              audit trail: \(verification.isIntact ? "intact" : "NOT intact"), \(verification.records) records, checkpoint root \(checkpoint.root.prefix(16))…
              done in \(String(format: "%.1f", Date().timeIntervalSince(started))) s
            """)
        if !verification.isIntact { throw ExitCode(AccordExit.policyProblem.rawValue) }
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
