import AccordCore
import AccordTestSupport
import Foundation
import Testing

/// Cases a review found, kept so they stay fixed.
@Suite struct ReviewFindingsTests {
    func plan(_ yaml: String) throws -> DecisionPlan {
        let result = PolicySetValidator.validate(files: [("p.yaml", Array(yaml.utf8))])
        return DecisionPlan.compile(try #require(result.policySet, "\(result.diagnostics)"))
    }

    static let asOf = Timestamps.parse("2026-06-01T00:00:00Z")!

    /// More than 16 consent scopes and a request with no grants at all: decided, not a crash.
    @Test func manyScopesWithoutGrantsAreDeniedNotCrashed() throws {
        var yaml = "apiVersion: accord/v1\nkind: Taxonomy\ncategories: [user.a, {name: user.h, sensitive: true}]\npurposes: [ads]\n"
        yaml += "---\napiVersion: accord/v1\nkind: ConsentScopes\nscopes:\n"
        for i in 1...20 { yaml += "  - { id: s\(i), purposes: [ads], explicit_categories: [user.h] }\n" }
        yaml +=
            "---\napiVersion: accord/v1\nkind: Jurisdiction\nid: EU\nfallback: true\nlegal_bases: [{ purposes: [ads], basis: consent, scopes: [s20] }]\n"
        yaml +=
            "---\napiVersion: accord/v1\nkind: Policy\nmetadata: { name: p }\nrules: [{ id: r, effect: permit, purposes: [ads], categories: [user] }]\n"
        let plan = try plan(yaml)
        let request = DecisionRequest(
            actor: Actor(id: "a"), subject: Subject(id: "s", age: 30, jurisdiction: "EU"), purpose: "ads",
            action: "read_online", resources: [ResourceReference(category: "user.a"), ResourceReference(category: "user.h")])
        let decision = plan.evaluate(request, asOf: Self.asOf)
        #expect(decision.effect == .deny)
        #expect(Set(decision.resources[0].reasons.map(\.code)) == [.consentMissing])
        #expect(Set(decision.resources[1].reasons.map(\.code)) == [.consentMissing, .consentExplicitRequired])

        var granted = request
        granted.consent = ConsentState(grants: [ConsentGrant(scope: "s20", version: 1, grantedAt: Self.asOf.addingTimeInterval(-86_400))])
        let permitted = plan.evaluate(granted, asOf: Self.asOf)
        #expect(permitted.resources.map(\.effect) == [.permit, .permit])
    }

    /// A key given twice in a request is refused, not resolved silently one way or the other.
    @Test func duplicateRequestKeysAreRefused() {
        let json = #"{"actor":{"id":"a"},"subject":{"id":"u","age":12,"age":30},"purpose":"p","action":"train","resources":["f"]}"#
        do {
            _ = try DecisionRequest.decode(json: Data(json.utf8))
            Issue.record("accepted a duplicate key")
        } catch {
            #expect(error.description == "subject.age: duplicate key; a request must say each thing once")
        }
        let escaped =
            #"{"actor":{"id":"a"},"subject":{"id":"u"},"purpose":"p","action":"train","resources":[{"feature":"a","f\u0065ature":"b"}]}"#
        #expect(throws: RequestError.self) { try DecisionRequest.decode(json: Data(escaped.utf8)) }
        let distinct =
            #"{"actor":{"id":"a"},"subject":{"id":"u"},"purpose":"p","action":"train","resources":[{"feature":"a"},{"feature":"b"}]}"#
        #expect(throws: Never.self) { try DecisionRequest.decode(json: Data(distinct.utf8)) }
    }

    /// Characters YAML may read as line breaks are refused, so nothing hides behind what looks like a comment.
    @Test(arguments: [[0xE2, 0x80, 0xA8] as [UInt8], [0xE2, 0x80, 0xA9], [0xC2, 0x85], [0x0D]])
    func lineBreakLookalikesAreRefused(_ bytes: [UInt8]) throws {
        let text = Array("apiVersion: accord/v1\nkind: Taxonomy\ncategories: [a]  # reviewed".utf8) + bytes + Array("purposes: [b]\n".utf8)
        let result = PolicySetValidator.validate(files: [("p.yaml", text)])
        let diagnostic = try #require(result.diagnostics.first)
        #expect(diagnostic.code == .controlCharacter)
        #expect(diagnostic.range.start == SourceLocation(line: 3, column: 28))
    }

    /// A folder with no policy files is an error, not an empty valid set.
    @Test func emptyFolderIsAnError() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("accord-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("not policies".utf8).write(to: directory.appendingPathComponent("notes.txt"))
        try Data("apiVersion: accord/v1\nkind: Taxonomy\ncategories: [a]\n".utf8).write(to: directory.appendingPathComponent("UPPER.YAML"))
        let result = PolicySetValidator.validate(paths: [directory.path])
        #expect(result.policySet?.categories["a"] != nil, "an upper-case .YAML file is a policy file too")
        try FileManager.default.removeItem(at: directory.appendingPathComponent("UPPER.YAML"))
        let empty = PolicySetValidator.validate(paths: [directory.path])
        #expect(empty.policySet == nil)
        #expect(empty.diagnostics.map(\.code) == [.unreadableFile])
    }
}
