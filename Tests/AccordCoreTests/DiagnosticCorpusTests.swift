import AccordCore
import AccordTestSupport
import Foundation
import Testing

@Suite struct DiagnosticCorpusTests {
    static let cases = DiagnosticCase.all()

    @Test func corpusIsLargeEnough() {
        #expect(Self.cases.count >= 40)
    }

    @Test(arguments: cases) func reportsMarkedErrorsThroughLibrary(_ testCase: DiagnosticCase) throws {
        let expected = try testCase.expected()
        #expect(!expected.isEmpty, "a case that expects nothing fails")
        let result = PolicySetValidator.validate(paths: [testCase.file])
        let got = Set(
            result.diagnostics.filter { $0.severity == .error }.map {
                DiagnosticCase.Expected(code: $0.code.rawValue, line: $0.range.start.line, column: $0.range.start.column)
            })
        #expect(
            got == expected,
            "missing \(expected.subtracting(got).sorted { $0.description < $1.description }), unexpected \(got.subtracting(expected).sorted { $0.description < $1.description })"
        )
        #expect(result.policySet == nil)
    }

    @Test(arguments: cases) func reportsMarkedErrorsThroughCLI(_ testCase: DiagnosticCase) throws {
        let expected = try testCase.expected()
        let output = try runAccord(["validate", "--format", "json", testCase.file])
        #expect(output.status == 1)
        let report = try jsonObject(output.stdout)
        let got = Set(
            (report["diagnostics"] as? [[String: Any]] ?? []).filter { $0["severity"] as? String == "error" }.map {
                DiagnosticCase.Expected(code: $0["code"] as? String ?? "", line: $0["line"] as? Int ?? 0, column: $0["column"] as? Int ?? 0)
            })
        #expect(got == expected)
        // The text form names the same place as file:line:col: error[CODE].
        let text = try runAccord(["validate", testCase.file])
        for item in expected {
            #expect(text.stdout.contains("\(testCase.file):\(item.line):\(item.column): error[\(item.code)]"))
        }
    }
}

extension DiagnosticCase: CustomTestStringConvertible {
    public var testDescription: String { description }
}
