/// Renders diagnostics for people (`file:line:col: error[CODE]: message`, the line, a caret) and for
/// machines (JSON).
public struct DiagnosticRenderer {
    public var sources: [String: SourceFile]

    public init(sources: [String: SourceFile]) { self.sources = sources }

    /// The text form, with the offending line and a caret under the problem.
    public func text(_ diagnostic: Diagnostic) -> String {
        let range = diagnostic.range
        var out = "\(range): \(diagnostic.severity.rawValue)[\(diagnostic.code.rawValue)]: \(diagnostic.message)\n"
        if let line = sources[range.file]?.line(range.start.line) {
            let number = String(range.start.line)
            let gutter = String(repeating: " ", count: number.count)
            let shown = String(line).replacingTabs()
            out += " \(number) | \(shown)\n"
            let prefix = String(line.unicodeScalars.prefix(max(0, range.start.column - 1)).map { $0 == "\t" ? " " : " " })
            let available = max(1, shown.unicodeScalars.count - (range.start.column - 1))
            out += " \(gutter) | \(prefix)\(String(repeating: "^", count: min(range.length, available)))\n"
        }
        if let help = diagnostic.help { out += "    help: \(help)\n" }
        for note in diagnostic.notes { out += "    note: \(note)\n" }
        return out
    }

    public static func json(_ diagnostic: Diagnostic) -> JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("file", .string(diagnostic.range.file)),
            ("line", .int(diagnostic.range.start.line)),
            ("column", .int(diagnostic.range.start.column)),
            ("severity", .string(diagnostic.severity.rawValue)),
            ("code", .string(diagnostic.code.rawValue)),
            ("message", .string(diagnostic.message)),
        ]
        if let help = diagnostic.help { pairs.append(("help", .string(help))) }
        if !diagnostic.notes.isEmpty { pairs.append(("notes", .array(diagnostic.notes.map(JSONValue.string)))) }
        return .object(pairs)
    }
}

private extension String {
    func replacingTabs() -> String { String(unicodeScalars.map { $0 == "\t" ? " " : Character($0) }) }
}
