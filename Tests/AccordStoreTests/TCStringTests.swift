import AccordCore
import AccordTestSupport
import Foundation
import Testing

@testable import AccordStore

/// TC strings made by an independent encoder (the SirDataFR/iabtcfv2 Go library's published test vector):
/// the values below are the ones that library was given to encode.
@Suite struct TCStringTests {
    static let core = Fixtures.tcString
    static let withSegments = core + ".IDaQBQAMgAgABqAR0A2g.QF3QAgABAA1A.eEAAAAAAAUA"

    @Test func decodesTheCoreSegmentAsTheIndependentEncoderWroteIt() throws {
        let tc = try TCString(decoding: Self.withSegments)
        #expect(tc.version == 2)
        // 15859228738 and 15859228802 deciseconds since the epoch.
        #expect(tc.created.timeIntervalSince1970 == 1_585_922_873.8)
        #expect(tc.lastUpdated.timeIntervalSince1970 == 1_585_922_880.2)
        #expect(tc.cmpID == 92 && tc.cmpVersion == 1 && tc.consentScreen == 2)
        #expect(tc.consentLanguage == "EN" && tc.publisherCountry == "FR")
        #expect(tc.vendorListVersion == 32 && tc.policyVersion == 2)
        #expect(!tc.isServiceSpecific && !tc.useNonStandardTexts && !tc.purposeOneTreatment)
        #expect(tc.specialFeatureOptIns == [1, 2])
        #expect(tc.purposeConsents == [1, 2, 3, 4, 5, 6, 9, 10])
        #expect(tc.purposeLegitimateInterests == [2, 7, 8, 9, 10])
        #expect(tc.vendorConsents == [25, 32, 53, 285, 436])
        #expect(tc.vendorLegitimateInterests == [25, 32, 436])
        #expect(try TCString(decoding: Self.core) == tc, "the other segments do not change the core")
    }

    /// The same library's longer test string: a bitfield-encoded core with disclosed-vendor and publisher segments.
    @Test func decodesALongerRealWorldString() throws {
        let text =
            "COxR03kOxR1CqBcABCENAgCMAP_AAH_AAAqIF3EXySoGY2thI2YVFxBEIYwfJxyigMgChgQIsSwNQIeFLBoGLiAAHBGYJAQAGBAEEACBAQIkHGBMCQAAgAgBiRCMQEGMCzNIBIBAggEbY0FACCVmHkHSmZCY7064O__QLuIJEFQMAkSBAIACLECIQwAQDiAAAYAlAAABAhIaAAgIWBQEeAAAACAwAAgAAABBAAACAAQAAICIAAABAAAgAiAQAAAAGgIQAACBABACRIAAAEANCAAgiCEAQg4EAo4AAA.IF3EXySoGY2tho2YVFzBEIYwfJxyigMgShgQIsS0NQIeFLBoGPiAAHBGYJAQAGBAkkACBAQIsHGBMCQABgAgRiRCMQEGMDzNIBIBAggkbY0FACCVmnkHS3ZCY70-6u__QA.elAAAAAAAWA"
        let tc = try TCString(decoding: text)
        #expect(tc.version == 2 && tc.cmpID == 92)
        #expect(!tc.vendorConsents.isEmpty)
        #expect(tc.created <= tc.lastUpdated)
    }

