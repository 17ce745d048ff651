import AccordCore
import AccordTestSupport
import Foundation
import Testing

/// The shared obligations corpus: every case, as `Obligations.apply(to:)` (the gate's masking) gives it. The Python
/// package runs the same file (clients/python/tests/test_obligations.py).
struct ObligationCorpusTests {
    struct Case: CustomStringConvertible {
        var name: String
        var value: JSONValue
        var obligations: Obligations
        var expected: JSONValue
        var description: String { name }
    }

    static let cases: [Case] = {
        let text = (try? String(contentsOfFile: Repository.path("Tests/Corpus/obligations/cases.jsonl"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONReader.parse(Array(line.utf8)), let name = object["name"]?.stringValue else { return nil }
            var obligations = Obligations()
            obligations.mask = object["obligations"]?["mask"]?.stringValue.flatMap(MaskStrategy.init(rawValue:))
            obligations.drop = object["obligations"]?["drop"]?.stringsValue ?? []
            return Case(name: name, value: object["value"] ?? .null, obligations: obligations, expected: object["expected"] ?? .null)
        }
    }()

    @Test func theCorpusIsThere() {
        #expect(Self.cases.count >= 30)
        #expect(Set(Self.cases.compactMap { $0.obligations.mask }) == Set(MaskStrategy.allCases), "every mask Accord defines")
        #expect(Self.cases.contains { !$0.obligations.drop.isEmpty })
    }

    @Test(arguments: cases)
    func appliesAsTheCorpusSays(_ test: Case) {
        let result = test.obligations.apply(to: test.value) ?? .null
        #expect(result == test.expected, "\(test.name): got \(result.serialized()), expected \(test.expected.serialized())")
    }
}
