import AccordCore
import AccordTestSupport
import Foundation
import Testing

/// Text echoed from policy files cannot inject into a terminal or a CI log: control characters are escaped,
/// long lines cut around the caret, GitHub workflow commands escaped as GitHub requires.
@Suite struct DiagnosticEscapingTests {
    static let hostile = """
        apiVersion: accord/v1
        kind: Policy
        metadata: { name: "evil\\e[31mred\\a" }
        rules:
          - id: "bad\\r\\n::warning file=x,line=1::pwned\\e[2J"
            effect: permit
            purposes: ["ads.targetting\\e]0;title\\a"]
            actions: [read_online]
            categories: [user.behavior]

        """

    func folder(with files: [String: String]) throws -> URL {
        // Beside the reference policies, so that only the file under test is wrong.
        let folder = try Fixtures.temporaryFolder("accord-escaping")
        for name in try FileManager.default.contentsOfDirectory(atPath: Repository.path("policies")) where name.hasSuffix(".yaml") {
            try FileManager.default.copyItem(
                atPath: Repository.path("policies") + "/" + name, toPath: folder.appendingPathComponent(name).path)
        }
        for (name, text) in files { try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return folder
    }

    @Test func controlCharactersFromPoliciesAreEscapedInText() throws {
        let folder = try folder(with: ["evil.yaml": Self.hostile])
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try runAccord(["validate", folder.path])
        #expect(result.status == 1)
        let controls = (result.stdout + result.stderr).unicodeScalars.filter {
            $0.value < 0x20 && $0 != "\n" || (0x7F...0x9F).contains($0.value)
        }
        #expect(controls.isEmpty, "raw control characters in the output: \(controls.map(\.value))")
        #expect(result.stdout.contains(#"invalid rule id 'bad\u{D}\u{A}::warning file=x,line=1::pwned\u{1B}[2J'"#), "\(result.stdout)")
        #expect(result.stdout.contains(#"invalid name 'evil\u{1B}[31mred\u{7}'"#))
    }

    @Test func githubAnnotationsCannotBeForged() throws {
        let folder = try folder(with: ["evil.yaml": Self.hostile])
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try runAccord(["validate", "--format", "github", folder.path])
        // Annotations are the lines that start with '::' (the text form follows them for people reading the log).
        let commands = result.stdout.split(separator: "\n").filter { $0.hasPrefix("::") }
        #expect(commands.count == 3 && commands.allSatisfy { $0.hasPrefix("::error file=") }, "\(result.stdout)")
        #expect(!result.stdout.contains("\n::warning"), "the rule id's '::warning' became a second annotation")
        #expect(result.stdout.contains("bad%0D%0A::warning"))
        #expect(!result.stdout.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
    }

    @Test func longLinesAreCutAroundTheCaret() throws {
        let padding = Array(repeating: "analytics.product", count: 60).joined(separator: ", ")
        let policy = """
            apiVersion: accord/v1
            kind: Policy
            metadata: { name: long }
            rules:
              - id: long-line
                effect: permit
                purposes: [\(padding), ads.targetting, \(padding)]
                actions: [read_online]
                categories: [user.behavior]

            """
        let folder = try folder(with: ["long.yaml": policy])
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try runAccord(["validate", folder.path])
        let lines = result.stdout.split(separator: "\n").map { String($0) }
        let source = try #require(lines.first { $0.hasPrefix(" 7 | ") })
        let caret = try #require(lines.first { $0.hasPrefix("   | ") && $0.contains("^") })
        #expect(source.count <= 5 + DiagnosticRenderer.maximumLineWidth + 2, "\(source.count) columns")
        #expect(source.hasPrefix(" 7 | …") && source.hasSuffix("…"))
        let start = caret.distance(from: caret.startIndex, to: caret.firstIndex(of: "^")!)
        let marked = String(source.dropFirst(start).prefix(caret.filter { $0 == "^" }.count))
        #expect(marked == "ads.targetting", "the caret marks '\(marked)'")
    }
}
