/// How bad a diagnostic is.
public enum Severity: String, Sendable, Codable, Comparable {
    case note, warning, error

    private var rank: Int {
        switch self {
        case .note: 0
        case .warning: 1
        case .error: 2
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// A problem found in a policy file: data with a stable code; rendering is `DiagnosticRenderer`'s job.
public struct Diagnostic: Hashable, Sendable, Error {
    public var code: DiagnosticCode
    public var severity: Severity
    public var message: String
    public var range: SourceRange
    public var help: String?
    public var notes: [String]

    public init(
        _ code: DiagnosticCode,
        _ message: String,
        at range: SourceRange,
        severity: Severity = .error,
        help: String? = nil,
        notes: [String] = []
    ) {
        self.code = code
        self.severity = severity
        self.message = message
        self.range = range
        self.help = help
        self.notes = notes
    }
}

extension Diagnostic: Comparable {
    /// Diagnostics sort by file, then position, then code, so output is deterministic.
    public static func < (lhs: Diagnostic, rhs: Diagnostic) -> Bool {
        if lhs.range.file != rhs.range.file { return lhs.range.file < rhs.range.file }
        if lhs.range.start != rhs.range.start { return lhs.range.start < rhs.range.start }
        if lhs.code != rhs.code { return lhs.code.rawValue < rhs.code.rawValue }
        return lhs.message < rhs.message
    }
}

/// A growing list of diagnostics; the validator collects every problem rather than stopping at the first.
public struct DiagnosticBag: Sendable {
    public private(set) var diagnostics: [Diagnostic] = []

    public init() {}

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    public mutating func add(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }

    public mutating func error(
        _ code: DiagnosticCode, _ message: String, at range: SourceRange, help: String? = nil
    ) {
        diagnostics.append(Diagnostic(code, message, at: range, help: help))
    }

    public mutating func append(contentsOf other: [Diagnostic]) { diagnostics.append(contentsOf: other) }

    /// Sorted and free of exact duplicates.
    public var sorted: [Diagnostic] { Array(Set(diagnostics)).sorted() }
}
