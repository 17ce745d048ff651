import AccordTestSupport
import Foundation
import Testing

@testable import AccordCore

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite struct PolicyLintTests {
    func codes(_ result: ValidationResult) -> [String] { result.diagnostics.filter { $0.severity == .warning }.map(\.code.rawValue) }

    @Test func theSmallSetAndTheReferencePoliciesAreClean() {
        let small = SmallSet.validate()
        #expect(small.policySet != nil && small.diagnostics.isEmpty, "\(small.diagnostics)")
        let reference = PolicySetValidator.validate(paths: [Repository.path("policies")])
        #expect(reference.policySet != nil && reference.diagnostics.isEmpty, "\(reference.diagnostics)")
    }

    /// Each lint: a variation of the clean set that triggers it — once, at the right place — and nothing else.
    @Test(arguments: [
        (
            "A0601", "policy.yaml",
            SmallSet.policy.replacingOccurrences(
                of: "retention:",
                with: """
                      - id: no-ads
                        effect: forbid
                        purposes: [ads]
                        categories: ["*"]
                    retention:
                    """), "policy.yaml:10:5"
        ),
        (
            "A0602", "policy.yaml", SmallSet.policy.replacingOccurrences(of: "purposes: [ads]", with: "purposes: [recs]"),
            "taxonomy.yaml:10:5"
        ),
        (
            "A0603", "policy.yaml",
            SmallSet.policy.replacingOccurrences(
                of: "    categories: [user.behavior, user.health]\n  - id: ads-clicks",
                with: "    categories: [user.behavior]\n  - id: ads-clicks"),
            "catalog.yaml:6:5"
        ),
        (
            "A0604", "policy.yaml",
            SmallSet.policy.replacingOccurrences(of: "[user.behavior, user.health], max_age", with: "[user.behavior], max_age"),
            "catalog.yaml:6:5"
        ),
        ("A0605", "scopes.yaml", SmallSet.scopes + "\n  - id: ads-only\n    purposes: [ads]", "scopes.yaml:8:5"),
        (
            "A0606", "policy.yaml",
            SmallSet.policy.replacingOccurrences(
                of: "retention:",
                with: """
                      - id: recs-data-again
                        effect: permit
                        purposes: [recs]
                        actions: [read_online]
                        categories: [user.behavior, user.health]
                    retention:
                    """), "policy.yaml:16:5"
        ),
        (
            "A0607", "scopes.yaml", SmallSet.scopes.replacingOccurrences(of: "\n    explicit_categories: [user.health]", with: ""),
            "policy.yaml:5:5"
        ),
        (
            "A0608", "taxonomy.yaml",
            SmallSet.taxonomy.replacingOccurrences(of: "  - name: ads", with: "  - name: ads\n    profiling: true"), "eu.yaml:8:5"
        ),
    ])
    func eachLintFiresWhereItShould(code: String, file: String, text: String, location: String) {
        let result = SmallSet.validate(replacing: [file: text])
        #expect(result.policySet != nil, "\(result.diagnostics)")
        #expect(codes(result) == [code], "\(result.diagnostics.map { "\($0.range) \($0.code.rawValue) \($0.message)" })")
        #expect(result.diagnostics.first { $0.code.rawValue == code }?.range.description == location)
    }

    /// A scope with `explicit_categories` counts under every legal basis (explicit consent for sensitive data):
    /// it is in use even where no jurisdiction bases its purposes on consent (A0605 once warned about it).
    @Test func aScopeUsedThroughExplicitCategoriesIsNotUnused() {
        let contract = SmallSet.jurisdiction.replacingOccurrences(
            of: "{ purposes: [recs], basis: consent }", with: "{ purposes: [recs], basis: contract }")
        let result = SmallSet.validate(replacing: ["eu.yaml": contract])
        #expect(result.policySet != nil && !codes(result).contains("A0605"), "\(result.diagnostics.map(\.message))")
        // Without its explicit categories (and with the sensitive category no longer needing them), it is unused.
        let plain = SmallSet.validate(replacing: [
            "eu.yaml": contract,
            "scopes.yaml": SmallSet.scopes.replacingOccurrences(of: "\n    explicit_categories: [user.health]", with: ""),
        ])
        #expect(codes(plain).contains("A0605"))
    }

    @Test func denyWarningsFailsTheBinaryOnAWarningOnly() throws {
        let folder = try SmallSet.folder(
            "accord-lint", replacing: ["policy.yaml": SmallSet.policy.replacingOccurrences(of: "purposes: [ads]", with: "purposes: [recs]")]
        )
        defer { try? FileManager.default.removeItem(at: folder) }
        let plain = try runAccord(["validate", folder.path])
        #expect(plain.status == 0 && plain.stdout.contains("warning[A0602]") && plain.stdout.contains("1 warning"), "\(plain.stdout)")
        let strict = try runAccord(["validate", "--deny-warnings", folder.path])
        #expect(strict.status == 1)
        try SARIFChecks.check(try jsonObject(try runAccord(["validate", "--format", "sarif", folder.path]).stdout), results: 1)
        let github = try runAccord(["validate", "--format", "github", folder.path]).stdout
        #expect(
            github.hasPrefix("::warning file=taxonomy.yaml,line=10,col=5,title=A0602::")
                || github.contains("taxonomy.yaml,line=10,col=5,title=A0602::"), "\(github)")
        #expect(github.contains("ok: 5 files valid"), "the full report follows the annotations")
        let clean = try SmallSet.folder("accord-lint-clean")
        defer { try? FileManager.default.removeItem(at: clean) }
        #expect(try runAccord(["validate", "--deny-warnings", clean.path]).status == 0)
    }
}

