import AccordCore
import AccordTestSupport
import Crypto
import Foundation
import GRDB
import Testing

@testable import AccordRuntime
@testable import AccordStore

/// Guarded online reads on a real SQLite feature store, audit trail and consent store (one database file).
@Suite struct FeatureGateTests {
    static let asOf = Fixtures.asOf
    static let adult = Subject(id: "u-1001", age: 34, jurisdiction: "EU")

    struct Setup {
        let folder: URL
        let store: SQLiteFeatureStore
        let trail: SQLiteAuditTrail
        let consent: SQLiteConsentStore
        let gate: FeatureGate
    }

    func setup() throws -> Setup {
        let folder = try Fixtures.temporaryFolder("accord-gate")
        let path = folder.appendingPathComponent("accord.sqlite").path
        let store = try SQLiteFeatureStore(path: path, durability: .normal)
        let trail = try SQLiteAuditTrail(path: path, durability: .normal)
        let consent = try SQLiteConsentStore(path: path, durability: .normal)
        let day = 86_400.0
        try store.write([
            FeatureRow(entity: "u-1001", feature: "clicks_7d", value: .int(41), eventTime: Self.asOf.addingTimeInterval(-3 * day)),
            FeatureRow(entity: "u-1001", feature: "clicks_7d", value: .int(57), eventTime: Self.asOf.addingTimeInterval(-1 * day)),
            FeatureRow(entity: "u-1001", feature: "clicks_7d", value: .int(99), eventTime: Self.asOf.addingTimeInterval(1 * day)),
            FeatureRow(
                entity: "u-1001", feature: "gps_last", value: .string("52.5200,13.4050"), eventTime: Self.asOf.addingTimeInterval(-day)),
            FeatureRow(entity: "u-1001", feature: "heart_rate_avg", value: .double(71.37), eventTime: Self.asOf.addingTimeInterval(-day)),
        ])
        try consent.record(
            [
                ConsentEvent(kind: .grant, target: "personalization", version: 3, occurredAt: Self.asOf.addingTimeInterval(-30 * day)),
                ConsentEvent(kind: .grant, target: "health_insights", occurredAt: Self.asOf.addingTimeInterval(-30 * day)),
            ],
            subject: "u-1001")
        return Setup(
            folder: folder, store: store, trail: trail, consent: consent,
            gate: FeatureGate(plan: try Fixtures.referencePlan(), store: store, trail: trail, consent: consent))
    }

    @Test func onlyPermittedValuesComeBackAndEveryReadIsRecorded() throws {
        let s = try setup()
        defer { try? FileManager.default.removeItem(at: s.folder) }
        let served = try s.gate.onlineFeatures(
            subjects: [Self.adult], features: ["clicks_7d", "age_bucket", "gps_last", "heart_rate_avg", "no_such_feature"],
            purpose: "personalization.recommendations", actor: Actor(id: "recsys-online"),
            context: RequestContext(processingRegion: "EU"), asOf: Self.asOf)
        #expect(served.count == 1)
        let byFeature = Dictionary(uniqueKeysWithValues: served[0].values.map { ($0.feature, $0) })
        #expect(byFeature["clicks_7d"]?.status == .present)
        #expect(byFeature["clicks_7d"]?.value == .int(57), "the latest value as of the instant, not the future one")
        #expect(byFeature["age_bucket"]?.status == .notFound, "permitted, but the store has no value")
        #expect(byFeature["gps_last"]?.status == .denied)
        #expect(byFeature["gps_last"]?.value == nil)
        #expect(byFeature["gps_last"]?.reasons.map(\.code).contains(.ruleForbid) == true)
        #expect(byFeature["heart_rate_avg"]?.status == .present)
        #expect(byFeature["heart_rate_avg"]?.mask == .truncate)
        #expect(byFeature["heart_rate_avg"]?.value == .double(71), "truncated to two leading digits")
        #expect(byFeature["no_such_feature"]?.status == .denied)

        let recorded = try s.trail.query(AuditQuery(decisionID: served[0].decisionID))
        #expect(recorded.count == 1)
        #expect(recorded.first?.resourceOutcomes.map(\.effect) == ["permit", "permit", "deny", "permit", "deny"])
        #expect(try s.trail.verify().isIntact)
    }

