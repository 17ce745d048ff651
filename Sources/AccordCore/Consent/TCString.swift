import Foundation

/// The core segment of an IAB Transparency & Consent Framework v2 TC string (TCF v2.0–v2.2): who wrote it,
/// when, and which purposes, special features and vendors the person consented to. Other segments (disclosed
/// and allowed vendors, publisher TC) are recognised and skipped.
public struct TCString: Sendable, Equatable {
    /// TCF defines purposes 1–11.
    public static let purposeCount = 11

    public var version: Int
    public var created: Date
    public var lastUpdated: Date
    public var cmpID: Int
    public var cmpVersion: Int
    public var consentScreen: Int
    /// Two letters, as the string encodes them (ISO 639-1, upper case).
    public var consentLanguage: String
    public var vendorListVersion: Int
    public var policyVersion: Int
    public var isServiceSpecific: Bool
    public var useNonStandardTexts: Bool
    /// Special features (1–12) opted in to.
    public var specialFeatureOptIns: Set<Int>
    /// Purposes (1–24 as encoded; TCF defines 1–11) consented to.
    public var purposeConsents: Set<Int>
    /// Purposes for which the person was told of legitimate interest and did not object.
    public var purposeLegitimateInterests: Set<Int>
    public var purposeOneTreatment: Bool
    public var publisherCountry: String
    public var vendorConsents: Set<Int>
    public var vendorLegitimateInterests: Set<Int>

    /// Why a string is not a TC string Accord can read.
    public struct DecodeError: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Reads a TC string: base64url segments separated by `.`, the first being the core segment.
    public init(decoding text: String) throws(DecodeError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw DecodeError(message: "empty TC string") }
        guard trimmed.utf8.count <= 65_536 else { throw DecodeError(message: "TC string longer than 64 KiB") }
        let segments = trimmed.split(separator: ".", omittingEmptySubsequences: false)
        var bits = try BitReader(base64url: segments[0], segment: 1)
        version = try bits.int(6, "version")
        guard version == 2 else {
            throw DecodeError(
                message: "version \(version) where 2 was expected: not a TCF v2 core segment"
                    + (version <= 3 ? " (a string that starts with another segment type?)" : ""))
        }
        created = try bits.date("created")
        lastUpdated = try bits.date("last_updated")
        cmpID = try bits.int(12, "cmp_id")
        cmpVersion = try bits.int(12, "cmp_version")
        consentScreen = try bits.int(6, "consent_screen")
        consentLanguage = try bits.letters("consent_language")
        vendorListVersion = try bits.int(12, "vendor_list_version")
        policyVersion = try bits.int(6, "tcf_policy_version")
        isServiceSpecific = try bits.bool("is_service_specific")
        useNonStandardTexts = try bits.bool("use_non_standard_texts")
        specialFeatureOptIns = try bits.bitfield(12, "special_feature_opt_ins")
        purposeConsents = try bits.bitfield(24, "purpose_consents")
        purposeLegitimateInterests = try bits.bitfield(24, "purpose_legitimate_interests")
        purposeOneTreatment = try bits.bool("purpose_one_treatment")
        publisherCountry = try bits.letters("publisher_cc")
        vendorConsents = try bits.vendors("vendor_consents")
        vendorLegitimateInterests = try bits.vendors("vendor_legitimate_interests")
        // Publisher restrictions: read so that a truncated string is refused, not used.
        let restrictions = try bits.int(12, "num_pub_restrictions")
        for _ in 0..<restrictions {
            _ = try bits.int(6, "restriction purpose")
            _ = try bits.int(2, "restriction type")
            _ = try bits.ranges("restricted vendors")
        }
        if created > lastUpdated {
            throw DecodeError(message: "created (\(Timestamps.format(created))) is after last_updated (\(Timestamps.format(lastUpdated)))")
        }
        for (i, segment) in segments.enumerated().dropFirst() {
            var reader = try BitReader(base64url: segment, segment: i + 1)
            let type = try reader.int(3, "segment_type")
            guard (1...3).contains(type) else { throw DecodeError(message: "segment \(i + 1) has unknown type \(type)") }
        }
    }

    /// The scopes of `policy` this string grants: each scope with `tcf_purposes`, all of them consented to.
    public func grantedScopes(in scopes: [ConsentScope]) -> [ConsentScope] {
        scopes.filter { !$0.tcfPurposes.isEmpty && $0.tcfPurposes.allSatisfy(purposeConsents.contains) }
            .sorted { $0.id < $1.id }
    }
}

