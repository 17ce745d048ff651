import AccordCore
@testable import AccordStore
import Foundation
import Testing

/// TC strings made by an independent encoder (the SirDataFR/iabtcfv2 Go library's published test vector):
/// the values below are the ones that library was given to encode.
@Suite struct TCStringTests {
    static let core = "COxSKBCOxSKCCBcABCENAgCMAPzAAEPAAAqIDaQBQAMgAgABqAR0A2gDaQAwAMgAgANoAAA"
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
        let text = "COxR03kOxR1CqBcABCENAgCMAP_AAH_AAAqIF3EXySoGY2thI2YVFxBEIYwfJxyigMgChgQIsSwNQIeFLBoGLiAAHBGYJAQAGBAEEACBAQIkHGBMCQAAgAgBiRCMQEGMCzNIBIBAggEbY0FACCVmHkHSmZCY7064O__QLuIJEFQMAkSBAIACLECIQwAQDiAAAYAlAAABAhIaAAgIWBQEeAAAACAwAAgAAABBAAACAAQAAICIAAABAAAgAiAQAAAAGgIQAACBABACRIAAAEANCAAgiCEAQg4EAo4AAA.IF3EXySoGY2tho2YVFzBEIYwfJxyigMgShgQIsS0NQIeFLBoGPiAAHBGYJAQAGBAkkACBAQIsHGBMCQABgAgRiRCMQEGMDzNIBIBAggkbY0FACCVmnkHS3ZCY70-6u__QA.elAAAAAAAWA"
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
        #expect(reason("IF3EXySoGY2tho2YVFzBEIYwfJxyigMgShgQIsS0NQIeFLBoGPiAAHBGYJAQAGBAkkACBAQIsHGBMCQABgAgRiRCMQEGMDzNIBIBAggkbY0FACCVmnkHS3ZCY70-6u__QA.elAAAAAAAWA")?
            .contains("version") == true)
        #expect(reason(String(Self.core.prefix(30)))?.contains("truncated") == true)
        #expect(reason(Self.core + "!")?.contains("not a base64url character") == true)
        #expect(reason("") == "empty TC string")
        #expect(reason(Self.core + "..QF3QAgABAA1A")?.contains("segment 2 is empty") == true)
        #expect(reason(Self.core + ".AAAA")?.contains("unknown type 0") == true)
    }

    @Test func purposesMapToScopesThroughThePolicies() throws {
        guard let set = PolicySetValidator.validate(paths: [Repository.path("policies")]).policySet else { Issue.record("policies invalid"); return }
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
        let store = try ConsentStore(path: folder.appendingPathComponent("accord.sqlite").path, durability: .normal)
        guard let set = PolicySetValidator.validate(paths: [Repository.path("policies")]).policySet else { Issue.record("policies invalid"); return }
        var tc = try TCString(decoding: Self.core)
        let events = try store.record(tc, raw: Self.core, subject: "u-1001", scopes: Array(set.scopes.values))
        #expect(events.map(\.event.kind) == [.grant, .grant, .grant])
        #expect(events.allSatisfy { $0.event.source == .tcf && $0.event.evidence?.contains(Self.core) == true })
        #expect(events.first { $0.event.target == "personalization" }?.event.version == 3, "the scope's current version")

        // The person later refuses content personalisation in the CMP: the next string withdraws it.
        tc.purposeConsents.remove(5)
        tc.lastUpdated = tc.lastUpdated.addingTimeInterval(86_400)
        try store.record(tc, raw: "second", subject: "u-1001", scopes: Array(set.scopes.values))
        let state = try store.consent(subject: "u-1001", asOf: ConsentStoreTests.asOf).state
        #expect(state.grants.map(\.scope).sorted() == ["ads", "analytics"])
    }
}