@Suite struct PolicyTestRunnerTests {
    @Test func theReferenceSuitePassesWithFullCoverage() throws {
        let set = try #require(PolicySetValidator.validate(paths: [Repository.path("policies")]).policySet)
        let run = PolicyTestRunner.run(set)
        #expect(run.cases.count >= 40 && run.properties.count >= 5)
        #expect(run.failed == 0, "\(run.cases.filter { !$0.passed }.map { "\($0.testCase.name): \($0.failures)" })")
        #expect(run.coverage.percent == 100)
        #expect((run.space?.size ?? 0) > 1_000_000, "the enumerated space is not trivially small")
    }

    static let suite = """
        apiVersion: accord/v1
        kind: PolicyTest
        metadata: { name: small }
        defaults:
          as_of: 2026-06-01T00:00:00Z
          actor: { id: app }
          subject: { id: u-1, age: 30, jurisdiction: EU }
          context: { processing_region: EU }
        cases:
          - name: recs read clicks with consent
            request:
              purpose: recs
              action: read_online
              resources: [{ feature: clicks, collected_at: 2026-05-30T00:00:00Z }]
              consent: { grants: [{ scope: recs, version: 1, granted_at: 2026-01-01T00:00:00Z }] }
            expect: { effect: permit, resources: { clicks: { effect: permit, rules: [recs-data] } } }
          - name: ads for a minor
            request:
              purpose: ads
              action: read_online
              resources: [{ feature: clicks, collected_at: 2026-05-30T00:00:00Z }]
              subject: { id: u-2, age: 15, jurisdiction: EU }
            expect: { effect: permit }
        properties:
          - name: ads never read health
            never_permitted: { purposes: [ads], categories: [sensitive] }
          - name: nothing without consent
            never_permitted: { consent: none }
        """