    @Test func aWithdrawalStopsTheNextRead() throws {
        let s = try setup()
        defer { try? FileManager.default.removeItem(at: s.folder) }
        func clicks() throws -> FeatureGate.Status? {
            try s.gate.onlineFeatures(
                subjects: [Self.adult], features: ["clicks_7d"], purpose: "personalization.recommendations",
                actor: Actor(id: "recsys-online"), context: RequestContext(processingRegion: "EU"),
                asOf: Self.asOf)[0].values[0].status
        }
        #expect(try clicks() == .present)
        // Both scopes that cover the purpose are taken back (health_insights covers it too).
        try s.consent.record(
            [ConsentEvent(kind: .withdraw, target: "personalization", occurredAt: Self.asOf.addingTimeInterval(-60))],
            subject: "u-1001")
        #expect(try clicks() == .present, "still covered by the health_insights consent")
        try s.consent.record(
            [ConsentEvent(kind: .withdraw, target: "health_insights", occurredAt: Self.asOf.addingTimeInterval(-60))],
            subject: "u-1001")
        #expect(try clicks() == .denied)
    }

    @Test func nothingIsServedWhenTheTrailCannotRecord() throws {
        let s = try setup()
        defer { try? FileManager.default.removeItem(at: s.folder) }
        try DatabaseQueue(path: s.trail.path).write { db in
            try db.execute(sql: "CREATE TRIGGER full_disk BEFORE INSERT ON audit_record BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        }
        #expect(throws: (any Error).self) {
            try s.gate.onlineFeatures(
                subjects: [Self.adult], features: ["clicks_7d"], purpose: "personalization.recommendations",
                actor: Actor(id: "recsys-online"), context: RequestContext(processingRegion: "EU"), asOf: Self.asOf)
        }
    }

    @Test func masksAndTheStoreOnItsOwn() throws {
        #expect(FeatureGate.masked(.string("Berlin-Mitte"), .truncate) == .string("Berl"))
        #expect(FeatureGate.masked(.string("NY"), .truncate) == nil, "too short to truncate: removed")
        #expect(FeatureGate.masked(.int(.min), .truncate) != nil, "no overflow at the extremes")
        #expect(FeatureGate.masked(.int(12_345), .truncate) == .int(12_000))
        #expect(FeatureGate.masked(.int(-987), .truncate) == .int(-980))
        #expect(FeatureGate.masked(.int(42), .redact) == nil)
        let hashed = FeatureGate.masked(.string("a@b.c"), .hash)
        #expect(hashed == FeatureGate.masked(.string("a@b.c"), .hash) && hashed != .string("a@b.c"))

        let s = try setup()
        defer { try? FileManager.default.removeItem(at: s.folder) }
        let history = try s.store.historical(
            entities: ["u-1001"], features: ["clicks_7d"], from: Self.asOf.addingTimeInterval(-10 * 86_400),
            to: Self.asOf)
        #expect(history.map(\.value) == [.int(41), .int(57)])
        #expect(try s.store.delete(entity: "u-1001") == 5)
        #expect(try s.store.online(entities: ["u-1001"], features: ["clicks_7d"], asOf: Self.asOf).isEmpty)
    }
}

/// Training sets: the rows a trainer may use, a manifest saying how they were chosen, and lineage.
@Suite struct TrainingSetTests {
    @Test func rowsAreFilteredPerSubjectAndRowAndTheSetIsTraced() throws {
        let s = try FeatureGateTests().setup()
        defer { try? FileManager.default.removeItem(at: s.folder) }
        let asOf = FeatureGateTests.asOf, day = 86_400.0
        // u-1002 has data but no consent; u-1001's oldest click count is past the 90-day retention of clicks.
        try s.store.write([
            FeatureRow(entity: "u-1002", feature: "clicks_7d", value: .int(3), eventTime: asOf.addingTimeInterval(-2 * day)),
            FeatureRow(entity: "u-1001", feature: "clicks_7d", value: .int(12), eventTime: asOf.addingTimeInterval(-120 * day)),
        ])
        let lineage = try SQLiteLineageStore(path: s.store.path, durability: .normal)
        let population = [FeatureGateTests.adult, Subject(id: "u-1002", age: 41, jurisdiction: "EU")]
        let set = try s.gate.trainingSet(
            features: ["clicks_7d", "gps_last"], purpose: "model.training", actor: Actor(id: "trainer"), population: population,
            from: asOf.addingTimeInterval(-365 * day), to: asOf, context: RequestContext(processingRegion: "EU"), asOf: asOf,
            lineage: lineage, id: "ts-1")
        #expect(set.rows.map(\.value) == [.int(41), .int(57)], "u-1001's recent clicks only")
        #expect(set.manifest.rowsIncluded == 2 && set.manifest.subjectsIncluded == 1 && set.manifest.subjectsAsked == 2)
        #expect(set.manifest.rowsExcluded["consent.missing"] == 1, "u-1002's row")
        #expect(set.manifest.rowsExcluded["retention.expired"] == 1, "the 120-day-old row")
        #expect(set.manifest.rowsExcluded.values.reduce(0, +) == 3, "and the gps_last row: precise location is not for training")
        #expect(set.manifest.revision == (try Fixtures.referencePlan()).revision)
        #expect(set.manifest.subjectsHash.count == 64)
        // The content hash as documented: each row's entity, feature, event time (Unix seconds) and value, each
        // followed by a zero byte.
        var documented = Data()
        for row in set.rows {
            for part in [row.entity, row.feature, String(Int64(row.eventTime.timeIntervalSince1970)), row.value.description] {
                documented.append(contentsOf: Array(part.utf8) + [0])
            }
        }
        #expect(set.manifest.contentHash == Data(SHA256.hash(data: documented)).hexString)
        // u-1001's decision is recorded with one resource per feature and outcome: the two recent click rows, the
        // expired one, and gps_last — three entries for four rows.
        let recorded = try s.trail.query(AuditQuery(subject: "u-1001", action: "train"))
        #expect(recorded.count == 1)
        let resources = try #require(try JSONSerialization.jsonObject(with: Data(recorded[0].resources.utf8)) as? [[String: Any]])
        #expect(
            resources.map { "\($0["resource"]!) \($0["effect"]!)" } == ["clicks_7d deny", "clicks_7d permit", "gps_last deny"],
            "oldest row first: the expired click count, the two recent ones as one entry, then gps_last")

