import AccordTestSupport
import Foundation
import Testing

@testable import AccordCore

/// `DecisionRequest.decodeCommon(json:)` reads the common request shape straight from its bytes and leaves the
/// rest to the strict path. It must never accept a body the strict path refuses, and what it accepts must be the
/// strict path's request exactly — on well-formed bodies of every variation it knows and on damaged ones.
@Suite struct DecisionRequestCommonJSONTests {
    /// The strict path alone (`decode(json:)` itself now tries the common shape first).
    private func strict(_ bytes: [UInt8]) -> DecisionRequest? {
        guard let value = try? JSONReader.parse(bytes) else { return nil }
        return try? DecisionRequest.decode(value: value)
    }

    private struct Body {
        var text: String
        /// Whether the body stays within the common shape (so the reader should take it).
        var common: Bool
    }

    /// A random request body: mostly the common shape, sometimes with what only the strict path reads (roles,
    /// consent, entity resources, escapes, non-ASCII text, null, a fractional age) or what it refuses (an age out
    /// of range, a bad timestamp, an unknown key), with the keys in any order and any whitespace.
    private func body(_ random: inout SeededGenerator) -> Body {
        var common = true
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }
        func space() -> String { chance(15) ? pick([" ", "\n", "\t ", "\r\n  "]) : "" }
        func text() -> String {
            if chance(4) {
                common = false
                return pick(["caf\\u00e9", "Zo\u{00EB}", "a\\\"b", "x\\\\y", "tab\\tbed", "\u{1F600}"])
            }
            return pick([
                "u-1", "recsys-online", "EU", "US", "BR", "personalization.recommendations", "", "0", "a b", "x/y:z", "50%25 off",
                "%2F..%2F",
            ])
        }
        func quoted(_ value: String) -> String { "\"\(value)\"" }
        func object(_ members: [(String, String)]) -> String {
            var members = members
            for i in members.indices.reversed() {
                let j = Int(random.next() % UInt64(i + 1))
                members.swapAt(i, j)
            }
            if chance(3), let first = members.first {
                common = false
                members.append(first)  // a repeated key: the strict path refuses it
            }
            return "{" + space() + members.map { "\(space())\(quoted($0.0))\(space()):\(space())\($0.1)" }.joined(separator: ",") + space()
                + "}"
        }
        var actor: [(String, String)] = [("id", quoted(text()))]
        if chance(3) {
            common = false
            actor.append(("roles", "[\"analyst\"]"))
        }
        var subject: [(String, String)] = [("id", quoted(text()))]
        if chance(70) {
            let good = ["0", "7", "16", "34", "150"]
            let age = chance(85) ? pick(good) : pick(["151", "999", "34.0", "-1", "007", "1e2", "null"])
            if !good.contains(age) { common = false }
            subject.append(("age", age))
        }
        if chance(70) { subject.append(("jurisdiction", quoted(text()))) }
        if chance(3) {
            common = false
            subject.append(("properties", "{\"tier\":\"gold\"}"))
        }
        var resources: [String] = []
        for _ in 0..<(1 + Int(random.next() % 4)) {
            if chance(30) {
                resources.append(quoted(pick(["clicks_7d", "city", "age_years"])))
                continue
            }
            var resource: [(String, String)] = []
            if chance(85) { resource.append(("feature", quoted(pick(["clicks_7d", "city", "heart_rate_avg"])))) }
            if chance(20) || resource.isEmpty { resource.append(("category", quoted(pick(["user.behavior", "user.health"])))) }
            if chance(70) {
                let stamp =
                    chance(90)
                    ? pick(["2026-05-20T10:00:00Z", "2026-05-20T10:00:00.123Z", "2026-05-20T12:00:00+02:00"])
                    : pick(["yesterday", "2026-13-01T00:00:00Z"])
                if Timestamps.parse(stamp) == nil { common = false }
                resource.append(("collected_at", quoted(stamp)))
            }
            if chance(3) {
                common = false
                resource = [("type", quoted("document")), ("id", quoted("d-1"))]
            }
            resources.append(object(resource))
        }
        var root: [(String, String)] = [
            ("actor", object(actor)), ("subject", object(subject)), ("purpose", quoted(text())),
            ("action", quoted(pick(["read_online", "train"]))),
            ("resources", "[" + resources.joined(separator: "," + space()) + "]"),
        ]
        if chance(50) {
            var context: [(String, String)] = []
            if chance(80) { context.append(("processing_region", quoted(pick(["EU", "US"])))) }
            if chance(30) { context.append(("gpc", pick(["true", "false"]))) }
            if chance(20) { context.append(("environment", quoted("prod"))) }
            root.append(("context", object(context)))
        }
        if chance(20) { root.append(("id", quoted(text()))) }
        if chance(4) {
            common = false
            root.append(("consent", "{\"grants\":[{\"scope\":\"personalization\",\"granted_at\":\"2026-01-01T00:00:00Z\"}]}"))
        }
        if chance(2) {
            common = false
            root.append(("bogus", "1"))
        }
        if chance(2) {
            common = false
            root.removeAll { $0.0 == "purpose" }
        }
        return Body(text: space() + object(root) + space(), common: common)
    }

    @Test func acceptsOnlyWhatTheStrictPathReadsAlike() {
        var random = SeededGenerator(seed: 2026)
        var commonBodies = 0, taken = 0, strictOnly = 0, refusedByBoth = 0, damaged = 0, damagedTaken = 0
        for _ in 0..<6_000 {
            let body = body(&random)
            let bytes = Array(body.text.utf8)
            let fast = DecisionRequest.decodeCommon(json: bytes)
            let slow = strict(bytes)
            if let fast {
                #expect(slow == fast, "\(body.text)")
                taken += 1
            } else if slow != nil {
                strictOnly += 1
            } else {
                refusedByBoth += 1
            }
            if body.common {
                commonBodies += 1
                #expect(fast != nil, "a common body left to the strict path: \(body.text)")
            }
            // Damaged copies: a byte removed, changed or doubled, or the body cut short.
            for _ in 0..<4 {
                var copy = bytes
                let at = Int(random.next() % UInt64(copy.count))
                switch random.next() % 4 {
                case 0: copy.remove(at: at)
                case 1: copy[at] = UInt8(truncatingIfNeeded: random.next())
                case 2: copy.insert(copy[at], at: at)
                default: copy.removeSubrange(at...)
                }
                damaged += 1
                if let fast = DecisionRequest.decodeCommon(json: copy) {
                    damagedTaken += 1
                    #expect(strict(copy) == fast, "\(String(decoding: copy, as: UTF8.self))")
                }
            }
        }
        // Both ways must have been exercised, or agreement means little.
        #expect(commonBodies > 2_000 && taken >= commonBodies, "common \(commonBodies), taken \(taken)")
        #expect(strictOnly > 100, "bodies only the strict path reads: \(strictOnly)")
        #expect(refusedByBoth > 100, "bodies both refuse: \(refusedByBoth)")
        #expect(damagedTaken > 500 && damagedTaken < damaged, "damaged bodies taken: \(damagedTaken) of \(damaged)")
    }

    @Test func batchesAreAllCommonOrLeftWhole() throws {
        var random = SeededGenerator(seed: 7)
        var taken = 0
        for _ in 0..<500 {
            let bodies = (0..<(1 + Int(random.next() % 5))).map { _ in body(&random) }
            let text = "{\"requests\": [" + bodies.map(\.text).joined(separator: ",") + "]}"
            let batch = DecisionRequest.decodeCommonBatch(json: Array(text.utf8))
            if bodies.allSatisfy(\.common) {
                let requests = try #require(batch, "\(text)")
                #expect(requests == bodies.map { strict(Array($0.text.utf8)) }, "\(text)")
                taken += 1
            } else {
                // One body the common reader would not take sends the whole batch to the strict path.
                #expect(batch == nil || batch! == bodies.map { strict(Array($0.text.utf8))! }, "\(text)")
            }
        }
        #expect(taken > 50, "batches taken: \(taken)")
        #expect(DecisionRequest.decodeCommonBatch(json: Array("{\"requests\": []}".utf8)) == [])
        for refused in ["{\"requests\": [], \"extra\": 1}", "{\"requests\": {}}", "[]", "{\"requests\": [1]}", "{\"requests\": []} x"] {
            #expect(DecisionRequest.decodeCommonBatch(json: Array(refused.utf8)) == nil, "\(refused)")
        }
    }
}
