import AccordCore
@testable import AccordGate
@testable import AccordStore
import Foundation
import GRDB
import Testing

/// Guarded online reads on a real SQLite feature store, audit trail and consent store (one database file).
@Suite struct FeatureGateTests {
    static let asOf = AuditTrailTests.asOf
    static let adult = Subject(id: "u-1001", age: 34, jurisdiction: "EU")

    struct Setup {
        let folder: URL
        let store: SQLiteFeatureStore
        let trail: SQLiteAuditTrail
        let consent: ConsentStore
        let gate: FeatureGate
    }

    func setup() throws -> Setup {
        let folder = try Fixtures.temporaryFolder("accord-gate")
        let path = folder.appendingPathComponent("accord.sqlite").path
        let store = try SQLiteFeatureStore(path: path, durability: .normal)
        let trail = try SQLiteAuditTrail(path: path, durability: .normal)
        let consent = try ConsentStore(path: path, durability: .normal)
        let day = 86_400.0
        try store.write([
            FeatureRow(entity: "u-1001", feature: "clicks_7d", value: .int(41), eventTime: Self.asOf.addingTimeInterval(-3 * day)),
            FeatureRow(entity: "u-1001", feature: "clicks_7d", value: .int(57), eventTime: Self.asOf.addingTimeInterval(-1 * day)),
            FeatureRow(entity: "u-1001", feature: "clicks_7d", value: .int(99), eventTime: Self.asOf.addingTimeInterval(1 * day)),
            FeatureRow(entity: "u-1001", feature: "gps_last", value: .string("52.5200,13.4050"), eventTime: Self.asOf.addingTimeInterval(-day)),
            FeatureRow(entity: "u-1001", feature: "heart_rate_avg", value: .double(71.37), eventTime: Self.asOf.addingTimeInterval(-day)),
        ])
        try consent.record([ConsentEvent(kind: .grant, target: "personalization", version: 3, occurredAt: Self.asOf.addingTimeInterval(-30 * day)),
                            ConsentEvent(kind: .grant, target: "health_insights", occurredAt: Self.asOf.addingTimeInterval(-30 * day))],
                           subject: "u-1001")
        return Setup(folder: folder, store: store, trail: trail, consent: consent,
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
            try s.gate.onlineFeatures(subjects: [Self.adult], features: ["clicks_7d"], purpose: "personalization.recommendations",
                                      actor: Actor(id: "recsys-online"), context: RequestContext(processingRegion: "EU"),
                                      asOf: Self.asOf)[0].values[0].status
        }
        #expect(try clicks() == .present)
        // Both scopes that cover the purpose are taken back (health_insights covers it too).
        try s.consent.record([ConsentEvent(kind: .withdraw, target: "personalization", occurredAt: Self.asOf.addingTimeInterval(-60))],
                             subject: "u-1001")
        #expect(try clicks() == .present, "still covered by the health_insights consent")
        try s.consent.record([ConsentEvent(kind: .withdraw, target: "health_insights", occurredAt: Self.asOf.addingTimeInterval(-60))],
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
            try s.gate.onlineFeatures(subjects: [Self.adult], features: ["clicks_7d"], purpose: "personalization.recommendations",
                                      actor: Actor(id: "recsys-online"), context: RequestContext(processingRegion: "EU"), asOf: Self.asOf)
        }
    }

    @Test func masksAndTheStoreOnItsOwn() throws {
        #expect(FeatureGate.masked(.string("Berlin-Mitte"), .truncate) == .string("Berl"))
        #expect(FeatureGate.masked(.int(12_345), .truncate) == .int(12_000))
        #expect(FeatureGate.masked(.int(-987), .truncate) == .int(-980))
        #expect(FeatureGate.masked(.int(42), .redact) == nil)
        let hashed = FeatureGate.masked(.string("a@b.c"), .hash)
        #expect(hashed == FeatureGate.masked(.string("a@b.c"), .hash) && hashed != .string("a@b.c"))

        let s = try setup()
        defer { try? FileManager.default.removeItem(at: s.folder) }
        let history = try s.store.historical(entities: ["u-1001"], features: ["clicks_7d"], from: Self.asOf.addingTimeInterval(-10 * 86_400),
                                             to: Self.asOf)
        #expect(history.map(\.value) == [.int(41), .int(57)])
        #expect(try s.store.delete(entity: "u-1001") == 5)
        #expect(try s.store.online(entities: ["u-1001"], features: ["clicks_7d"], asOf: Self.asOf).isEmpty)
    }
}