    @Test func casesFailWithWhatDifferedAndCoverageCounts() throws {
        let result = SmallSet.validate(extra: ["tests.yaml": Self.suite])
        let set = try #require(result.policySet, "\(result.diagnostics)")
        let run = PolicyTestRunner.run(set)
        #expect(run.cases.map(\.passed) == [true, false])
        #expect(run.cases[1].failures == ["effect: expected permit, got deny"])
        #expect(run.cases[1].testCase.source.description == "tests.yaml:17:11")
        // recs-data applied; ads-clicks's condition was found false (age 15), never true.
        #expect(run.coverage.rulesExercised == ["recs-data", "ads-clicks"])
        #expect(run.coverage.conditionBranches == 2 && run.coverage.conditionBranchesCovered == 1)
        #expect(run.coverage.percent == 75, "(2 rules + 1 of 2 condition outcomes) of 4")
        // Properties: the first holds; the second does not (ads rest on legitimate interest) — the counterexample
        // is an ads read of clicks by an adult with no consent.
        #expect(run.properties[0].result.proven)
        let example = try #require(run.properties[1].result.counterexamples.first)
        #expect(example.request.purpose == "ads" && example.category == "user.behavior.clicks" && example.request.consent.grants.isEmpty)
        #expect(example.decision.reasons.compactMap(\.rule?.id) == ["ads-clicks"])
        #expect((example.request.subject.age ?? 0) >= 18)
        #expect(PolicyTestRunner.run(set, only: try Regex("minor")).cases.map(\.testCase.name) == ["ads for a minor"])
    }

    @Test func aCaseThatExpectsNothingOrCannotBeReadIsAnError() {
        let suite = """
            apiVersion: accord/v1
            kind: PolicyTest
            metadata: { name: bad }
            cases:
              - name: hopeful
                as_of: 2026-06-01T00:00:00Z
                request: { actor: { id: a }, subject: { id: s }, purpose: recs, action: read_online, resources: [clicks] }
              - name: garbled
                as_of: 2026-06-01T00:00:00Z
                request: { actor: { id: a }, purpose: recs, action: read_online, resources: [clicks] }
                expect: { effect: deny }
            """
        let result = SmallSet.validate(extra: ["tests.yaml": suite])
        #expect(result.policySet == nil)
        #expect(result.diagnostics.map { "\($0.range) \($0.code.rawValue)" } == ["tests.yaml:5:11 A0502", "tests.yaml:10:14 A0501"])
    }

    @Test func aTestOnlyFileLeavesTheRevisionAlone() throws {
        let without = try #require(SmallSet.validate().policySet)
        let with = try #require(SmallSet.validate(extra: ["tests.yaml": Self.suite]).policySet)
        #expect(DecisionPlan.compile(with).revision == DecisionPlan.compile(without).revision)
    }

    @Test func theBinaryInEveryFormat() throws {
        let folder = try SmallSet.folder("accord-test-cli", extra: ["tests.yaml": Self.suite])
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = try runAccord(["test", folder.path, "--coverage"])
        #expect(text.status == 1)
        #expect(
            text.stdout.contains("tests.yaml:17:11: FAIL ads for a minor") && text.stdout.contains("- expected: permit"), "\(text.stdout)")
        #expect(text.stdout.contains("1/2 cases passed, 1/2 properties proved") && text.stdout.contains("coverage: 75.0%"))

        let json = try jsonObject(try runAccord(["test", folder.path, "--format", "json"]).stdout)
        #expect((json["cases"] as? [[String: Any]])?.count == 2 && json["passed"] as? Bool == false)
        #expect(((json["coverage"] as? [String: Any])?["percent"] as? Double) == 75)

        // JUnit: well-formed XML, counts that add up.
        let junit = try runAccord(["test", folder.path, "--format", "junit"]).stdout
        final class Counter: NSObject, XMLParserDelegate {
            var cases = 0, failures = 0, total: (tests: String?, failures: String?)
            func parser(
                _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]
            ) {
                if name == "testcase" { cases += 1 }
                if name == "failure" { failures += 1 }
                if name == "testsuites" { total = (attributes["tests"], attributes["failures"]) }
            }
        }
        let parser = XMLParser(data: Data(junit.utf8))
        let counter = Counter()
        parser.delegate = counter
        #expect(parser.parse(), "JUnit output is not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "")")
        #expect(counter.cases == 4 && counter.failures == 2 && counter.total.tests == "4" && counter.total.failures == "2")

        // SARIF 2.1.0: the fields the schema requires, and locations GitHub can place.
        let sarif = try jsonObject(try runAccord(["test", folder.path, "--format", "sarif"]).stdout)
        try SARIFChecks.check(sarif, results: 2)
        let github = try runAccord(["test", folder.path, "--format", "github"]).stdout
        #expect(github.hasPrefix("::error file=") && github.contains(",line=17,col=11,title=accord-test-case::"), "\(github)")
        #expect(try runAccord(["test", folder.path, "--threshold", "80", "--run", "recs"]).status == 1, "75% is under 80%")
        #expect(try runAccord(["test", folder.path, "--run", "recs read"]).status == 0)
    }
}