        // The same request again gives the same content hash; the decisions are in the trail.
        let again = try s.gate.trainingSet(
            features: ["clicks_7d", "gps_last"], purpose: "model.training", actor: Actor(id: "trainer"), population: population,
            from: asOf.addingTimeInterval(-365 * day), to: asOf, context: RequestContext(processingRegion: "EU"), asOf: asOf,
            lineage: lineage, id: "ts-2")
        #expect(again.manifest.contentHash == set.manifest.contentHash)
        #expect(try s.trail.query(AuditQuery(action: "train")).count == 4)

        try lineage.register(model: "recs", version: "7", trainingSet: "ts-1")
        let traced = try lineage.trainingSets(including: "u-1001")
        #expect(traced.map(\.id) == ["ts-1", "ts-2"])
        #expect(traced.first?.models == ["recs@7"])
        #expect(try lineage.trainingSets(including: "u-1002").isEmpty, "excluded people are not in the lineage")
        #expect(throws: (any Error).self) { try lineage.register(model: "x", version: "1", trainingSet: "nope") }

        let cli = try runAccord(["lineage", "--subject", "u-1001", "--db", s.store.path])
        #expect(cli.status == 0, "\(cli.stderr)")
        let first = try jsonObject(String(cli.stdout.split(separator: "\n")[0]))
        #expect(first["training_set"] as? String == "ts-1")
        #expect(first["models"] as? [String] == ["recs@7"])
        #expect((first["manifest"] as? [String: Any])?["rows_included"] as? Int == 2)

