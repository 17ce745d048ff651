import AccordCore
import AccordStore
import AccordTestSupport
import Foundation
import Testing

@testable import AccordReports

/// The PIA golden files: the reference policies with the fixed trail in Tests/Fixtures/pia, as of one instant,
/// in every format, through the real binary. `ACCORD_UPDATE_GOLDEN=1` rewrites them (review the diff).
@Suite struct PIAGoldenTests {
    static let asOf = "2026-12-01T00:00:00Z"

    func report(_ format: String, in folder: URL) throws -> String {
        let output = try runAccord([
            "pia", "--policies", "policies", "--audit", folder.appendingPathComponent("accord.sqlite").path,
            "--as-of", Self.asOf, "--format", format, "--title", "Reference PIA",
        ])
        #expect(output.status == 0, "\(output.stderr)")
        return output.stdout
    }

    /// A private copy of the fixture trail (opening a trail may migrate it).
    func fixture() throws -> URL {
        let folder = try Fixtures.temporaryFolder("accord-pia")
        for name in ["accord.sqlite", "accord.sqlite.subject-key", "accord.sqlite.signing-key"] {
            try FileManager.default.copyItem(
                atPath: Repository.path("Tests/Fixtures/pia/\(name)"), toPath: folder.appendingPathComponent(name).path)
        }
        return folder
    }

    @Test(arguments: [("md", "reference.md"), ("html", "reference.html"), ("json", "reference.json"), ("cnil", "reference.cnil.json")])
    func everyFormatMatchesItsGoldenFile(format: String, golden: String) throws {
        let folder = try fixture()
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = try report(format, in: folder)
        let path = Repository.path("Tests/Golden/pia/\(golden)")
        if ProcessInfo.processInfo.environment["ACCORD_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(atPath: Repository.path("Tests/Golden/pia"), withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == expected, "\(format) differs from \(golden); run with ACCORD_UPDATE_GOLDEN=1 and review the diff")
        // Byte-identical again from the same trail and instant.
        #expect(try report(format, in: folder) == text)
    }

    @Test func theReportStatesWhatItCovers() throws {
        let folder = try fixture()
        defer { try? FileManager.default.removeItem(at: folder) }
        let json = try jsonObject(try report("json", in: folder))
        let plan = try Fixtures.referencePlan()
        #expect(json["policy_revision"] as? String == plan.revision && json["generated_at"] as? String == Self.asOf)
        let evidence = try #require(json["evidence"] as? [String: Any])
        let integrity = try #require(evidence["integrity"] as? [String: Any])
        let trail = try SQLiteAuditTrail(path: folder.appendingPathComponent("accord.sqlite").path)
        let checkpoint = try #require(try trail.checkpoints().last)
        #expect(integrity["intact"] as? Bool == true)
        #expect((integrity["checkpoint"] as? [String: Any])?["root"] as? String == checkpoint.root)
        #expect(evidence["records"] as? Int == (try trail.count()))
        // The trail's own figures, the same way round.
        let stats = try trail.stats()
        let decisions = try #require(evidence["decisions"] as? [[String: Any]])
        for purpose in stats.byPurpose {
            let row = decisions.first { $0["purpose"] as? String == purpose.purpose }
            #expect(
                row?["permit"] as? Int == purpose.permit && row?["deny"] as? Int == purpose.deny
                    && row?["partial"] as? Int == purpose.partial)
        }
        let risks = try #require(json["risks"] as? [[String: Any]])
        #expect(
            risks.contains {
                $0["kind"] as? String == "repeated_denials" && ($0["rationale"] as? String)?.contains("ads-probe (12 of 12)") == true
            })
        let consent = try #require(evidence["consent_events"] as? [[String: Any]])
        #expect(consent.contains { $0["kind"] as? String == "withdraw" && $0["target"] as? String == "ads" && $0["events"] as? Int == 1 })
        // One self-contained page: the heat map inline, nothing fetched, no script; each risk in its cell.
        let html = try report("html", in: folder)
        #expect(html.components(separatedBy: "<svg").count == 2 && !html.contains("<script") && !html.contains("src="))
        #expect(
            html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").range(of: "https?://", options: .regularExpression) == nil
        )
        for risk in risks { #expect(html.contains(">\(risk["id"] as! String)</text>"), "\(risk["id"]!) is not on the heat map") }
        // The CNIL tool's shape.
        let cnil = try jsonObject(try report("cnil", in: folder))
        #expect(Set(cnil.keys) == ["pia", "answers", "measures", "evaluations", "comments"])
        let answers = try #require(cnil["answers"] as? [[String: Any]])
        #expect(
            answers.contains {
                $0["reference_to"] as? Int == 325 && (($0["data"] as? [String: Any])?["gauge"] as? Int).map { (1...4).contains($0) } == true
            })
    }
}

