/// A kind of personal data. A category covers its children; a sensitive category (GDPR Art. 9 special
/// categories) makes its children sensitive too.
public struct DataCategory: Hashable, Sendable {
    public var name: String
    public var sensitive: Bool
    public var description: String?
    public var source: SourceRange
}

/// Why data is used. A purpose covers its children and passes its flags down to them.
public struct Purpose: Hashable, Sendable {
    public var name: String
    /// Automated evaluation of personal aspects (GDPR Art. 4(4)).
    public var profiling: Bool
    /// Selling or sharing for cross-context behavioural advertising (CCPA §1798.120, CPRA §1798.140(ah)).
    public var saleOrShare: Bool
    public var description: String?
    public var source: SourceRange
}

/// A feature (or dataset) the feature store serves, tagged with what it holds and where it lives.
public struct Feature: Hashable, Sendable {
    public var name: String
    public var category: String
    public var entity: String
    public var region: String?
    public var description: String?
    public var source: SourceRange
}
