/// A length of time written with a unit: `30d`, `12h`, `2w`, `90m`, `45s`, `1y` (365 days).
public struct PolicyDuration: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var seconds: Int64

    public init(seconds: Int64) { self.seconds = seconds }

    public static func < (lhs: PolicyDuration, rhs: PolicyDuration) -> Bool { lhs.seconds < rhs.seconds }

    /// The longest duration a policy may state: 100 years.
    public static let maximum = PolicyDuration(seconds: 100 * 365 * 86_400)

    public enum ParseError: Error, Equatable {
        case missingUnit, malformed, outOfRange
    }

    /// Units and their length in seconds.
    static let units: [(Character, Int64)] = [("s", 1), ("m", 60), ("h", 3_600), ("d", 86_400), ("w", 604_800), ("y", 31_536_000)]

    /// Parses `<digits><unit>` (one unit, no sign, no fraction). `30` alone is `missingUnit`.
    public static func parse(_ text: String) throws(ParseError) -> PolicyDuration {
        guard let last = text.last else { throw .malformed }
        let digits = text.dropLast()
        if last.isASCII, last.isNumber, text.allSatisfy({ $0.isASCII && $0.isNumber }) { throw .missingUnit }
        guard let unit = units.first(where: { $0.0 == last })?.1 else { throw .malformed }
        if digits.hasPrefix("-"), digits.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }), digits.count > 1 { throw .outOfRange }
        if digits.count > 12, digits.allSatisfy({ $0.isASCII && $0.isNumber }) { throw .outOfRange }
        guard !digits.isEmpty, digits.count <= 12, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            let value = Int64(digits)
        else { throw .malformed }
        let (seconds, overflow) = value.multipliedReportingOverflow(by: unit)
        guard !overflow, seconds > 0, seconds <= maximum.seconds else { throw .outOfRange }
        return PolicyDuration(seconds: seconds)
    }

    /// The shortest exact spelling: `90d`, `2w`, `36h`.
    public var description: String {
        for (unit, length) in PolicyDuration.units.reversed() where seconds % length == 0 {
            return "\(seconds / length)\(unit)"
        }
        return "\(seconds)s"
    }
}