        // Erasure takes the person out of the lineage too.
        #expect(try s.trail.erase(subject: "u-1001") >= 1)
        #expect(try lineage.trainingSets(including: "u-1001").isEmpty)
    }
}

/// Aggregates through the gate: cohort minimums, calibrated noise, budgets.
@Suite struct AggregateTests {
    /// A seeded generator, so that noisy results are reproducible in tests.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// `people` EU adults with analytics consent and a purchases_90d value each (1 to 3).
    func setup(people: Int) throws -> (FeatureGateTests.Setup, [Subject], SQLiteBudgetLedger) {
        let s = try FeatureGateTests().setup()
        let asOf = FeatureGateTests.asOf
        let subjects = (0..<people).map { Subject(id: "p-\($0)", age: 30, jurisdiction: "EU") }
        try s.store.write(
            subjects.enumerated().map { i, subject in
                FeatureRow(
                    entity: subject.id, feature: "purchases_90d", value: .int(Int64(1 + i % 3)), eventTime: asOf.addingTimeInterval(-86_400)
                )
            })
        try s.consent.record(
            subjects.map { ($0.id, ConsentEvent(kind: .grant, target: "analytics", occurredAt: asOf.addingTimeInterval(-30 * 86_400))) })
        let ledger = try SQLiteBudgetLedger(path: s.store.path, durability: .normal)
        // Aggregates spend from the ledger of the gate's decision point.
        let gate = FeatureGate(plan: s.gate.plan, store: s.store, trail: s.trail, consent: s.consent, budgets: ledger)
        return (FeatureGateTests.Setup(folder: s.folder, store: s.store, trail: s.trail, consent: s.consent, gate: gate), subjects, ledger)
    }

    @Test func smallCohortsAreRefusedAndLargeOnesGetNoisyAnswers() throws {
        let (s, subjects, _) = try setup(people: 60)
        defer { try? FileManager.default.removeItem(at: s.folder) }
        var random = Seeded(state: 7)
        let context = RequestContext(processingRegion: "EU")
        let small = try s.gate.aggregate(
            .count, of: "purchases_90d", cohort: Array(subjects.prefix(49)), purpose: "analytics.aggregate",
            actor: Actor(id: "analytics-job"), context: context,
            asOf: FeatureGateTests.asOf, random: &random)
        #expect(small.value == nil)
        #expect(small.refusals.map(\.code) == [.cohortTooSmall], "min_cohort is 50")
        #expect(small.decisionIDs.count == 49, "every subject's decision is recorded even when refused")
        // Naming people twice does not make a cohort bigger.
        let padded = Array(subjects.prefix(30)) + Array(subjects.prefix(30))
        let repeated = try s.gate.aggregate(
            .count, of: "purchases_90d", cohort: padded, purpose: "analytics.aggregate",
            actor: Actor(id: "analytics-job"), context: context,
            asOf: FeatureGateTests.asOf, random: &random)
        #expect(repeated.refusals.map(\.code) == [.cohortTooSmall])
        #expect(repeated.decisionIDs.count == 30)

        let count = try s.gate.aggregate(
            .count, of: "purchases_90d", cohort: subjects, purpose: "analytics.aggregate",
            actor: Actor(id: "analytics-job"), context: context,
            asOf: FeatureGateTests.asOf, random: &random)
        #expect(count.cohort == nil, "under differential privacy the exact cohort size would undo the noise")
        #expect(count.mechanism == "laplace" && count.epsilonSpent == 0.5)
        let value: Double = try #require(count.value)
        #expect(value != 60, "noise was added")
        let error: Double = abs(value - 60)
        #expect(error < 40, "Laplace noise of scale 2")
        let mean = try s.gate.aggregate(
            .mean, of: "purchases_90d", cohort: subjects, purpose: "analytics.aggregate",
            actor: Actor(id: "analytics-job"), context: context, clip: 0...3,
            asOf: FeatureGateTests.asOf, random: &random)
        let meanValue: Double = try #require(mean.value)
        #expect(meanValue >= 0 && meanValue <= 3, "clipped to the declared range")
        let recorded = try s.trail.query(AuditQuery(action: "aggregate")).count
        #expect(recorded == 199, "49 + 30 + 60 + 60 decisions")
        #expect(try s.trail.query(AuditQuery(reason: "cohort.too_small")).count == 79, "the refusals are in the trail")
        let paid = try s.trail.query(AuditQuery(action: "aggregate", limit: 60))
        #expect(paid.allSatisfy { $0.resourceOutcomes.first?.epsilonSpent == 0.5 }, "and so is the epsilon each value paid")
    }

