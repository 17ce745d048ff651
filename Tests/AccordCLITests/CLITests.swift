import AccordCore
import AccordTestSupport
import Foundation
import Testing

/// The real `accord` binary: exit codes and output formats.
@Suite struct CLITests {
    @Test func validatesReferencePolicies() throws {
        let output = try runAccord(["validate", "policies/"])
        #expect(output.status == 0)
        #expect(output.stdout.hasPrefix("ok: 6 files valid, revision "), "\(output.stdout)")
        #expect(!output.stdout.contains("warning"), "the reference policies are lint-clean")
    }

    @Test func serveRefusesADefaultPurposeThePoliciesDoNotHaveAndAPublicURLThatIsNotOne() throws {
        let folder = try Fixtures.temporaryFolder("accord-serve-options")
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("accord.sqlite").path
        let purpose = try runAccord(["serve", "--db", db, "--port", "1", "--default-purpose", "personalisation.recomendations"])
        #expect(purpose.status == 2)
        #expect(purpose.stderr.contains("--default-purpose: error: 'personalisation.recomendations' is not a purpose"), "\(purpose.stderr)")
        for url in ["ftp://pdp.example.org", "pdp.example.org", "https://pdp.example.org/?x=1"] {
            let output = try runAccord(["serve", "--db", db, "--port", "1", "--public-url", url])
            #expect(output.status == 2 && output.stderr.contains("--public-url: error"), "\(url): \(output.stderr)")
        }
    }

