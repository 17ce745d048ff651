import AccordCore
import AccordTestSupport
import Foundation
import Testing

/// Hostile YAML is refused with a clear diagnostic, never a crash, hang or runaway memory.
/// (How fast each is refused is measured by `scripts/hostile-inputs.sh` on a release build.)
@Suite struct HostileInputTests {
    func codes(_ text: String) -> [DiagnosticCode] { codes(Array(text.utf8)) }

    func codes(_ bytes: [UInt8]) -> [DiagnosticCode] {
        PolicySetValidator.validate(files: [("hostile.yaml", bytes)]).diagnostics.map(\.code)
    }

    @Test func refusesEmptyPolicyFiles() {
        for text in ["", "\n\n", "# only a comment\n# and another\n", "---\n", "---\n---\n...\n", "--- # nothing\n...\n", "~\n"] {
            #expect(codes(text) == [.emptyFile], "\(text.debugDescription)")
        }
        // A trailing marker after a real document is not an empty file.
        #expect(!codes("apiVersion: accord/v1\nkind: Taxonomy\ncategories: [user.a]\npurposes: [p]\n---\n").contains(.emptyFile))
    }

    @Test func refusesBillionLaughs() {
        var text = "apiVersion: accord/v1\nkind: Taxonomy\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in 1...9 { text += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", ") + "]\n" }
        #expect(codes(text).contains(.anchorOrAlias))
    }

    @Test func refusesAliasedKeysBeforeTheDuplicateKeyCheck() {
        // One large node aliased as two mapping keys: Yams' own duplicate-key check would compare the expansions.
        let big =
            "&big {" + (0..<2000).map { "k\($0): [\(Array(repeating: "x", count: 20).joined(separator: ","))]" }.joined(separator: ", ")
            + "}"
        let text = "apiVersion: accord/v1\nkind: Taxonomy\nm:\n  ? \(big)\n  : 1\n  ? *big\n  : 2\n"
        let found = codes(text)
        #expect(found.contains(.anchorOrAlias))
        #expect(found.contains(.complexKey))
    }

    @Test func refusesDeepNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(codes("apiVersion: accord/v1\nkind: Taxonomy\ncategories: \(deep)\n") == [.nestingTooDeep])
        var block = "apiVersion: accord/v1\nkind: Taxonomy\n"
        for depth in 0..<200 { block += String(repeating: " ", count: depth) + "k\(depth):\n" }
        #expect(codes(block) == [.nestingTooDeep])
    }

    @Test func refusesHugeFilesAndScalars() {
        let twentyMB = "apiVersion: accord/v1\nkind: Taxonomy\nx: " + String(repeating: "a", count: 20 * 1024 * 1024) + "\n"
        #expect(codes(twentyMB) == [.fileTooLarge])
        let largeScalar = "apiVersion: accord/v1\nkind: Taxonomy\nx: " + String(repeating: "a", count: 100_000) + "\n"
        #expect(codes(largeScalar) == [.scalarTooLarge])
    }

    @Test func refusesInvalidUTF8AndNulWithPosition() {
        var bytes = Array("apiVersion: accord/v1\nkind: Taxonomy\ncategories: [ab".utf8)
        bytes += [0xC3, 0x28]
        bytes += Array("]\n".utf8)
        let result = PolicySetValidator.validate(files: [("bad.yaml", bytes)])
        #expect(result.diagnostics.map(\.code) == [.invalidUTF8])
        #expect(result.diagnostics.first?.range.start == SourceLocation(line: 3, column: 16))

        let nul = Array("apiVersion: accord/v1\nkind: Tax".utf8) + [0] + Array("onomy\n".utf8)
        let nulResult = PolicySetValidator.validate(files: [("nul.yaml", nul)])
        #expect(nulResult.diagnostics.map(\.code) == [.controlCharacter])
        #expect(nulResult.diagnostics.first?.range.start == SourceLocation(line: 2, column: 10))
    }

    @Test func refusesTagsAndMergeKeys() {
        #expect(codes("apiVersion: accord/v1\nkind: !!str Taxonomy\n") == [.customTag])
        #expect(codes("apiVersion: accord/v1\nkind: Taxonomy\ncategories: !python/object [a]\n") == [.customTag])
        let merge = "apiVersion: accord/v1\nkind: Taxonomy\nbase: {a: 1}\nderived:\n  <<: {a: 1}\n  b: 2\n"
        #expect(codes(merge).contains(.mergeKey))
    }

    @Test func refusesComplexKeys() {
        #expect(codes("apiVersion: accord/v1\nkind: Taxonomy\n? [a, b]\n: 1\n").contains(.complexKey))
        #expect(codes("apiVersion: accord/v1\nkind: Taxonomy\n? {a: b}\n: 1\n").contains(.complexKey))
    }

    @Test func reportsBothPositionsOfADuplicateKey() throws {
        let result = PolicySetValidator.validate(files: [("dup.yaml", Array("apiVersion: accord/v1\nkind: Taxonomy\nkind: Policy\n".utf8))])
        let diagnostic = try #require(result.diagnostics.first)
        #expect(diagnostic.code == .duplicateKey)
        #expect(diagnostic.range.start == SourceLocation(line: 3, column: 1))
        #expect(diagnostic.notes == ["first defined at dup.yaml:2:1"])
    }

    @Test func randomBytesNeverCrash() {
        var generator = SeededGenerator(seed: 7)
        let alphabet = Array("abc:-[]{}&*!|>'\"#,? \n\t0123456789.".utf8) + [0xFF, 0xC3, 0x00]
        for _ in 0..<2_000 {
            let length = Int.random(in: 0..<200, using: &generator)
            let bytes = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
            let result = PolicySetValidator.validate(files: [("random.yaml", bytes)])
            // Whatever the bytes, the answer is a policy set or at least one located error — never neither, never both.
            #expect((result.policySet == nil) == result.hasErrors, "\(bytes)")
            for diagnostic in result.diagnostics {
                #expect(diagnostic.range.start.line >= 1 && diagnostic.range.start.column >= 1)
            }
        }
    }
}
