/// What a person can agree to: a set of purposes and, for explicit consent (GDPR Art. 9(2)(a)), the
/// sensitive categories it covers. Versioned; a grant may expire.
public struct ConsentScope: Hashable, Sendable {
    public var id: String
    /// The current version of the text people agree to.
    public var version: Int
    /// Grants of a version below this no longer count (the text changed materially).
    public var minimumVersion: Int
    public var purposes: [NamePattern]
    public var explicitCategories: [NamePattern]
    /// How long a grant lasts, if it lapses.
    public var expiresAfter: PolicyDuration?
    /// IAB TCF purposes (1–11) whose consent in a TC string counts as a grant of this scope, all of them needed.
    public var tcfPurposes: [Int] = []
    public var description: String?
    public var source: SourceRange
}
