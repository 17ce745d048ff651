import AccordCore
import AccordRuntime
import AccordStore
import AccordTestSupport
import Foundation
import RecsysModel
import Testing

/// The examples' click-through model trained on a guarded training set: personalisation works within the
/// policy, and the test reports what the guard's exclusions cost in quality.
@Suite struct TrainerExampleTests {
    @Test func aucIsTheRankingProbability() {
        #expect(ClickModel.auc(scores: [0.1, 0.4, 0.35, 0.8], labels: [false, false, true, true]) == 0.75)
        #expect(ClickModel.auc(scores: [1, 2, 3], labels: [false, true, true]) == 1)
        #expect(ClickModel.auc(scores: [0.5, 0.5], labels: [false, true]) == 0.5, "ties count half")
    }

    @Test func aModelTrainedOnTheGuardedSetStillRanks() throws {
        let s = try FeatureGateTests().setup()
        defer { try? FileManager.default.removeItem(at: s.folder) }
        let asOf = FeatureGateTests.asOf, day = 86_400.0
        // 400 EU adults; seven in ten consented to personalisation (which covers model training). Clicks and
        // views drive a synthetic click label; purchases add noise.
        var random = AggregateTests.Seeded(state: 99)
        let people = (0..<400).map { Subject(id: "t-\($0)", age: 25 + $0 % 40, jurisdiction: "EU") }
        var labels: [String: Bool] = [:]
        var rows: [FeatureRow] = []
        for (i, person) in people.enumerated() {
            let clicks = Double(Int.random(in: 0...30, using: &random)), views = Double(Int.random(in: 0...60, using: &random))
            let noise = Double.random(in: -8...8, using: &random)
            labels[person.id] = clicks + views / 3 + noise > 28
            let at = asOf.addingTimeInterval(-Double(1 + i % 20) * day)
            rows += [
                FeatureRow(entity: person.id, feature: "clicks_7d", value: .int(Int64(clicks)), eventTime: at),
                FeatureRow(entity: person.id, feature: "views_30d", value: .int(Int64(views)), eventTime: at),
                FeatureRow(
                    entity: person.id, feature: "purchases_90d", value: .int(Int64.random(in: 0...5, using: &random)), eventTime: at),
            ]
        }
        try s.store.write(rows)
        try s.consent.record(
            people.enumerated().filter { $0.offset % 10 < 7 }.map {
                (
                    $0.element.id,
                    ConsentEvent(kind: .grant, target: "personalization", version: 3, occurredAt: asOf.addingTimeInterval(-60 * day))
                )
            })
        let features = ["clicks_7d", "views_30d", "purchases_90d"]
        let set = try s.gate.trainingSet(
            features: features, purpose: "model.training", actor: Actor(id: "trainer"), population: people,
            from: asOf.addingTimeInterval(-90 * day), to: asOf, context: RequestContext(processingRegion: "EU"),
            asOf: asOf, lineage: try SQLiteLineageStore(path: s.store.path, durability: .normal), id: "recs-train")
        #expect(set.manifest.subjectsIncluded == 280)
        #expect(set.manifest.rowsExcluded["consent.missing"] == 120 * 3)

        // One example per person from the rows the gate handed out; a held-out fifth measures quality.
        func examples(_ rows: [FeatureRow]) -> [(id: String, x: [Double])] {
            Dictionary(grouping: rows, by: \.entity).sorted { $0.key < $1.key }.map { id, theirs in
                (
                    id,
                    features.map { f in
                        theirs.first { $0.feature == f }.map { if case .int(let v) = $0.value { Double(v) } else { 0 } } ?? 0
                    }
                )
            }
        }
        func quality(_ data: [(id: String, x: [Double])]) -> Double {
            let train = data.enumerated().filter { $0.offset % 5 != 0 }.map(\.element)
            let test = data.enumerated().filter { $0.offset % 5 == 0 }.map(\.element)
            let model = ClickModel(examples: train.map(\.x), labels: train.map { labels[$0.id]! })
            return ClickModel.auc(scores: test.map { model.probability($0.x) }, labels: test.map { labels[$0.id]! })
        }
        let guarded = quality(examples(set.rows))
        let everyone = quality(examples(rows))
        #expect(guarded > 0.8, "the model still ranks clicks well on consented data (AUC \(guarded))")
        #expect(abs(guarded - everyone) < 0.1, "the cost of the exclusions in AUC: \(everyone - guarded)")
        print(
            "trainer example: AUC \(String(format: "%.3f", guarded)) on the guarded set (280 people) vs "
                + "\(String(format: "%.3f", everyone)) on everyone (400)")
    }
}
