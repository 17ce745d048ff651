import AccordCore
import AccordTestSupport
import Foundation
import Testing

/// The strict JSON reader requests are read with (the server's bodies, `accord eval`).
@Suite struct JSONReaderTests {
    private func read(_ text: String) throws(JSONReader.Failure) -> JSONValue {
        try JSONReader.parse(Array(text.utf8))
    }

    private func failure(_ bytes: [UInt8]) -> JSONReader.Failure? {
        do {
            _ = try JSONReader.parse(bytes)
            return nil
        } catch {
            return error
        }
    }

    private func failure(_ text: String) -> JSONReader.Failure? { failure(Array(text.utf8)) }

    @Test func readsValuesInOrderWithIntegersApartFromDoubles() throws {
        let value = try read(#" {"b": [1, -2, 3.5, 1e3, 0, -0.25], "a": {"t": true, "f": false, "n": null}, "s": "x"} "#)
        #expect(value.objectValue?.map(\.0) == ["b", "a", "s"], "keys keep their order")
        #expect(value["b"] == .array([.int(1), .int(-2), .double(3.5), .double(1000), .int(0), .double(-0.25)]))
        #expect(value["a"]?["t"]?.boolValue == true && value["a"]?["f"]?.boolValue == false && value["a"]?["n"]?.isNull == true)
        #expect(value["s"]?.stringValue == "x")
        #expect(JSONValue.double(34.0).intValue == 34 && JSONValue.double(34.5).intValue == nil, "a whole double is a whole number")
    }

    @Test func decodesEscapesIncludingSurrogatePairs() throws {
        let value = try read(#"["a\"b\\c\/d\n\t\r\b\f", "\u00e9t\u00C9", "\ud83d\ude00", "caf\u00e9 é 😀"]"#)
        #expect(value.arrayValue?.compactMap(\.stringValue) == ["a\"b\\c/d\n\t\r\u{08}\u{0C}", "étÉ", "😀", "café é 😀"])
    }

    @Test func writesWhatItReadsBack() throws {
        let original = JSONValue.object([
            ("quote\"", .string("line\nbreak \u{01} tab\t é 😀 \\")), ("n", .array([.int(-7), .double(2.5), .null, .bool(true)])),
        ])
        #expect(try JSONReader.parse(original.serializedBytes()) == original)
        #expect(original.serialized() == #"{"quote\"":"line\nbreak \u0001 tab\t é 😀 \\","n":[-7,2.5,null,true]}"#)
    }

    @Test func refusesRepeatedKeysWithTheirPathAndPlace() throws {
        let nested = failure("{\"subject\": {\"id\": \"u\",\n  \"age\": 12, \"age\": 30}}")
        #expect(nested?.kind == .duplicateKey("age"))
        #expect(nested?.path == "subject")
        #expect(nested?.line == 2 && nested?.column == 14)
        // Spelled differently, the same key: still one key said twice.
        #expect(failure(#"{"feature": "a", "f\u0065ature": "b"}"#)?.kind == .duplicateKey("feature"))
        // Many keys (the reader switches to a set) and a repeat in a list's object.
        let many = "{" + (0..<20).map { "\"k\($0)\": \($0)" }.joined(separator: ", ") + ", \"k3\": 0}"
        #expect(failure(many)?.kind == .duplicateKey("k3"))
        #expect(failure(#"{"resources": [{"a": 1}, {"a": 1, "a": 2}]}"#)?.path == "resources[1]")
        // A path's keys are read again from the body when an error names them: escapes included, at any depth.
        #expect(failure(#"{"sub\u006aect": {"a": 1, "a": 2}}"#)?.path == "subject")
        #expect(failure(#"{"a": {"b\"q": [0, {"c": tru}]}}"#)?.path == #"a.b"q[1].c"#)
        #expect(try read(#"[{"a": 1}, {"a": 2}]"#).arrayValue?.count == 2, "the same key in two objects is fine")
    }

    @Test(arguments: [
        ("", "unexpected end of input"),
        ("{\"a\": 1,}", "a key"),
        ("[1, 2,]", "a value was expected"),
        ("{\"a\" 1}", "':' was expected"),
        ("[01]", "do not start with 0"),
        ("[1.]", "after '.'"),
        ("[1e]", "exponent"),
        ("[NaN]", "unexpected character 'N'"),
        ("[1e999]", "out of range"),
        ("// note\n{}", "unexpected character '/'"),
        ("{} {}", "after the JSON value"),
        ("[\"a\u{01}\"]", "control character"),
        ("[\"\\ud83d\"]", "half a surrogate pair"),
        ("[\"\\ude00x\"]", "half a surrogate pair"),
        ("[\"\\ud83d\\u0041\"]", "half a surrogate pair"),
        ("[\"\\x\"]", "unknown escape"),
        ("[\"\\u12\"]", "four hex digits"),
        ("[\"abc", "inside a string"),
        ("[tru]", "a value was expected"),
    ])
    func refusesWhatIsNotStrictJSON(_ text: String, _ expected: String) {
        let problem = failure(text)
        #expect(problem?.kind == .syntax, "\(text)")
        #expect(problem?.message.contains(expected) == true, "\(text): \(problem?.message ?? "accepted")")
    }

    @Test func refusesBytesThatAreNotUTF8() {
        #expect(failure([UInt8]("[\"a".utf8) + [0xC3, 0x28] + [UInt8]("\"]".utf8))?.message.contains("not valid UTF-8") == true)
        #expect(
            failure([UInt8]("[\"\\n".utf8) + [0xFF] + [UInt8]("\"]".utf8))?.message.contains("not valid UTF-8") == true,
            "after an escape too")
        #expect(failure([0xEF, 0xBB, 0xBF] + Array("{}".utf8)) != nil, "a byte order mark is not JSON")
    }

    @Test func refusesNestingDeeperThanTheLimit() throws {
        let limit = JSONReader.maximumDepth
        #expect(try read(String(repeating: "[", count: limit) + String(repeating: "]", count: limit)).arrayValue != nil)
        let deep = failure(String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1))
        #expect(deep?.kind == .tooDeep)
        // Far deeper than any stack would survive by recursion: refused, not a crash.
        #expect(failure(String(repeating: "{\"a\":", count: 100_000))?.kind == .tooDeep)
    }