/// Each risk finding: a policy set (or trail activity) that triggers it, and one that does not.
@Suite struct PIARiskTests {
    /// The small set of the policy-CI tests, with its consent lasting a year (so that only what a test changes
    /// shows up).
    static let base: [String: String] = ["scopes.yaml": SmallSet.scopes + "\n    expires_after: 1y"]

    func kinds(_ replacing: [String: String] = [:], activity: [(String, String, String, Int)] = []) throws -> [String] {
        let result = SmallSet.validate(replacing: Self.base.merging(replacing) { $1 })
        let set = try #require(result.policySet, "\(result.diagnostics)")
        let plan = DecisionPlan.compile(set)
        let instant = Date(timeIntervalSince1970: 1_780_272_000)
        return RiskRegister.findings(
            set: set, plan: plan, facts: PolicyFacts(set, plan: plan, asOf: instant),
            activity: activity.map { ($0.0, $0.1, $0.2, $0.3) }
        ).map(\.kind)
    }

    @Test func theBaseSetRaisesOnlyWhatItHas() throws {
        // The small set reads health data with explicit consent, and the EU sets an age of consent.
        #expect(try kinds() == ["sensitive_data", "minors"])
    }

    @Test(arguments: [
        (
            "sensitive_data", "policy.yaml",
            SmallSet.policy.replacingOccurrences(
                of: "    categories: [user.behavior, user.health]\n  - id: ads-clicks",
                with: "    categories: [user.behavior]\n  - id: ads-clicks"), false
        ),
        (
            "profiling", "taxonomy.yaml",
            SmallSet.taxonomy.replacingOccurrences(of: "  - name: recs", with: "  - name: recs\n    profiling: true"), true
        ),
        ("minors", "eu.yaml", SmallSet.jurisdiction.replacingOccurrences(of: "age_of_consent: 16\n", with: ""), false),
        (
            "international_transfers", "eu.yaml",
            SmallSet.jurisdiction.replacingOccurrences(of: "allowed_regions: [EU]", with: "allowed_regions: [EU, US]"), true
        ),
        ("long_retention", "policy.yaml", SmallSet.policy.replacingOccurrences(of: "max_age: 90d", with: "max_age: 3y"), true),
        (
            "wildcard_grants", "policy.yaml",
            SmallSet.policy.replacingOccurrences(of: "categories: [user.behavior.clicks]", with: "categories: [\"*\"]"), true
        ),
        (
            "profiling_legitimate_interest", "taxonomy.yaml",
            SmallSet.taxonomy.replacingOccurrences(of: "  - name: ads", with: "  - name: ads\n    profiling: true"), true
        ),
        (
            "aggregates_without_dp", "policy.yaml",
            SmallSet.policy.replacingOccurrences(
                of: "    actions: [read_online]\n    categories: [user.behavior, user.health]",
                with: "    actions: [read_online, aggregate]\n    categories: [user.behavior, user.health]"), true
        ),
        ("consent_without_expiry", "scopes.yaml", SmallSet.scopes, true),
    ])
    func eachPolicyFinding(kind: String, file: String, text: String, appears: Bool) throws {
        let before = try kinds()
        let after = try kinds([file: text])
        #expect(before.contains(kind) != appears, "the base set \(appears ? "already raises" : "lacks") \(kind)")
        #expect(after.contains(kind) == appears, "\(kind) should \(appears ? "appear" : "go") after the change: \(after)")
        // Profiling on legitimate interest is profiling too.
        let changes: Set<String> = kind == "profiling_legitimate_interest" ? [kind, "profiling"] : [kind]
        #expect(Set(after).symmetricDifference(before) == changes, "only \(kind) changes: \(before) → \(after)")
    }

    @Test func trailFindings() throws {
        let quiet = [("recs", "app", "permit", 40), ("recs", "app", "deny", 10)]
        #expect(try kinds(activity: quiet) == ["sensitive_data", "minors"])
        // Most recommendation decisions denied: an unusual rate.
        let refused = [("recs", "app", "permit", 10), ("recs", "app", "deny", 30), ("ads", "bot", "deny", 5), ("ads", "bot", "permit", 20)]
        #expect(try kinds(activity: refused).contains("denial_rate"))
        #expect(
            try !kinds(activity: [("recs", "app", "permit", 10), ("recs", "app", "deny", 9)]).contains("denial_rate"),
            "too few decisions to judge")
        // One actor refused again and again.
        #expect(try kinds(activity: quiet + [("ads", "probe", "deny", 12)]).contains("repeated_denials"))
        #expect(try !kinds(activity: quiet + [("ads", "probe", "deny", 9)]).contains("repeated_denials"))
        #expect(
            try !kinds(activity: quiet + [("ads", "busy", "deny", 12), ("ads", "busy", "permit", 40)]).contains("repeated_denials"),
            "mostly permitted")
        // Retention purges are not denials of anyone's request.
        #expect(
            try !kinds(activity: quiet + [("accord.retention", "accord", "deny", 500)]).contains(where: {
                $0 == "denial_rate" || $0 == "repeated_denials"
            }))
    }
}
