import AccordTestSupport
import Foundation
import Testing

@testable import AccordCore

@Suite struct ConditionTests {
    func read(_ text: String) -> Result<Condition, Diagnostic> {
        Condition.read(text, at: SourceRange(file: "t.yaml", line: 3, column: 11), singleLine: true, columnOffset: 0)
    }

    static let noEntities = EntitySource(set: PolicySet())

    func evaluate(_ text: String, age: Int? = 30, region: String? = "EU", roles: [String] = ["service"], dataAge: Int64? = 86_400) throws
        -> ConditionValue
    {
        let condition = try read(text).get()
        let request = DecisionRequest(
            actor: Actor(id: "a", roles: roles), subject: Subject(id: "s", age: age, jurisdiction: "EU"),
            purpose: "ads.targeting", action: "read_online", resources: [],
            context: RequestContext(processingRegion: region, gpc: true))
        let input = ConditionInput(
            jurisdiction: "EU", feature: "clicks", category: "user.behavior.clicks",
            entity: "user", region: "EU", ageSeconds: dataAge, now: 1_780_000_000, entities: Self.noEntities)
        return condition.compiled.evaluate(input, request, ResourceReference(feature: "clicks"))
    }

    @Test func evaluatesComparisonsAndLogic() throws {
        #expect(try evaluate("subject.age >= 18 && context.processing_region in [\"EU\", \"UK\"]") == .bool(true))
        #expect(try evaluate("subject.age >= 18 && context.processing_region in [\"EU\", \"UK\"]", age: 17) == .bool(false))
        #expect(try evaluate("!(subject.age < 18) || false") == .bool(true))
        #expect(try evaluate("\"service\" in actor.roles && context.gpc") == .bool(true))
        #expect(try evaluate("resource.age < 30d && resource.age >= duration(\"1d\")") == .bool(true))
        #expect(try evaluate("within(context.purpose, \"ads\") && !within(resource.category, \"user.health\")") == .bool(true))
        #expect(try evaluate("starts_with(resource.feature, \"cl\") && size(actor.roles) == 1") == .bool(true))
        #expect(try evaluate("subject.age > 29.5") == .bool(true))
    }

    @Test func absentAttributesAreErrorsThatLogicCanShortCircuit() throws {
        #expect(try evaluate("subject.age >= 18", age: nil) == .error)
        #expect(try evaluate("has(subject.age) && subject.age >= 18", age: nil) == .bool(false))
        #expect(try evaluate("false && subject.age >= 18", age: nil) == .bool(false))
        #expect(try evaluate("subject.age >= 18 || true", age: nil) == .bool(true))
        #expect(try evaluate("!(subject.age >= 18)", age: nil) == .error)
        #expect(try evaluate("context.processing_region == \"EU\"", region: nil) == .error)
    }

    @Test func locatesSyntaxErrorsInsideTheCondition() throws {
        guard case .failure(let diagnostic) = read("subject.age >= 18 and true") else { Issue.record("accepted"); return }
        #expect(diagnostic.code == .conditionSyntax)
        #expect(diagnostic.range.start == SourceLocation(line: 3, column: 29))
        #expect(diagnostic.help == "use '&&', '||' and '!'")
    }

    @Test(arguments: [
        ("subject.agee > 1", DiagnosticCode.conditionUnknownAttribute),
        ("subjct.age > 1", .conditionUnknownAttribute),
        ("subject.age == \"18\"", .conditionType),
        ("subject.age", .conditionNotBoolean),
        ("sizee(actor.roles) > 1", .conditionFunction),
        ("has(1)", .conditionType),
        ("subject.age = 1", .conditionSyntax),
        ("\"unterminated", .conditionSyntax),
        ("1 < 2 < 3", .conditionSyntax),
        ("resource.age < 30", .conditionType),
        ("resource.age < 30x", .malformedDuration),
        ("duration(\"30\") > resource.age", .durationWithoutUnit),
        ("", .conditionSyntax),
        ("subject.id in [1, \"a\"]", .conditionType),
    ])
    func refusesBadConditions(_ text: String, _ code: DiagnosticCode) {
        guard case .failure(let diagnostic) = read(text) else { Issue.record("accepted '\(text)'"); return }
        #expect(diagnostic.code == code, "\(text): \(diagnostic.message)")
    }

    @Test(arguments: [
        ("context.environment == production", "to compare with text, quote it: \"production\""),
        ("subject.age => 18", "did you mean '>='?"),
        ("resource.age > 30", "write the number with a unit, e.g. 30d"),
        ("subject.age >= 18 and true", "use '&&', '||' and '!'"),
        ("not has(subject.age)", "use '&&', '||' and '!'"),
    ])
    func helpsWithCommonMistakes(_ text: String, _ help: String) {
        guard case .failure(let diagnostic) = read(text) else { Issue.record("accepted '\(text)'"); return }
        #expect(diagnostic.help == help)
    }

    @Test func negativeNumbersAreLiteralsInLists() throws {
        #expect(try evaluate("subject.age in [-1, 30]") == .bool(true))
    }

    @Test func refusesDeeplyNestedConditions() {
        let text = String(repeating: "(", count: 100) + "true" + String(repeating: ")", count: 100)
        guard case .failure(let diagnostic) = read(text) else { Issue.record("accepted"); return }
        #expect(diagnostic.code == .conditionTooComplex)
    }
}

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2026-06-01T00:00:00Z", 1_780_272_000.0),
        ("2026-06-01T02:30:00+02:30", 1_780_272_000.0),
        ("2024-02-29T23:59:59.5Z", 1_709_251_199.5),
        ("1970-01-01T00:00:00Z", 0.0),
        ("2000-03-01T00:00:00-05:00", 951_886_800.0),
    ])
    func parsesRFC3339(_ text: String, _ seconds: Double) throws {
        let date = try #require(Timestamps.parse(text))
        #expect(date.timeIntervalSince1970 == seconds)
    }

    @Test(arguments: [
        "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z", "2026-06-01T24:00:00Z", "2026-13-01T00:00:00Z",
        "99999-01-01T00:00:00Z", "2026-06-01 00:00:00Z", "2026-06-01T00:00:00", "2026-06-01T00:00:60Z",
        "2026-06-01T00:00:00.Z", "2026-06-01T00:00:00+0200", "yesterday", "",
    ])
    func refusesWhatIsNotAnInstant(_ text: String) {
        #expect(Timestamps.parse(text) == nil)
    }
}

@Suite struct TimestampFormatTests {
    @Test(arguments: [
        "2026-06-01T00:00:00Z", "1970-01-01T00:00:00Z", "2024-02-29T23:59:59Z", "2000-12-31T12:34:56Z", "1969-12-31T23:59:59Z",
        "0999-03-01T01:02:03Z", "9999-12-31T23:59:59Z",
    ])
    func formatsWhatItParses(_ text: String) throws {
        #expect(Timestamps.format(try #require(Timestamps.parse(text))) == text)
    }

    @Test func roundsDownToTheSecond() {
        #expect(Timestamps.format(Date(timeIntervalSince1970: 1.9)) == "1970-01-01T00:00:01Z")
    }
}