    @Test func columnsCountCharactersNotBytes() {
        let problem = failure("{\"é😀\": 1,\n \"x\" 2}")
        #expect(problem?.line == 2 && problem?.column == 6)
        let first = failure("[\"é\", x]")
        #expect(first?.line == 1 && first?.column == 7)
    }
}

/// Requests read through it keep docs/requests.md's reading rules.
@Suite struct RequestReadingTests {
    private func problem(_ json: String) -> String? {
        do {
            _ = try DecisionRequest.decode(json: Data(json.utf8))
            return nil
        } catch {
            return error.description
        }
    }

    private let base = #""actor":{"id":"a"},"subject":{"id":"u","age":30},"purpose":"p","action":"train""#

    @Test func nullIsAbsentExceptForTheTwoListsThatMustBeLists() throws {
        #expect(problem("{\(base),\"resources\":null}") == "resources: must be a list")
        #expect(problem("{\(base),\"resources\":[\"f\"],\"consent\":{\"grants\":null}}") == "consent.grants: must be a list")
        #expect(problem("{\(base),\"resources\":[\"f\"],\"context\":null,\"consent\":{\"objections\":null}}") == nil)
        #expect(problem(#"{"actor":{"id":"a"},"subject":null,"purpose":"p","action":"train","resources":["f"]}"#) == "subject: required")
    }

    @Test func wholeNumbersAndTypesAreChecked() throws {
        let decoded = try DecisionRequest.decode(
            json: Data("{\(base.replacingOccurrences(of: "30", with: "30.0")),\"resources\":[\"f\"]}".utf8))
        #expect(decoded.subject.age == 30)
        #expect(
            problem("{\(base.replacingOccurrences(of: "30", with: "30.5")),\"resources\":[\"f\"]}") == "subject.age: must be a whole number"
        )
        #expect(
            problem("{\(base.replacingOccurrences(of: "30", with: "\"30\"")),\"resources\":[\"f\"]}")
                == "subject.age: must be a whole number")
        #expect(problem("{\(base),\"resources\":[\"f\"],\"context\":{\"gpc\":1}}") == "context.gpc: must be true or false")
        #expect(
            problem("{\(base),\"resources\":[\"f\"],\"consent\":{\"objections\":[\"x\",2]}}")
                == "consent.objections: must be a list of strings")
        #expect(problem("{\(base),\"resources\":[\"f\"],\"subjet\":{}}") == "subjet: unknown field (did you mean 'subject'?)")
        #expect(problem("{\(base),\"resources\":[\"f\"]") == "invalid JSON: 1:99: unexpected end of input; ',' or '}' was expected")
    }
}
