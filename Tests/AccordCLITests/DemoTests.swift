import AccordTestSupport
import Foundation
import Testing

/// `accord demo` through the real binary: it runs to the end, and its summary matches its own audit trail.
@Suite struct DemoTests {
    @Test func theDemoRunsAndItsSummaryMatchesItsTrail() throws {
        let folder = try Fixtures.temporaryFolder("accord-demo")
        defer { try? FileManager.default.removeItem(at: folder) }
        let workspace = folder.appendingPathComponent("workspace").path
        let demo = try runAccord(["demo", "--workspace", workspace])
        #expect(demo.status == 0, "\(demo.stderr)")
        #expect(demo.stdout.contains("read before: PRESENT; after: DENIED (consent.missing)"))
        #expect(demo.stdout.contains("models to retrain: recs-click@1"))
        let summary = try jsonObject(try String(contentsOfFile: workspace + "/summary.json", encoding: .utf8))
        let stats = try runAccord(["audit", "stats", "--db", workspace + "/accord.sqlite", "--format", "json"])
        let trail = try jsonObject(stats.stdout)
        #expect(summary["records"] as? Int == trail["records"] as? Int)
        #expect(summary["decisions"] as? Int == trail["decisions"] as? Int)
        // Retention purges are their own kind, not denials (1,200 purge records once counted as refused uses).
        let purges = try #require(trail["retention_purges"] as? Int)
        #expect(purges > 0 && summary["retention_purge_records"] as? Int == purges)
        #expect((summary["decisions"] as? Int ?? 0) + purges == summary["records"] as? Int)
        let byPurpose = try #require(trail["by_purpose"] as? [[String: Any]])
        #expect(!byPurpose.contains { $0["purpose"] as? String == "accord.retention" })
        let denies = byPurpose.compactMap { $0["deny"] as? Int }.reduce(0, +)
        #expect((summary["by_effect"] as? [String: Any])?["deny"] as? Int == denies)
        let effects = try #require(summary["by_effect"] as? [String: Int])
        #expect(effects.values.reduce(0, +) == summary["decisions"] as? Int, "permit + partial + deny are the decisions, no more")
        let reasons = try #require(summary["top_reasons"] as? [[String: Any]])
        let trailReasons = try #require(trail["top_reasons"] as? [[String: Any]])
        for reason in reasons {
            #expect(
                trailReasons.contains {
                    $0["code"] as? String == reason["code"] as? String && $0["records"] as? Int == reason["records"] as? Int
                })
        }
        #expect(summary["trail_intact"] as? Bool == true)
        #expect(try runAccord(["audit", "verify", "--db", workspace + "/accord.sqlite"]).status == 0)
        let auc = try #require(summary["model_auc"] as? Double)
        #expect(auc > 0.7, "the click model learns on the guarded set (AUC \(auc))")
        #expect((summary["rows_purged"] as? Int ?? 0) > 0)

        // Its privacy impact assessment, as the README shows: the evidence is the demo's own trail.
        let pia = try runAccord(["pia", "--audit", workspace + "/accord.sqlite", "--format", "json"])
        #expect(pia.status == 0, "\(pia.stderr)")
        let report = try jsonObject(pia.stdout)
        let evidence = try #require(report["evidence"] as? [String: Any])
        #expect(evidence["records"] as? Int == summary["decisions"] as? Int)
        #expect(evidence["retention_purges"] as? Int ?? 0 > 0, "the demo's purge is in the trail")
        #expect(
            (evidence["consent_events"] as? [[String: Any]])?.contains { $0["kind"] as? String == "withdraw" } == true,
            "the demo's withdrawal")
        let training = (report["processing"] as? [[String: Any]])?.first { $0["purpose"] as? String == "model.training" }
        #expect((training?["recipients"] as? [[String: Any]])?.contains { $0["actor"] as? String == "trainer" } == true)
    }
}