enum SARIFChecks {
    /// The properties SARIF 2.1.0's schema requires (sarifLog: version, runs; run: tool; tool: driver; driver:
    /// name; result: message), and what code scanning needs to place a result.
    static func check(_ log: [String: Any], results count: Int) throws {
        #expect(log["version"] as? String == "2.1.0")
        #expect((log["$schema"] as? String)?.contains("sarif-2.1.0") == true)
        let runs = try #require(log["runs"] as? [[String: Any]])
        #expect(runs.count == 1)
        let driver = try #require((runs[0]["tool"] as? [String: Any])?["driver"] as? [String: Any])
        #expect(driver["name"] as? String == "accord")
        let rules = try #require(driver["rules"] as? [[String: Any]])
        let results = try #require(runs[0]["results"] as? [[String: Any]])
        #expect(results.count == count)
        for result in results {
            let ruleID = try #require(result["ruleId"] as? String)
            let index = try #require(result["ruleIndex"] as? Int)
            #expect(rules[index]["id"] as? String == ruleID)
            #expect(((rules[index]["shortDescription"] as? [String: Any])?["text"] as? String)?.isEmpty == false)
            #expect(["error", "warning", "note"].contains(result["level"] as? String ?? ""))
            #expect(((result["message"] as? [String: Any])?["text"] as? String)?.isEmpty == false)
            let location = try #require((result["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
            #expect(((location["artifactLocation"] as? [String: Any])?["uri"] as? String)?.isEmpty == false)
            #expect(((location["region"] as? [String: Any])?["startLine"] as? Int ?? 0) >= 1)
        }
    }
}

@Suite struct PolicyDiffTests {
    @Test func wideningNarrowingAndNoChange() throws {
        let base = try #require(SmallSet.validate().policySet)
        let same = try #require(
            SmallSet.validate(replacing: [
                "policy.yaml": SmallSet.policy.replacingOccurrences(
                    of: "metadata: { name: p }",
                    with: "metadata: { name: p, owner: someone }")
            ]).policySet)
        let unchanged = PolicyDiff(old: base, new: same)
        #expect(unchanged.changes.isEmpty && unchanged.rules.isEmpty && unchanged.pointsCompared > 0)

        // Ads may now read clicks from 16.
        let wider = try #require(
            SmallSet.validate(replacing: [
                "policy.yaml": SmallSet.policy.replacingOccurrences(of: "subject.age >= 18", with: "subject.age >= 16")
            ]).policySet)
        let widened = PolicyDiff(old: base, new: wider)
        #expect(widened.widens)
        #expect(widened.changes.count == 1)
        let change = try #require(widened.changes.first)
        #expect(change.widened && change.purpose == "ads" && change.category == "user.behavior.clicks" && change.actions == [.readOnline])
        #expect(Set(change.ages) == [16, 17], "exactly the ages that changed")
        #expect(widened.rules.map { "\($0.id) \($0.kind.rawValue)" } == ["ads-clicks changed"])

        // The other way round narrows, and does not widen.
        let narrowed = PolicyDiff(old: wider, new: base)
        #expect(!narrowed.widens && narrowed.changes.count == 1 && narrowed.changes[0].widened == false)
    }

    /// The reference policies against a copy with one rule widened: the diff names exactly that change.
    @Test func theReferenceAgainstOneWidenedRule() throws {
        let folder = try Fixtures.temporaryFolder("accord-diff")
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent("policies")
        try FileManager.default.copyItem(atPath: Repository.path("policies"), toPath: copy.path)
        let rules = copy.appendingPathComponent("recommendations.yaml")
        let text = try String(contentsOf: rules, encoding: .utf8)
        let widened = text.replacingOccurrences(
            of: "categories: [user.behavior.clicks, user.behavior.views, user.inferred.interests, user.location.coarse]",
            with:
                "categories: [user.behavior.clicks, user.behavior.views, user.inferred.interests, user.location.coarse, user.behavior.purchases]"
        )
        #expect(widened != text)
        try widened.write(to: rules, atomically: true, encoding: .utf8)
        let output = try runAccord(["diff", Repository.path("policies"), copy.path, "--format", "json", "--fail-on-widening"])
        #expect(output.status == 1, "widening fails with --fail-on-widening")
        let diff = try jsonObject(output.stdout)
        let changes = try #require(diff["changes"] as? [[String: Any]])
        #expect(
            changes.map { "\($0["direction"]!) \($0["purpose"]!) \($0["category"]!)" } == ["widened ads.targeting user.behavior.purchases"])
        #expect((diff["rules"] as? [[String: Any]])?.map { "\($0["id"]!) \($0["change"]!)" } == ["ads-targeting changed"])
        let text2 = try runAccord(["diff", Repository.path("policies"), copy.path])
        #expect(
            text2.status == 0 && text2.stdout.hasPrefix("+ ads.targeting may now read_online user.behavior.purchases"), "\(text2.stdout)")
    }
}

