/// Where each character of a scalar's value stands in the file, so that a problem inside a condition can
/// be pointed at even when the condition is quoted with escapes, folded over several lines, or written as
/// a block scalar. The map is rebuilt from the source text and checked against the value; when they do not
/// agree (a YAML construct this does not model), there is no map and callers fall back to the node's start.
enum ScalarLocations {
    static func map(_ value: String, style: SyntaxNode.ScalarStyle, at range: SourceRange, in source: SourceFile) -> [SourceLocation]? {
        let expected = Array(value.unicodeScalars)
        var result: [(Unicode.Scalar, SourceLocation)]
        switch style {
        case .plain: result = plain(range, source)
        case .quoted: result = quoted(range, source)
        case .block: result = block(range, source, literal: expected.contains("\n"))
        }
        // Trailing line breaks kept or stripped by chomping are not characters a condition points at.
        while let last = result.last, result.count > expected.count, last.0 == "\n" || last.0 == " " { result.removeLast() }
        // A kept final line break (`|`) has no character of its own to point at: use the last one's place.
        while result.count < expected.count, expected[result.count] == "\n", let last = result.last {
            result.append(("\n", last.1))
        }
        guard result.count >= expected.count else { return nil }
        result = Array(result.prefix(expected.count))
        for (index, scalar) in expected.enumerated() {
            let mapped = result[index].0
            if mapped != scalar && !(mapped == " " && scalar == "\n") && !(mapped == "\n" && scalar == " ") { return nil }
        }
        return result.map(\.1)
    }

    private static func scalars(_ source: SourceFile, _ line: Int) -> [Unicode.Scalar]? {
        source.line(line).map { Array($0.unicodeScalars) }
    }

    /// A plain scalar: the rest of the first line, then continuation lines with their indentation removed,
    /// joined by single spaces; a `#` after a space ends it.
    private static func plain(_ range: SourceRange, _ source: SourceFile) -> [(Unicode.Scalar, SourceLocation)] {
        var out: [(Unicode.Scalar, SourceLocation)] = []
        var line = range.start.line
        var column = range.start.column
        while let chars = scalars(source, line) {
            var start = column - 1
            if line != range.start.line {
                while start < chars.count, chars[start] == " " || chars[start] == "\t" { start += 1 }
                if start >= chars.count { break }  // a blank line ends this simple model
                if chars[start] == "#" { break }
                if !out.isEmpty { out.append((" ", SourceLocation(line: line, column: start + 1))) }
            }
            var end = chars.count
            var i = start
            while i < chars.count {
                if chars[i] == "#", i > 0, chars[i - 1] == " " || chars[i - 1] == "\t" { end = i; break }
                i += 1
            }
            while end > start, chars[end - 1] == " " || chars[end - 1] == "\t" { end -= 1 }
            if start < end {
                for j in start..<end { out.append((chars[j], SourceLocation(line: line, column: j + 1))) }
            }
            line += 1
            column = 1
            // Stop at the next mapping key or list item: a line indented no deeper than the key.
            if let next = scalars(source, line) {
                let indent = next.prefix { $0 == " " }.count
                if indent < range.start.column - 1 && indent <= keyIndent(range, source) { break }
            }
        }
        return out
    }

    private static func keyIndent(_ range: SourceRange, _ source: SourceFile) -> Int {
        guard let chars = scalars(source, range.start.line) else { return 0 }
        return chars.prefix { $0 == " " || $0 == "-" }.count
    }

    /// A single- or double-quoted scalar, decoding escapes and folding line breaks into spaces.
    private static func quoted(_ range: SourceRange, _ source: SourceFile) -> [(Unicode.Scalar, SourceLocation)] {
        var out: [(Unicode.Scalar, SourceLocation)] = []
        guard let first = scalars(source, range.start.line), range.start.column - 1 < first.count else { return out }
        let quote = first[range.start.column - 1]
        guard quote == "\"" || quote == "'" else { return out }
        var line = range.start.line
        var i = range.start.column
        while let chars = scalars(source, line) {
            if line != range.start.line {
                while i < chars.count, chars[i] == " " || chars[i] == "\t" { i += 1 }
                out.append((" ", SourceLocation(line: line, column: i + 1)))
            }
            while i < chars.count {
                let c = chars[i]
                let at = SourceLocation(line: line, column: i + 1)
                if c == quote {
                    if quote == "'", i + 1 < chars.count, chars[i + 1] == "'" { out.append(("'", at)); i += 2; continue }
                    return out
                }
                if quote == "\"", c == "\\", i + 1 < chars.count {
                    let e = chars[i + 1]
                    let decoded: Unicode.Scalar? =
                        switch e {
                        case "n": "\n"
                        case "t": "\t"
                        case "\\": "\\"
                        case "\"": "\""
                        case "/": "/"
                        case " ": " "
                        case "0": "\0"
                        default: nil
                        }
                    guard let decoded else { return [] }  // \x, \u and friends are not modelled
                    out.append((decoded, at))
                    i += 2
                    continue
                }
                out.append((c, at))
                i += 1
            }
            // Fold the line break: trailing spaces before it are dropped.
            while let last = out.last, last.0 == " " || last.0 == "\t", last.1.line == line { out.removeLast() }
            line += 1
            i = 0
        }
        return out
    }

    /// A literal (`|`) or folded (`>`) block scalar: content lines after the header, indentation removed,
    /// joined by line breaks or spaces.
    private static func block(_ range: SourceRange, _ source: SourceFile, literal: Bool) -> [(Unicode.Scalar, SourceLocation)] {
        var out: [(Unicode.Scalar, SourceLocation)] = []
        var line = range.start.line + 1
        var indent: Int?
        while let chars = scalars(source, line) {
            let leading = chars.prefix { $0 == " " }.count
            if leading == chars.count { line += 1; continue }  // blank lines are not modelled beyond skipping
            if indent == nil { indent = leading }
            guard let indent, leading >= indent else { break }
            if !out.isEmpty { out.append((literal ? "\n" : " ", SourceLocation(line: line, column: indent + 1))) }
            for j in indent..<chars.count { out.append((chars[j], SourceLocation(line: line, column: j + 1))) }
            line += 1
        }
        return out
    }
}
