/// A position in a source file: 1-based line and column (columns count Unicode scalars).
public struct SourceLocation: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }

    public var description: String { "\(line):\(column)" }
}

/// A span in one file. `length` is the number of columns underlined on the start line.
public struct SourceRange: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var start: SourceLocation
    public var length: Int

    public init(file: String, start: SourceLocation, length: Int = 1) {
        self.file = file
        self.start = start
        self.length = max(1, length)
    }

    public init(file: String, line: Int, column: Int, length: Int = 1) {
        self.init(file: file, start: SourceLocation(line: line, column: column), length: length)
    }

    /// `file:line:col`, the form editors and CI annotations understand.
    public var description: String { "\(file):\(start.line):\(start.column)" }
}