    @Test func reportsEachBrokenFileWithItsOwnLocation() throws {
        // Each file marks its error under the line it is on, as the diagnostics corpus does.
        let cases = DiagnosticCase.all(in: "Tests/Corpus/broken")
        let output = try runAccord(["validate", "Tests/Corpus/broken"])
        #expect(output.status == 1)
        #expect(cases.count >= 5)
        for testCase in cases {
            let expected = try testCase.expected()
            #expect(!expected.isEmpty, "\(testCase) marks no error")
            for item in expected {
                #expect(
                    output.stdout.contains("Tests/Corpus/broken/\(testCase):\(item.line):\(item.column): error[\(item.code)]"),
                    "\(testCase): \(item)")
            }
        }
    }

    /// A window with no record in it — after the last, before the first — answers zero, not a crash (it used
    /// to stop the process on an empty sequence range).
    @Test func auditStatsAndQueryOverAnEmptyWindowAnswerNothing() throws {
        let folder = try Fixtures.temporaryFolder("accord-empty-window")
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("t.sqlite").path
        let recorded = try runAccord([
            "eval", "--policies", "policies", "--requests", "examples/requests.jsonl", "--as-of", "2026-06-01T00:00:00Z", "--record",
            "--db", db,
        ])
        #expect(recorded.status == 0)
        let later = try runAccord(["audit", "stats", "--db", db, "--from", "2030-01-01T00:00:00Z", "--format", "json"])
        #expect(later.status == 0, "\(later.stderr)")
        #expect((try? jsonObject(later.stdout))?["decisions"] as? Int == 0, "\(later.stdout)")
        let earlier = try runAccord(["audit", "query", "--db", db, "--to", "2020-01-01T00:00:00Z", "--subject", "u-1001"])
        #expect(earlier.status == 0, "\(earlier.stderr)")
        #expect(!earlier.stdout.contains("u-1001"))
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try runAccord(["eval", "--policies", "policies"]).status == 2)
        #expect(try runAccord(["validate", "--format", "xml"]).status == 2)
        #expect(try runAccord(["eval", "--policies", "policies", "--request", "-", "--as-of", "yesterday"]).status == 2)
        #expect(try runAccord(["frobnicate"]).status == 2)
        let missing = try runAccord(["validate", "no/such/folder"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no/such/folder: error: no such file or folder"))
    }

    /// `--timing` prints the decisions as without it, then one line of figures on standard error: counts that must
    /// match the file, percentiles in order. It times a file only, and the plan only (no store reads).
    @Test func timingFiguresFollowTheDecisions() throws {
        let plain = try runAccord([
            "eval", "--policies", "policies", "--requests", "examples/requests.jsonl", "--as-of", "2026-06-01T00:00:00Z",
        ])
        let timed = try runAccord([
            "eval", "--policies", "policies", "--requests", "examples/requests.jsonl", "--as-of", "2026-06-01T00:00:00Z", "--timing",
        ])
        #expect(timed.status == 0, "\(timed.stderr)")
        let lines = timed.stdout.split(separator: "\n")
        #expect(lines.count == 16)
        // The same decisions (their ids differ from run to run).
        let effects = { (text: String) in text.split(separator: "\n").map { (try? jsonObject(String($0)))?["effect"] as? String } }
        #expect(effects(timed.stdout) == effects(plain.stdout))
        let line = try #require(timed.stderr.split(separator: "\n").last { $0.hasPrefix("{\"accord_timing\"") }, "\(timed.stderr)")
        let figures = try #require(try jsonObject(String(line))["accord_timing"] as? [String: Any])
        #expect(figures["requests"] as? Int == 16)
        let resources = lines.reduce(0) { $0 + (((try? jsonObject(String($1)))?["resources"] as? [Any])?.count ?? 0) }
        #expect(figures["resources"] as? Int == resources)
        let p10 = try #require(figures["p10_ns"] as? Int), median = try #require(figures["median_ns"] as? Int)
        let p90 = try #require(figures["p90_ns"] as? Int)
        #expect(0 < p10 && p10 <= median && median <= p90, "\(figures)")
        #expect((figures["load_ms"] as? Double ?? 0) > 0, "\(figures)")
        for refused in [["--requests", "-"], ["--requests", "examples/requests.jsonl", "--consent-store"], ["--request", "-"]] {
            #expect(try runAccord(["eval", "--policies", "policies", "--timing"] + refused).status == 2, "\(refused)")
        }
    }

    @Test func malformedRequestIsAnErrorNotADecision() throws {
        let output = try runAccord(["eval", "--policies", "policies", "--request", "-"], stdin: Data("{\"actor\": {}}".utf8))
        #expect(output.status == 2)
        #expect(output.stdout.isEmpty)
        #expect(output.stderr.contains("actor.id: required"))
    }

    @Test func streamAnswersBadLinesWithErrorsAndGoesOn() throws {
        let good = try String(contentsOfFile: Repository.path("examples/requests.jsonl"), encoding: .utf8).split(separator: "\n")[0]
        let input =
            "\(good)\n{not json\n{\"actor\": {\"id\": \"a\"}, \"subject\": {\"id\": \"s\"}, \"purpose\": \"x\", \"action\": \"train\", \"resources\": [], \"bogus\": 1}\n\(good)\n"
        let output = try runAccord(
            ["eval", "--policies", "policies", "--requests", "-", "--as-of", "2026-06-01T00:00:00Z"], stdin: Data(input.utf8))
        #expect(output.status == 2)
        let lines = output.stdout.split(separator: "\n").map { try? jsonObject(String($0)) }
        #expect(lines.count == 4)
        #expect(lines[0]?["effect"] as? String == "partial")
        #expect(lines[1]?["line"] as? Int == 2)
        #expect((lines[2]?["error"] as? String)?.contains("bogus: unknown field") == true)
        #expect(lines[3]?["effect"] as? String == "partial")
    }

    @Test func explainListsConsideredRules() throws {
        let good = try String(contentsOfFile: Repository.path("examples/requests.jsonl"), encoding: .utf8).split(separator: "\n")[0]
        let output = try runAccord(
            ["eval", "--policies", "policies", "--request", "-", "--as-of", "2026-06-01T00:00:00Z", "--explain"],
            stdin: Data(good.utf8))
        let decision = try jsonObject(output.stdout)
        let resources = try #require(decision["resources"] as? [[String: Any]])
        let gps = try #require(resources.first { $0["resource"] as? String == "gps_last" })
        let trace = try #require(gps["trace"] as? [[String: Any]])
        let ids = trace.compactMap { ($0["rule"] as? [String: Any])?["id"] as? String }
        #expect(ids == ["no-precise-location-outside-service"])
        #expect(trace.first?["outcome"] as? String == "applied")
    }

    @Test func invalidPoliciesMeanNoDecision() throws {
        let output = try runAccord(["eval", "--policies", "Tests/Corpus/broken", "--request", "examples/requests.jsonl"])
        #expect(output.status == 1)
        #expect(output.stdout.isEmpty)
        #expect(output.stderr.contains("nothing decided"))
    }
}