    @Test func theBudgetStopsAggregatesAtItsTotal() throws {
        let (s, subjects, _) = try setup(people: 50)
        defer { try? FileManager.default.removeItem(at: s.folder) }
        var random = Seeded(state: 11)
        func run() throws -> FeatureGate.Aggregate {
            try s.gate.aggregate(
                .sum, of: "purchases_90d", cohort: subjects, purpose: "analytics.aggregate", actor: Actor(id: "analytics-job"),
                context: RequestContext(processingRegion: "EU"), clip: 0...3,
                asOf: FeatureGateTests.asOf, random: &random)
        }
        for _ in 0..<10 { #expect(try run().value != nil) }
        let exhausted = try run()
        #expect(exhausted.value == nil)
        #expect(exhausted.refusals.map(\.code) == [.budgetExhausted])
        #expect(try s.trail.query(AuditQuery(reason: "budget.exhausted")).count == 50)
    }

    /// The samplers' distributions, checked on many draws: Laplace(0, b) has mean 0 and mean |x| = b;
    /// Normal(0, σ) has mean 0 and standard deviation σ.
    @Test func noiseHasTheCalibratedSpread() {
        var random = Seeded(state: 3)
        let draws = 40_000.0
        let laplace: [Double] = (0..<40_000).map { _ in FeatureGate.laplace(scale: 2, &random) }
        let laplaceMean: Double = laplace.reduce(0, +) / draws
        let laplaceSpread: Double = laplace.map { abs($0) }.reduce(0, +) / draws
        #expect(abs(laplaceMean) < 0.05)
        #expect(abs(laplaceSpread - 2) < 0.05)
        let normal: [Double] = (0..<40_000).map { _ in FeatureGate.gaussian(sigma: 3, &random) }
        let normalMean: Double = normal.reduce(0, +) / draws
        let normalDeviation: Double = (normal.map { $0 * $0 }.reduce(0, +) / draws).squareRoot()
        #expect(abs(normalMean) < 0.08)
        #expect(abs(normalDeviation - 3) < 0.08)
    }
}

/// Retention on the embedded store: planned with counts, carried out, recorded, and idempotent.
@Suite struct RetentionTests {
    @Test func planPurgeRecordAndRerun() throws {
        let s = try FeatureGateTests().setup()
        defer { try? FileManager.default.removeItem(at: s.folder) }
        let asOf = FeatureGateTests.asOf, day = 86_400.0
        try s.store.write([
            FeatureRow(entity: "u-1001", feature: "clicks_7d", value: .int(5), eventTime: asOf.addingTimeInterval(-100 * day)),
            FeatureRow(entity: "u-1002", feature: "clicks_7d", value: .int(6), eventTime: asOf.addingTimeInterval(-95 * day)),
            FeatureRow(entity: "u-1002", feature: "gps_last", value: .string("48.85,2.35"), eventTime: asOf.addingTimeInterval(-8 * day)),
        ])
        guard let set = PolicySetValidator.validate(paths: [Repository.path("policies")]).policySet else {
            Issue.record("policies"); return
        }
        let planner = RetentionPlanner(policies: set, store: s.store)
        let plan = try planner.plan(asOf: asOf)
        let clicks = try #require(plan.first { $0.feature == "clicks_7d" && $0.purges })
        #expect(clicks.rows == 2 && clicks.subjects == 2 && clicks.action == .delete)
        #expect(plan.first { $0.feature == "gps_last" && $0.purges }?.rows == 1, "precise location: 7 days")

        let done = try planner.purge(asOf: asOf, trail: s.trail)
        #expect(done.reduce(0) { $0 + $1.rows } == 3)
        #expect(try s.store.expired(feature: "clicks_7d", before: asOf.addingTimeInterval(-90 * day)).isEmpty)
        #expect(
            try s.store.online(entities: ["u-1001"], features: ["clicks_7d"], asOf: asOf).first?.value == .int(57),
            "recent values stay")
        let recorded = try s.trail.query(AuditQuery(reason: "retention.expired"))
        #expect(recorded.count == 3, "one record per subject and feature")
        #expect(Set(recorded.map(\.action)) == ["delete"])
        #expect(try s.trail.export(subject: "u-1002").contains { $0.purpose == "accord.retention" }, "the person can see it")