/// Big-endian bits of a base64url segment (no padding), read field by field; running out is an error.
private struct BitReader {
    private var bytes: [UInt8] = []
    private var position = 0
    private let segment: Int

    init(base64url text: Substring, segment: Int) throws(TCString.DecodeError) {
        self.segment = segment
        guard !text.isEmpty else { throw TCString.DecodeError(message: "segment \(segment) is empty") }
        var accumulator: UInt32 = 0, count = 0
        for character in text.utf8 {
            let value: UInt32
            switch character {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(character - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(character - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(character - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "-"), UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "_"), UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="): continue  // some encoders pad
            default:
                throw TCString.DecodeError(
                    message: "segment \(segment): '\(Character(UnicodeScalar(character)))' is not a base64url character")
            }
            accumulator = accumulator << 6 | value
            count += 6
            if count >= 8 {
                count -= 8
                bytes.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(count)))
            }
        }
        if count > 0 { bytes.append(UInt8(truncatingIfNeeded: accumulator << UInt32(8 - count))) }
    }

    mutating func int(_ width: Int, _ field: String) throws(TCString.DecodeError) -> Int {
        guard position + width <= bytes.count * 8 else {
            throw TCString.DecodeError(
                message: "segment \(segment) ends inside '\(field)' (bit \(position) of \(bytes.count * 8)): truncated")
        }
        var value = 0
        for _ in 0..<width {
            value = value << 1 | Int((bytes[position / 8] >> (7 - UInt8(position % 8))) & 1)
            position += 1
        }
        return value
    }

    mutating func bool(_ field: String) throws(TCString.DecodeError) -> Bool { try int(1, field) == 1 }

    /// Deciseconds since the Unix epoch, 36 bits.
    mutating func date(_ field: String) throws(TCString.DecodeError) -> Date {
        Date(timeIntervalSince1970: Double(try int(36, field)) / 10)
    }

    /// Two letters, 6 bits each, A = 0.
    mutating func letters(_ field: String) throws(TCString.DecodeError) -> String {
        let first = try int(6, field), second = try int(6, field)
        guard first < 26, second < 26 else { throw TCString.DecodeError(message: "'\(field)' is not two letters") }
        return String(UnicodeScalar(UInt8(65 + first))) + String(UnicodeScalar(UInt8(65 + second)))
    }

    /// The numbers (from 1) of the set bits of a `width`-bit field.
    mutating func bitfield(_ width: Int, _ field: String) throws(TCString.DecodeError) -> Set<Int> {
        var set: Set<Int> = []
        for n in 1...width where try bool(field) { set.insert(n) }
        return set
    }

    /// A vendor section: MaxVendorId, then a bitfield or a list of ranges. Ranges are merged before they are
    /// expanded, so the work is bounded by MaxVendorId whatever the string repeats.
    mutating func vendors(_ field: String) throws(TCString.DecodeError) -> Set<Int> {
        let maxVendor = try int(16, field + " max_vendor_id")
        guard try bool(field + " is_range_encoding") else { return maxVendor == 0 ? [] : try bitfield(maxVendor, field) }
        let list = try ranges(field)
        if let beyond = list.first(where: { $0.upperBound > maxVendor }) {
            throw TCString.DecodeError(message: "'\(field)' names vendor \(beyond.upperBound) above its max_vendor_id \(maxVendor)")
        }
        var vendors: Set<Int> = []
        var covered = 0  // every vendor up to here is already in
        for range in list.sorted(by: { $0.lowerBound < $1.lowerBound }) where range.upperBound > covered {
            for vendor in max(range.lowerBound, covered + 1)...range.upperBound { vendors.insert(vendor) }
            covered = range.upperBound
        }
        return vendors
    }

    /// NumEntries, then per entry IsARange, a start (or only) id and, for a range, an end id.
    mutating func ranges(_ field: String) throws(TCString.DecodeError) -> [ClosedRange<Int>] {
        var list: [ClosedRange<Int>] = []
        for _ in 0..<(try int(12, field + " num_entries")) {
            let isRange = try bool(field)
            let start = try int(16, field)
            let end = isRange ? try int(16, field) : start
            guard start >= 1, end >= start else {
                throw TCString.DecodeError(message: "'\(field)' has an invalid vendor range \(start)–\(end)")
            }
            list.append(start...end)
        }
        return list
    }
}
