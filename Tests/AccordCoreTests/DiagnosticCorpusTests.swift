import AccordCore
import Foundation
import Testing

/// A diagnostic case: a YAML file whose expected errors are marked in comments.
///
///     purposes: [ads.targetting]
/// #              ^ A0212
///
/// marks error A0212 at the caret's column on the line above; `# expect: A0101 at 1:1` states one directly.
struct DiagnosticCase: CustomTestStringConvertible, Sendable {
    let file: String
    var testDescription: String { URL(fileURLWithPath: file).lastPathComponent }

    struct Expected: Hashable, CustomStringConvertible {
        var code: String
        var line: Int
        var column: Int
        var description: String { "\(code)@\(line):\(column)" }
    }

    static func all() -> [DiagnosticCase] {
        let root = Repository.path("Tests/Corpus/diagnostics")
        let files =
            (try? FileManager.default.contentsOfDirectory(atPath: root))?.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            ?? []
        return files.map { DiagnosticCase(file: "\(root)/\($0)") }
    }

    /// Reads markers from the raw bytes (some cases hold invalid UTF-8 on purpose).
    func expected() throws -> Set<Expected> {
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        var result = Set<Expected>()
        var lastContentLine = 0
        for (index, raw) in lines.enumerated() {
            let line = String(decoding: raw, as: UTF8.self)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("# expect:") {
                // `# expect: CODE at LINE:COL`
                let parts = trimmed.dropFirst("# expect:".count).split(separator: " ")
                guard parts.count == 3, parts[1] == "at" else { throw CorpusError("\(file):\(index + 1): bad expect line") }
                let position = parts[2].split(separator: ":").compactMap { Int($0) }
                guard position.count == 2 else { throw CorpusError("\(file):\(index + 1): bad position") }
                result.insert(Expected(code: String(parts[0]), line: position[0], column: position[1]))
                continue
            }
            if line.hasPrefix("#"), let caret = line.unicodeScalars.firstIndex(of: "^"),
                line.unicodeScalars[line.unicodeScalars.startIndex..<caret].allSatisfy({ $0 == "#" || $0 == " " })
            {
                let column = line.unicodeScalars.distance(from: line.unicodeScalars.startIndex, to: caret) + 1
                let code = line.unicodeScalars[caret...].split(separator: " ").dropFirst().first.map {
                    String(String.UnicodeScalarView($0))
                }
                guard let code, lastContentLine > 0 else { throw CorpusError("\(file):\(index + 1): marker without code or line") }
                result.insert(Expected(code: code, line: lastContentLine, column: column))
                continue
            }
            lastContentLine = index + 1
        }
        return result
    }
}

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