        #expect(try planner.purge(asOf: asOf, trail: s.trail).isEmpty, "nothing left to do")
        #expect(try s.trail.query(AuditQuery(reason: "retention.expired")).count == 3, "and nothing recorded twice")
        #expect(try s.trail.verify().isIntact)

        let cli = try runAccord(["retention", "plan", "--db", s.store.path, "--as-of", "2026-06-01T00:00:00Z"])
        #expect(cli.status == 0, "\(cli.stderr)")
        #expect(cli.stdout.split(separator: "\n").allSatisfy { (try? jsonObject(String($0)))?["rows"] as? Int == 0 })
    }
}

/// The remaining training-set exclusion and retention's crash safety.
@Suite struct GateEdgeTests {
    @Test func rowsThatWouldCrossAForbiddenBorderAreExcluded() throws {
        let s = try FeatureGateTests().setup()
        defer { try? FileManager.default.removeItem(at: s.folder) }
        let set = try s.gate.trainingSet(
            features: ["clicks_7d"], purpose: "model.training", actor: Actor(id: "trainer"), population: [FeatureGateTests.adult],
            from: FeatureGateTests.asOf.addingTimeInterval(-30 * 86_400), to: FeatureGateTests.asOf,
            context: RequestContext(processingRegion: "US"), asOf: FeatureGateTests.asOf,
            lineage: try SQLiteLineageStore(path: s.store.path, durability: .normal))
        #expect(set.rows.isEmpty, "EU data may not be processed in the US")
        #expect(set.manifest.rowsExcluded["residency.processing_region"] == 2)
    }

    /// A purge killed partway (SIGKILL) and run again leaves no expired value, records every deletion, and a
    /// trail that verifies.
    @Test func aKilledPurgeFinishesOnTheNextRun() throws {
        let folder = try Fixtures.temporaryFolder("accord-purge-kill")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("accord.sqlite").path
        let store = try SQLiteFeatureStore(path: path, durability: .normal)
        _ = try SQLiteAuditTrail(path: path, durability: .normal)  // makes the keys the CLI will use
        let asOf = FeatureGateTests.asOf
        // 1,500 people with clicks, views and search queries long past their limits.
        for batch in stride(from: 0, to: 1_500, by: 500) {
            try store.write(
                (batch..<batch + 500).flatMap { i in
                    ["clicks_7d", "views_30d", "recent_queries"].map { feature in
                        FeatureRow(entity: "k-\(i)", feature: feature, value: .int(1), eventTime: asOf.addingTimeInterval(-200 * 86_400))
                    }
                })
        }
        let arguments = ["retention", "purge", "--db", path, "--as-of", "2026-06-01T00:00:00Z"]
        spawnLock.lock()
        let (process, input, _) = try startAccord(arguments)
        try? input.fileHandleForWriting.close()
        spawnLock.unlock()
        usleep(150_000)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()

        let rerun = try runAccord(arguments)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        for feature in ["clicks_7d", "views_30d", "recent_queries"] {
            #expect(try store.expired(feature: feature, before: asOf.addingTimeInterval(-90 * 86_400)).isEmpty, "\(feature)")
        }
        let trail = try SQLiteAuditTrail(path: path, durability: .normal)
        #expect(try trail.verify().isIntact)
        // Every person's deletion of each feature is on record (a killed run may have recorded some twice).
        let recorded = try trail.query(AuditQuery(reason: "retention.expired"))
        #expect(recorded.count >= 4_500)
        #expect(try runAccord(arguments).stdout.contains("purged: 0 rows"), "a third run has nothing to do")
    }
}

