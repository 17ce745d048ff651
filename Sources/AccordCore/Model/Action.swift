/// What a request does with the data: one of the six built-in actions, or one a taxonomy declares (`actions:`).
/// Declared actions form a dotted hierarchy like purposes: a rule naming `data.read` covers `data.read.online`.
public struct Action: RawRepresentable, Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ name: String) { self.rawValue = name }

    public static let readOnline = Action("read_online")
    public static let readOffline = Action("read_offline")
    public static let train = Action("train")
    public static let aggregate = Action("aggregate")
    public static let export = Action("export")
    public static let delete = Action("delete")

    /// The actions every policy set knows, declared or not.
    public static let builtIn: [Action] = [.readOnline, .readOffline, .train, .aggregate, .export, .delete]

    public var description: String { rawValue }

    public static func < (lhs: Action, rhs: Action) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// An action a taxonomy declares, with the purpose a request naming none is taken to have.
public struct DeclaredAction: Hashable, Sendable {
    public var name: String
    public var defaultPurpose: String?
    public var description: String?
    public var source: SourceRange
}
