import AccordCore
import AccordTestSupport
import Foundation
import Testing

/// One decision case of `Tests/Corpus/decisions/<set>/cases.jsonl`.
struct DecisionCase: CustomTestStringConvertible, Sendable {
    let set: String
    let line: Int
    let text: String

    var testDescription: String { "\(set):\(line)" }

    static func all() -> [DecisionCase] {
        let root = Repository.path("Tests/Corpus/decisions")
        let sets = (try? FileManager.default.contentsOfDirectory(atPath: root))?.sorted() ?? []
        var cases: [DecisionCase] = []
        for set in sets {
            guard let text = try? String(contentsOfFile: "\(root)/\(set)/cases.jsonl", encoding: .utf8) else { continue }
            for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                cases.append(DecisionCase(set: set, line: i + 1, text: String(line)))
            }
        }
        return cases
    }

    var policies: String { Repository.path("Tests/Corpus/decisions/\(set)/policies") }
}

@Suite struct DecisionCorpusTests {
    static let cases = DecisionCase.all()

    @Test func corpusIsLargeEnough() {
        #expect(Self.cases.count >= 80)
    }

    @Test(arguments: cases) func decidesThroughLibrary(_ testCase: DecisionCase) throws {
        let object = try jsonObject(testCase.text)
        let want = try DecisionExpectation(try #require(object["want"] as? [String: Any], "case has no want"))
        let asOf = try #require((object["as_of"] as? String).flatMap(Timestamps.parse), "case has no as_of")
        let result = PolicySetValidator.validate(paths: [testCase.policies])
        let set = try #require(result.policySet, "\(result.diagnostics)")
        let decision = try decideThroughLibrary(
            DecisionPlan.compile(set), request: try #require(object["request"] as? [String: Any]), asOf: asOf)
        let problems = want.mismatches(decision)
        #expect(problems.isEmpty, "\(object["note"] ?? ""): \(problems)")
    }

    @Test(arguments: cases) func decidesThroughCLI(_ testCase: DecisionCase) throws {
        let object = try jsonObject(testCase.text)
        let want = try DecisionExpectation(try #require(object["want"] as? [String: Any]))
        let request = try JSONSerialization.data(withJSONObject: try #require(object["request"]))
        let output = try runAccord(
            ["eval", "--policies", testCase.policies, "--request", "-", "--as-of", try #require(object["as_of"] as? String)],
            stdin: request)
        #expect(output.status == 0, "\(output.stderr)")
        let problems = want.mismatches(try jsonObject(output.stdout))
        #expect(problems.isEmpty, "\(object["note"] ?? ""): \(problems)")
    }
}
