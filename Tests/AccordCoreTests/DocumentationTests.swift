import AccordCore
import AccordTestSupport
import Foundation
import Testing

/// The catalogs users read must list every code the engine can produce.
@Suite struct DocumentationTests {
    @Test func everyDiagnosticCodeIsDocumented() throws {
        let text = try String(contentsOfFile: Repository.path("docs/diagnostics.md"), encoding: .utf8)
        for code in DiagnosticCode.allCases {
            #expect(text.contains("| \(code.rawValue) |"), "docs/diagnostics.md does not list \(code.rawValue)")
        }
    }

    @Test func everyReasonCodeIsDocumented() throws {
        let text = try String(contentsOfFile: Repository.path("docs/decisions.md"), encoding: .utf8)
        for code in ReasonCode.allCases {
            #expect(text.contains("`\(code.rawValue)`"), "docs/decisions.md does not list \(code.rawValue)")
        }
    }
}
