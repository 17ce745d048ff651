/// Renders diagnostics for people (`file:line:col: error[CODE]: message`, the line, a caret) and for
/// machines (JSON).
public struct DiagnosticRenderer {
    public var sources: [String: SourceFile]

    public init(sources: [String: SourceFile]) { self.sources = sources }

    /// Source lines longer than this are cut around the caret.
    public static let maximumLineWidth = 200

    /// The text form, with the offending line and a caret under the problem. Everything that comes from a policy
    /// file (ids, names, the line itself) is shown with control characters escaped (`\u{1B}`), so a file cannot
    /// move the cursor, recolour or clear the terminal of whoever reads the diagnostic, nor forge another line.
    public func text(_ diagnostic: Diagnostic) -> String {
        let range = diagnostic.range
        var out =
            "\(range.description.escapingControlCharacters): \(diagnostic.severity.rawValue)[\(diagnostic.code.rawValue)]: "
            + "\(diagnostic.message.escapingControlCharacters)\n"
        if let line = sources[range.file]?.line(range.start.line) {
            let number = String(range.start.line)
            let gutter = String(repeating: " ", count: number.count)
            // Columns count Unicode scalars; tabs show as one space so that the caret stays under its column.
            var scalars = Array(String(line).unicodeScalars.map { $0 == "\t" ? " " as Unicode.Scalar : $0 })
            var caretAt = max(0, range.start.column - 1)
            var caretLength = max(1, min(range.length, scalars.count - caretAt))
            var cutBefore = false, cutAfter = false
            if scalars.count > Self.maximumLineWidth {
                // A window of the line around the caret, marked with an ellipsis where it was cut.
                let start = max(0, min(caretAt - Self.maximumLineWidth / 2, scalars.count - Self.maximumLineWidth))
                let end = min(scalars.count, start + Self.maximumLineWidth)
                cutBefore = start > 0
                cutAfter = end < scalars.count
                scalars = Array(scalars[start..<end])
                caretAt -= start
                caretLength = max(1, min(caretLength, scalars.count - caretAt))
            }
            // Control characters in the line (a file can hold only tabs, but a line is shown escaped all the same) widen
            // what precedes the caret: the caret is placed after escaping.
            let before = String(String.UnicodeScalarView(scalars.prefix(caretAt))).escapingControlCharacters
            let under = String(String.UnicodeScalarView(scalars.dropFirst(caretAt).prefix(caretLength))).escapingControlCharacters
            let after = String(String.UnicodeScalarView(scalars.dropFirst(caretAt + caretLength))).escapingControlCharacters
            let lead = cutBefore ? "…" : ""
            out += " \(number) | \(lead)\(before)\(under)\(after)\(cutAfter ? "…" : "")\n"
            out +=
                " \(gutter) | \(String(repeating: " ", count: lead.count + before.count))\(String(repeating: "^", count: max(1, under.count)))\n"
        }
        if let help = diagnostic.help { out += "    help: \(help.escapingControlCharacters)\n" }
        for note in diagnostic.notes { out += "    note: \(note.escapingControlCharacters)\n" }
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

extension String {
    /// The text with C0 and C1 control characters and DEL written as `\u{1B}`-style escapes: safe to print to a
    /// terminal or a log that is read line by line.
    public var escapingControlCharacters: String {
        guard unicodeScalars.contains(where: Self.isControl) else { return self }
        var out = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            if Self.isControl(scalar) {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}
