/// A located YAML node: what the validator reads. Every node knows where it came from.
public struct SyntaxNode: Sendable {
    public enum ScalarStyle: Sendable { case plain, quoted, block }

    public indirect enum Value: Sendable {
        case scalar(String, ScalarStyle)
        case sequence([SyntaxNode])
        case mapping([SyntaxPair])
    }

    public var value: Value
    public var range: SourceRange

    public init(_ value: Value, range: SourceRange) {
        self.value = value
        self.range = range
    }

    /// The scalar text, if this is a scalar.
    public var scalar: String? {
        if case .scalar(let text, _) = value { return text }
        return nil
    }

    /// Whether this is a plain (unquoted) scalar whose text is empty or `null`/`~`.
    public var isNull: Bool {
        if case .scalar(let text, .plain) = value {
            return text.isEmpty || text == "null" || text == "~" || text == "Null" || text == "NULL"
        }
        return false
    }

    /// A short description of the node's kind for "expected X, found Y" messages.
    public var kindDescription: String {
        switch value {
        case .scalar(let text, .plain):
            if isNull { return "null" }
            if text == "true" || text == "false" { return "boolean '\(text)'" }
            if Int(text) != nil || Double(text) != nil { return "number '\(text)'" }
            return "string '\(text.prefix(40))'"
        case .scalar(let text, _): return "string '\(text.prefix(40))'"
        case .sequence: return "list"
        case .mapping: return "mapping"
        }
    }
}

/// One key–value pair of a mapping; keys are always scalars (the reader refuses others).
public struct SyntaxPair: Sendable {
    public var key: String
    public var keyRange: SourceRange
    public var value: SyntaxNode
}

/// One YAML document of a file.
public struct SyntaxDocument: Sendable {
    public var root: SyntaxNode
    public var index: Int
}
