/// The ground on which processing for a purpose rests (GDPR Art. 6(1); `notice` for notice-and-opt-out
/// regimes such as the CCPA).
public enum LegalBasis: String, Sendable, Codable, Hashable, CaseIterable {
    case consent
    case legitimateInterest = "legitimate_interest"
    case contract
    case legalObligation = "legal_obligation"
    case notice
}

/// The legal basis a jurisdiction assigns to a set of purposes.
public struct LegalBasisRule: Hashable, Sendable {
    public var purposes: [NamePattern]
    public var basis: LegalBasis
    /// For `consent`: the scopes that can carry it; empty means any scope covering the purpose.
    public var scopes: [String]
    public var source: SourceRange
}

/// Purposes a subject may opt out of, and the signals that opt them out.
public struct OptOutRule: Hashable, Sendable {
    public var purposes: [NamePattern]
    /// Purpose flags that make a purpose opt-out-able (`sale_or_share`, `profiling`).
    public var flags: [String]
    /// Signals honoured as an opt-out (`gpc` — Global Privacy Control).
    public var signals: [String]
    public var source: SourceRange
}

/// Purposes refused below an age, whatever the consent.
public struct MinorsRule: Hashable, Sendable {
    public var under: Int
    public var refuse: [NamePattern]
    public var source: SourceRange
}

/// A legal regime for data subjects.
public struct Jurisdiction: Hashable, Sendable {
    public var id: String
    public var name: String?
    public var extends: String?
    public var extendsRange: SourceRange?
    /// Used for subjects whose jurisdiction is unknown; should be the strictest.
    public var fallback: Bool
    /// Age of digital consent (GDPR Art. 8): below it, consent needs a guardian.
    public var ageOfConsent: Int?
    public var minors: MinorsRule?
    public var legalBases: [LegalBasisRule]
    public var optOut: OptOutRule?
    /// Regions where this jurisdiction's subjects' data may be stored and processed; nil means anywhere.
    public var allowedRegions: [String]?
    public var source: SourceRange
}