@Suite struct RevisionTests {
    @Test func revisionIgnoresHowThePathIsSpelled() throws {
        let plain = try runAccord(["validate", "--format", "json", "policies"])
        let dotted = try runAccord(["validate", "--format", "json", "./policies/"])
        let absolute = try runAccord(["validate", "--format", "json", Repository.path("policies")])
        let revisions = try [plain, dotted, absolute].map { try jsonObject($0.stdout)["revision"] as? String }
        #expect(revisions[0] != nil)
        #expect(Set(revisions).count == 1, "\(revisions)")
    }

    @Test func sameNamedFilesInTwoRootsBothCount() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("accord-roots-\(UUID().uuidString)")
        let first = base.appendingPathComponent("first"), second = base.appendingPathComponent("second")
        for directory in [first, second] { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
        defer { try? FileManager.default.removeItem(at: base) }
        try Data("apiVersion: accord/v1\nkind: Taxonomy\ncategories: [a]\n".utf8).write(to: first.appendingPathComponent("t.yaml"))
        try Data("apiVersion: accord/v1\nkind: Taxonomy\ncategories: [b]\n".utf8).write(to: second.appendingPathComponent("t.yaml"))
        let revision = {
            PolicySetValidator.validate(paths: [first.path, second.path]).policySet.map { DecisionPlan.compile($0).revision }
        }
        let before = try #require(revision())
        #expect(revision() == before)
        try Data("apiVersion: accord/v1\nkind: Taxonomy\ncategories: [c]\n".utf8).write(to: second.appendingPathComponent("t.yaml"))
        #expect(try #require(revision()) != before)
    }

    @Test func revisionChangesWithTheText() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("accord-revision-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in try FileManager.default.contentsOfDirectory(atPath: Repository.path("policies")) {
            try FileManager.default.copyItem(
                atPath: Repository.path("policies/\(name)"), toPath: directory.appendingPathComponent(name).path)
        }
        let before = try jsonObject(try runAccord(["validate", "--format", "json", directory.path]).stdout)["revision"] as? String
        let file = directory.appendingPathComponent("recommendations.yaml")
        try (String(contentsOf: file, encoding: .utf8).replacingOccurrences(of: "max_age: 90d", with: "max_age: 60d"))
            .write(to: file, atomically: true, encoding: .utf8)
        let after = try jsonObject(try runAccord(["validate", "--format", "json", directory.path]).stdout)["revision"] as? String
        #expect(before == (try jsonObject(try runAccord(["validate", "--format", "json", "policies"]).stdout)["revision"] as? String))
        #expect(before != after)
    }
}

@Suite struct StreamingTests {
    /// A caller that writes one request and waits gets its decision before closing the pipe.
    @Test func answersEachLineAsItArrives() throws {
        spawnLock.lock()
        defer { spawnLock.unlock() }
        let (process, input, output) = try startAccord([
            "eval", "--policies", "policies", "--requests", "-", "--as-of", "2026-06-01T00:00:00Z",
        ])
        let request = try String(contentsOfFile: Repository.path("examples/requests.jsonl"), encoding: .utf8).split(separator: "\n")[1]
        input.fileHandleForWriting.write(Data((request + "\n").utf8))
        var received = Data()
        while !received.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            received.append(chunk)
        }
        #expect(process.isRunning, "the stream must still be open while the answer arrives")
        let decision = try jsonObject(String(decoding: received, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(decision["request_id"] as? String == "ex-02")
        #expect(decision["effect"] as? String == "deny")
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
