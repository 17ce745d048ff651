/// Bounds on what a policy file may contain. Policies are small; anything past these is hostile or a
/// mistake, and is refused before a tree is built.
public struct YAMLLimits: Sendable {
    /// Largest file accepted, in bytes.
    public var maxFileBytes = 4 * 1024 * 1024
    /// Deepest nesting of sequences and mappings.
    public var maxDepth = 64
    /// Largest single scalar, in bytes.
    public var maxScalarBytes = 64 * 1024
    /// Most nodes in one file.
    public var maxNodes = 500_000

    public init() {}

    public static let standard = YAMLLimits()
}