/// `examples/ci/pre-commit` in a real git repository with the real binary: a clean change passes and shows its
/// diff; a change that breaks a policy test is refused.
@Suite struct PreCommitHookTests {
    func sh(_ script: String, in folder: URL) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        environment["ACCORD"] = Repository.accordBinary
        environment["GIT_AUTHOR_NAME"] = "t"; environment["GIT_AUTHOR_EMAIL"] = "t@example.com"
        environment["GIT_COMMITTER_NAME"] = "t"; environment["GIT_COMMITTER_EMAIL"] = "t@example.com"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func theHookPassesACleanChangeAndRefusesABrokenOne() throws {
        let folder = try Fixtures.temporaryFolder("accord-hook")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(atPath: Repository.path("policies"), toPath: folder.appendingPathComponent("policies").path)
        let hook = Repository.path("examples/ci/pre-commit")
        #expect(try sh("git init -q . && git add policies && git commit -qm base", in: folder).status == 0)
        // Ads measurement over smaller groups: valid, tests pass, no widening of who reads what.
        let rules = folder.appendingPathComponent("policies/recommendations.yaml")
        let text = try String(contentsOf: rules, encoding: .utf8)
        try text.replacingOccurrences(of: "obligations: { min_cohort: 100 }", with: "obligations: { min_cohort: 50 }").write(
            to: rules, atomically: true, encoding: .utf8)
        let clean = try sh("git add policies && sh \(hook)", in: folder)
        #expect(clean.status == 0, "\(clean.output)")
        #expect(clean.output.contains("54/54 cases passed") && clean.output.contains("rule changed: ads-measurement"), "\(clean.output)")
        // Ads may now target on purchases: the reference test 'ads targeting reads no purchases' fails.
        try text.replacingOccurrences(
            of: "categories: [user.behavior.clicks, user.behavior.views, user.inferred.interests, user.location.coarse]",
            with:
                "categories: [user.behavior.clicks, user.behavior.views, user.inferred.interests, user.location.coarse, user.behavior.purchases]"
        )
        .write(to: rules, atomically: true, encoding: .utf8)
        let broken = try sh("git add policies && sh \(hook)", in: folder)
        #expect(broken.status != 0)
        #expect(broken.output.contains("FAIL ads targeting reads no purchases"), "\(broken.output)")
    }
}

