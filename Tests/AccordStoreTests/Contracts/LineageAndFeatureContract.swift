import AccordCore
import AccordStore
import AccordTestSupport
import Foundation
import Testing

/// `LineageStore`'s contract (Sources/AccordStore/Lineage/LineageStore.swift), for every backend.
@Suite struct LineageStoreContract {
    static let asOf = Date(timeIntervalSince1970: 1_780_000_000)

    @Test(arguments: StorageBackends.names) func tracesAPersonToTheModelsTrainedOnThem(backend: String) throws {
        try StorageBackends.with(backend) { stores in
            try stores.lineage.record(
                trainingSet: "ts-1", purpose: "model.training", actor: "trainer", revision: "r1", manifest: "{}",
                subjects: ["u-1", "u-2"], at: Self.asOf)
            try stores.lineage.register(model: "ctr", version: "2", trainingSet: "ts-1", at: Self.asOf)
            let sets = try stores.lineage.trainingSets(including: "u-1")
            #expect(sets.map(\.id) == ["ts-1"] && sets[0].models == ["ctr@2"] && sets[0].revision == "r1")
            #expect(try stores.lineage.trainingSets(including: "u-3").isEmpty)
            #expect(stores.lineage.pseudonym(for: "u-1") != Data("u-1".utf8), "kept as a pseudonym")
        }
    }

    @Test(arguments: StorageBackends.names) func aModelNeedsARecordedTrainingSet(backend: String) throws {
        try StorageBackends.with(backend) { stores in
            #expect(throws: (any Error).self) {
                try stores.lineage.register(model: "ctr", version: "1", trainingSet: "nope", at: Self.asOf)
            }
        }
    }
}

/// `FeatureStore`'s contract (Sources/AccordStore/Features/FeatureStore.swift), for every backend.
@Suite struct FeatureStoreContract {
    static let asOf = Date(timeIntervalSince1970: 1_780_000_000)

    static func row(_ entity: String, _ value: Int64, daysAgo: Double) -> FeatureRow {
        FeatureRow(entity: entity, feature: "clicks_7d", value: .int(value), eventTime: asOf.addingTimeInterval(-daysAgo * 86_400))
    }

    @Test(arguments: StorageBackends.names) func onlineReadsTheLatestValueAsOfTheInstant(backend: String) throws {
        try StorageBackends.with(backend) { stores in
            try stores.features.write([Self.row("u-1", 1, daysAgo: 3), Self.row("u-1", 2, daysAgo: 1), Self.row("u-1", 3, daysAgo: -1)])
            #expect(try stores.features.online(entities: ["u-1"], features: ["clicks_7d"], asOf: Self.asOf).map(\.value) == [.int(2)])
            #expect(try stores.features.online(entities: ["u-2"], features: ["clicks_7d"], asOf: Self.asOf).isEmpty)
        }
    }

    @Test(arguments: StorageBackends.names) func historicalReadsAHalfOpenPeriodOldestFirst(backend: String) throws {
        try StorageBackends.with(backend) { stores in
            try stores.features.write([Self.row("u-1", 2, daysAgo: 1), Self.row("u-1", 1, daysAgo: 3), Self.row("u-1", 0, daysAgo: 5)])
            let rows = try stores.features.historical(
                entities: ["u-1"], features: ["clicks_7d"], from: Self.asOf.addingTimeInterval(-5 * 86_400),
                to: Self.asOf.addingTimeInterval(-86_400))
            #expect(rows.map(\.value) == [.int(0), .int(1)], "from included, to excluded, oldest first")
        }
    }

    @Test(arguments: StorageBackends.names) func deletingAnEntityRemovesEveryValue(backend: String) throws {
        try StorageBackends.with(backend) { stores in
            try stores.features.write([Self.row("u-1", 1, daysAgo: 3), Self.row("u-1", 2, daysAgo: 1), Self.row("u-2", 5, daysAgo: 1)])
            #expect(try stores.features.delete(entity: "u-1") == 2)
            #expect(
                try stores.features.historical(entities: ["u-1", "u-2"], features: ["clicks_7d"], from: .distantPast, to: .distantFuture)
                    .count == 1)
        }
    }

    @Test(arguments: StorageBackends.names) func retentionFindsAndPurgesOnlyWhatIsOlderThanTheCutoff(backend: String) throws {
        try StorageBackends.with(backend) { stores in
            try stores.features.write([
                Self.row("u-1", 1, daysAgo: 40), Self.row("u-1", 2, daysAgo: 35), Self.row("u-1", 3, daysAgo: 1),
                Self.row("u-2", 4, daysAgo: 50), Self.row("u-3", 5, daysAgo: 2),
            ])
            let held = try stores.features.held(entity: "u-1")
            #expect(held.map(\.feature) == ["clicks_7d"] && held[0].values == 3)
            #expect(held[0].oldest == Self.asOf.addingTimeInterval(-40 * 86_400) && held[0].newest == Self.asOf.addingTimeInterval(-86_400))
            let cutoff = Self.asOf.addingTimeInterval(-30 * 86_400)
            let expired = try stores.features.expired(feature: "clicks_7d", before: cutoff).sorted { $0.entity < $1.entity }
            #expect(expired.map(\.entity) == ["u-1", "u-2"] && expired.map(\.rows) == [2, 1], "u-3 has nothing that old")
            // Only the entities named are purged: u-2's old value stays until its purge is recorded.
            #expect(try stores.features.purge(feature: "clicks_7d", before: cutoff, entities: ["u-1"], anonymise: false) == 2)
            #expect(try stores.features.held(entity: "u-1").map(\.values) == [1])
            #expect(try stores.features.expired(feature: "clicks_7d", before: cutoff).map(\.entity) == ["u-2"])
            // Anonymised: the value is kept but no longer under u-2.
            #expect(try stores.features.purge(feature: "clicks_7d", before: cutoff, entities: ["u-2"], anonymise: true) == 1)
            #expect(try stores.features.held(entity: "u-2").isEmpty)
        }
    }
}
