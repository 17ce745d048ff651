import Foundation
import Testing

/// The real `accord` binary: exit codes and output formats.
@Suite struct CLITests {
    @Test func validatesReferencePolicies() throws {
        let output = try runAccord(["validate", "policies/"])
        #expect(output.status == 0)
        #expect(output.stdout.hasPrefix("ok: 5 files valid, revision "))
    }

    @Test func reportsEachBrokenFileWithItsOwnLocation() throws {
        let expected = try String(contentsOfFile: Repository.path("Tests/Corpus/broken/EXPECTED.txt"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.isEmpty }
        let output = try runAccord(["validate", "Tests/Corpus/broken"])
        #expect(output.status == 1)
        #expect(expected.count >= 5)
        for line in expected {
            let parts = line.split(separator: " ")
            #expect(output.stdout.contains("Tests/Corpus/broken/\(parts[0]): error[\(parts[1])]"), "\(line)")
        }
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try runAccord(["eval", "--policies", "policies"]).status == 2)
        #expect(try runAccord(["validate", "--format", "xml"]).status == 2)
        #expect(try runAccord(["eval", "--policies", "policies", "--request", "-", "--as-of", "yesterday"]).status == 2)
        #expect(try runAccord(["frobnicate"]).status == 2)
    }

    @Test func malformedRequestIsAnErrorNotADecision() throws {
        let output = try runAccord(["eval", "--policies", "policies", "--request", "-"], stdin: Data("{\"actor\": {}}".utf8))
        #expect(output.status == 2)
        #expect(output.stdout.isEmpty)
        #expect(output.stderr.contains("actor.id: required"))
    }

    @Test func streamAnswersBadLinesWithErrorsAndGoesOn() throws {
        let good = try String(contentsOfFile: Repository.path("examples/requests.jsonl"), encoding: .utf8).split(separator: "\n")[0]
        let input = "\(good)\n{not json\n{\"actor\": {\"id\": \"a\"}, \"subject\": {\"id\": \"s\"}, \"purpose\": \"x\", \"action\": \"train\", \"resources\": [], \"bogus\": 1}\n\(good)\n"
        let output = try runAccord(["eval", "--policies", "policies", "--requests", "-", "--as-of", "2026-06-01T00:00:00Z"], stdin: Data(input.utf8))
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
        let output = try runAccord(["eval", "--policies", "policies", "--request", "-", "--as-of", "2026-06-01T00:00:00Z", "--explain"],
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
