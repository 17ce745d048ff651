import AccordCore
import AccordTestSupport
import Foundation
import Testing

/// `examples/requests.jsonl` decided at the examples' instant must match `examples/expected.jsonl`,
/// through the library and through the `accord` binary.
@Suite struct ExamplesTests {
    static let asOf = "2026-06-01T00:00:00Z"

    func loadExamples() throws -> [(request: [String: Any], expected: [String: Any])] {
        let requests = try String(contentsOfFile: Repository.path("examples/requests.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try jsonObject(String($0)) }
        let expected = try String(contentsOfFile: Repository.path("examples/expected.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try jsonObject(String($0)) }
        #expect(requests.count == expected.count)
        #expect(requests.count >= 10)
        return Array(zip(requests, expected))
    }

    @Test func referencePoliciesValidate() throws {
        let result = PolicySetValidator.validate(paths: [Repository.path("policies")])
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(result.policySet != nil)
    }

    @Test func examplesDecideAsExpectedThroughLibrary() throws {
        let set = try #require(PolicySetValidator.validate(paths: [Repository.path("policies")]).policySet)
        let plan = DecisionPlan.compile(set)
        for (request, expected) in try loadExamples() {
            let want = try DecisionExpectation(try #require(expected["want"] as? [String: Any]))
            #expect(request["id"] as? String == expected["request_id"] as? String)
            let decision = try decideThroughLibrary(plan, request: request, asOf: Timestamps.parse(Self.asOf)!)
            let problems = want.mismatches(decision)
            #expect(problems.isEmpty, "\(expected["note"] ?? ""): \(problems)")
        }
    }

    @Test func examplesDecideAsExpectedThroughCLI() throws {
        let output = try runAccord(["eval", "--policies", "policies", "--requests", "examples/requests.jsonl", "--as-of", Self.asOf])
        #expect(output.status == 0, "\(output.stderr)")
        let lines = output.stdout.split(separator: "\n").map(String.init)
        let examples = try loadExamples()
        #expect(lines.count == examples.count)
        for (line, (_, expected)) in zip(lines, examples) {
            let decision = try jsonObject(line)
            #expect(decision["request_id"] as? String == expected["request_id"] as? String)
            #expect((decision["decision_id"] as? String)?.count == 36)
            let problems = try DecisionExpectation(try #require(expected["want"] as? [String: Any])).mismatches(decision)
            #expect(problems.isEmpty, "\(expected["note"] ?? ""): \(problems)")
        }
    }
}