/// A reference property broken on purpose: the counterexample is the request that shows the hole.
@Suite struct BrokenReferencePropertyTests {
    @Test func adsOnHealthDataIsFoundWithTheRuleThatAllowsIt() throws {
        let folder = try Fixtures.temporaryFolder("accord-broken-property")
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent("policies")
        try FileManager.default.copyItem(atPath: Repository.path("policies"), toPath: copy.path)
        func edit(_ file: String, _ old: String, _ new: String) throws {
            let url = copy.appendingPathComponent(file)
            let text = try String(contentsOf: url, encoding: .utf8)
            #expect(text.contains(old), "\(file) no longer says \(old)")
            try text.replacingOccurrences(of: old, with: new).write(to: url, atomically: true, encoding: .utf8)
        }
        // An ads scope that takes explicit consent for health data, and a targeting rule that reads it.
        try edit("consent-scopes.yaml", "    purposes: [ads]\n", "    purposes: [ads]\n    explicit_categories: [user.health]\n")
        try edit(
            "recommendations.yaml", "user.inferred.interests, user.location.coarse]\n    when:",
            "user.inferred.interests, user.location.coarse, user.health]\n    when:")
        try edit(
            "recommendations.yaml", "    purposes: [ads]\n    categories: [sensitive]",
            "    purposes: [ads.measurement]\n    categories: [sensitive]")
        let set = try #require(PolicySetValidator.validate(paths: [copy.path]).policySet)
        let run = PolicyTestRunner.run(set, only: try Regex("sensitive"))
        let result = try #require(run.properties.first?.result)
        #expect(!result.proven)
        let example = try #require(result.counterexamples.first)
        #expect(example.request.purpose == "ads.targeting" && example.category == "user.health")
        #expect(example.request.consent.grants.contains { $0.scope == "ads" })
        #expect((example.request.subject.age ?? 0) >= 18, "the rule's own condition still holds")
        #expect(example.decision.reasons.compactMap(\.rule?.id) == ["ads-targeting"] && example.assumedConditions.isEmpty)
        // The counterexample replays through `accord eval` to the same permit.
        let replay = try runAccord(
            ["eval", "--policies", copy.path, "--as-of", "2026-06-01T00:00:00Z", "--request", "-"],
            stdin: Data(example.request.json.serialized().utf8))
        #expect(replay.stdout.contains("\"effect\":\"permit\""), "\(replay.stdout) \(replay.stderr)")
    }
}

/// Found in review: two ways a proof could hold vacuously.
@Suite struct ProofSoundnessTests {
    func property(_ filter: String, replacing: [String: String]) throws -> DecisionSpace.PropertyResult {
        let suite = """
            apiVersion: accord/v1
            kind: PolicyTest
            metadata: { name: p }
            properties:
              - name: checked
                never_permitted: \(filter)
            """
        let result = SmallSet.validate(replacing: replacing, extra: ["tests.yaml": suite])
        let set = try #require(result.policySet, "\(result.diagnostics)")
        return try #require(PolicyTestRunner.run(set).properties.first?.result)
    }

    /// Consent that lasts an hour is still consent at the instant the space is decided.
    @Test func shortLivedConsentStillCounts() throws {
        let scopes = SmallSet.scopes + "\n    expires_after: 1h"
        let result = try property("{ purposes: [recs] }", replacing: ["scopes.yaml": scopes])
        #expect(!result.proven, "recs is permitted with consent, however short-lived")
        #expect(result.counterexamples.first?.request.consent.grants.isEmpty == false)
    }

    /// A condition on the processing region that is not a comparison with literals cannot be decided by the
    /// literals the policies name: it is read permissively, and the counterexample says so.
    @Test func aRegionPrefixIsReadPermissively() throws {
        let policy = SmallSet.policy.replacingOccurrences(
            of: "when: has(subject.age) && subject.age >= 18",
            with: "when: has(subject.age) && subject.age >= 18 && starts_with(context.processing_region, \"eu-\")")
        let result = try property("{ purposes: [ads] }", replacing: ["policy.yaml": policy])
        #expect(!result.proven, "a request processed in eu-west-1 is permitted, so ads are not never permitted")
        #expect(result.counterexamples.first?.assumedConditions == ["ads-clicks"])
        // The same rule comparing with a literal is decided: only the region named is tried, and it matches.
        let plain = SmallSet.policy.replacingOccurrences(
            of: "when: has(subject.age) && subject.age >= 18",
            with: "when: has(subject.age) && subject.age >= 18 && context.processing_region == \"EU\"")
        let decided = try property("{ purposes: [ads] }", replacing: ["policy.yaml": plain])
        #expect(!decided.proven && decided.counterexamples.first?.assumedConditions.isEmpty == true)
        #expect(decided.counterexamples.allSatisfy { $0.request.context.processingRegion == "EU" })
    }
}