    @Test func malformedStringsAreRefusedWithAReason() {
        func reason(_ text: String) -> String? {
            do { _ = try TCString(decoding: text); return nil } catch { return error.message }
        }
        // The same library's invalid case: it starts with a disclosed-vendors segment, not the core.
        #expect(
            reason(
                "IF3EXySoGY2tho2YVFzBEIYwfJxyigMgShgQIsS0NQIeFLBoGPiAAHBGYJAQAGBAkkACBAQIsHGBMCQABgAgRiRCMQEGMDzNIBIBAggkbY0FACCVmnkHS3ZCY70-6u__QA.elAAAAAAAWA"
            )?
            .contains("version") == true)
        #expect(reason(String(Self.core.prefix(30)))?.contains("truncated") == true)
        #expect(reason(Self.core + "!")?.contains("not a base64url character") == true)
        #expect(reason("") == "empty TC string")
        #expect(reason(Self.core + "..QF3QAgABAA1A")?.contains("segment 2 is empty") == true)
        #expect(reason(Self.core + ".AAAA")?.contains("unknown type 0") == true)
    }

    @Test func purposesMapToScopesThroughThePolicies() throws {
        guard let set = PolicySetValidator.validate(paths: [Repository.path("policies")]).policySet else {
            Issue.record("policies invalid"); return
        }
        let scopes = Array(set.scopes.values)
        let tc = try TCString(decoding: Self.core)
        #expect(tc.grantedScopes(in: scopes).map(\.id) == ["ads", "analytics", "personalization"])
        var partial = tc
        partial.purposeConsents = [1, 3, 5, 6]  // advertising profiles created but not used: no ads
        #expect(partial.grantedScopes(in: scopes).map(\.id) == ["personalization"])
    }

    @Test func aTCStringRecordedInTheStoreDecides() throws {
        let folder = try Fixtures.temporaryFolder("accord-tcf")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteConsentStore(path: folder.appendingPathComponent("accord.sqlite").path, durability: .normal)
        guard let set = PolicySetValidator.validate(paths: [Repository.path("policies")]).policySet else {
            Issue.record("policies invalid"); return
        }
        var tc = try TCString(decoding: Self.core)
        let events = try store.record(
            tc, raw: Self.core, subject: "u-1001", scopes: Array(set.scopes.values),
            at: Fixtures.asOf.addingTimeInterval(-2 * 86_400))
        #expect(
            events.allSatisfy { $0.event.occurredAt == Fixtures.asOf.addingTimeInterval(-2 * 86_400) },
            "dated when recorded, not by the string's own (client-set) dates")
        #expect(events.map(\.event.kind) == [.grant, .grant, .grant])
        #expect(events.allSatisfy { $0.event.source == .tcf && $0.event.evidence?.contains(Self.core) == true })
        #expect(events.first { $0.event.target == "personalization" }?.event.version == 3, "the scope's current version")

        // The person later refuses content personalisation in the CMP: the next string withdraws it.
        tc.purposeConsents.remove(5)
        try store.record(
            tc, raw: "second", subject: "u-1001", scopes: Array(set.scopes.values),
            at: Fixtures.asOf.addingTimeInterval(-86_400))
        let state = try store.consent(subject: "u-1001", asOf: Fixtures.asOf).state
        #expect(state.grants.map(\.scope).sorted() == ["ads", "analytics"])
    }

    /// A string that repeats the widest vendor range thousands of times decodes to the same set, its ranges
    /// merged rather than each expanded (and publisher restrictions are checked, not expanded).
    @Test func repeatedWideRangesDecodeToTheirUnion() throws {
        var bits = TestBits()
        bits.put(2, 6)  // version
        bits.put(15_859_228_738, 36); bits.put(15_859_228_802, 36)
        bits.put(92, 12); bits.put(1, 12); bits.put(2, 6)  // CMP id, version, screen
        bits.put(4, 6); bits.put(13, 6)  // language "EN"
        bits.put(32, 12); bits.put(4, 6)  // vendor list version, policy version
        bits.put(0, 1); bits.put(0, 1); bits.put(0, 12)  // service specific, non-standard texts, special features
        bits.put(1 << 23, 24); bits.put(0, 24)  // purpose 1 consented; no legitimate interests
        bits.put(0, 1); bits.put(5, 6); bits.put(17, 6)  // purpose one treatment, publisher "FR"
        bits.put(65_535, 16); bits.put(1, 1); bits.put(4_095, 12)  // vendor consents: 4,095 ranges…
        for _ in 0..<4_095 { bits.put(1, 1); bits.put(1, 16); bits.put(65_535, 16) }  // …each 1–65535
        bits.put(0, 16); bits.put(0, 1)  // vendor legitimate interests: none
        bits.put(1, 12); bits.put(1, 6); bits.put(1, 2)  // one restriction, purpose 1, type 1…
        bits.put(4_095, 12)
        for _ in 0..<4_095 { bits.put(1, 1); bits.put(1, 16); bits.put(65_535, 16) }
        let tc = try TCString(decoding: bits.base64url)
        #expect(tc.vendorConsents.count == 65_535)
        #expect(tc.purposeConsents == [1])
        #expect(tc.consentLanguage == "EN" && tc.publisherCountry == "FR")
    }
}

/// Writes bits for test strings (the decoder's own writer would prove nothing; this one is the spec's layout
/// written out by hand).
struct TestBits {
    private var bits: [Bool] = []

    mutating func put(_ value: Int, _ width: Int) {
        for i in stride(from: width - 1, through: 0, by: -1) { bits.append((value >> i) & 1 == 1) }
    }

    var base64url: String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var padded = bits
        while padded.count % 6 != 0 { padded.append(false) }
        return String(
            stride(from: 0, to: padded.count, by: 6).map { i in
                alphabet[padded[i..<i + 6].reduce(0) { $0 << 1 | ($1 ? 1 : 0) }]
            })
    }
}