/// Stores made from one `StoreDatabase` share its connection and see each other at once; decision ids are
/// time-ordered UUIDv7s.
@Suite struct StoreDatabaseTests {
    @Test func storesOnOneConnectionSeeEachOther() throws {
        let folder = try Fixtures.temporaryFolder("accord-database")
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = try StoreDatabase(path: folder.appendingPathComponent("accord.sqlite").path, durability: .normal)
        let store = SQLiteFeatureStore(database: database)
        let trail = try SQLiteAuditTrail(database: database)
        let consent = try SQLiteConsentStore(database: database)
        let gate = FeatureGate(plan: try Fixtures.referencePlan(), store: store, trail: trail, consent: consent)
        let asOf = FeatureGateTests.asOf
        try store.write([FeatureRow(entity: "u-1001", feature: "clicks_7d", value: .int(5), eventTime: asOf.addingTimeInterval(-86_400))])
        func read() throws -> FeatureGate.Status? {
            try gate.onlineFeatures(
                subjects: [FeatureGateTests.adult], features: ["clicks_7d"], purpose: "personalization.recommendations",
                actor: Actor(id: "recsys-online"), context: RequestContext(processingRegion: "EU"), asOf: asOf)[0].values[0].status
        }
        #expect(try read() == .denied, "no consent yet")
        try consent.record(
            [ConsentEvent(kind: .grant, target: "personalization", version: 3, occurredAt: asOf.addingTimeInterval(-60))],
            subject: "u-1001")
        #expect(try read() == .present)
        try consent.record(
            [ConsentEvent(kind: .withdraw, target: "personalization", occurredAt: asOf.addingTimeInterval(-30))], subject: "u-1001")
        #expect(try read() == .denied, "the withdrawal holds for the very next read")
        #expect(try trail.query(AuditQuery(subject: "u-1001")).count == 3)
        // A connection of its own (another process, say) sees the same.
        #expect(try SQLiteAuditTrail(path: database.path, durability: .normal).verify().records == 3)
        #expect(try trail.verify().isIntact)
    }

    @Test func decisionIDsAreTimeOrderedUUIDv7() {
        let early = Date(timeIntervalSince1970: 1_700_000_000), late = early.addingTimeInterval(0.002)
        let ids = (0..<1_000).map { _ in DecisionID.next(at: early) }
        #expect(Set(ids).count == 1_000)
        for id in ids.prefix(20) {
            let parts = id.split(separator: "-")
            #expect(parts.map(\.count) == [8, 4, 4, 4, 12], "\(id)")
            #expect(parts[2].first == "7", "version 7")
            #expect("89ab".contains(parts[3].first!), "RFC 9562 variant")
            #expect(id.allSatisfy { "0123456789abcdef-".contains($0) })
        }
        #expect(ids[0].prefix(13) == "018bcfe5-6800", "48 bits of Unix milliseconds: 1,700,000,000,000 = 0x018bcfe56800")
        #expect(DecisionID.next(at: late) > ids.max()!, "a later millisecond sorts after")
    }
}
