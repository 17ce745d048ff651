import Foundation

/// A diagnostic case: a YAML file whose expected errors are marked in comments.
///
///     purposes: [ads.targetting]
/// #              ^ A0212
///
/// marks error A0212 at the caret's column on the line above; `# expect: A0101 at 1:1` states one directly.
public struct DiagnosticCase: CustomStringConvertible, Sendable {
    public let file: String
    public var description: String { URL(fileURLWithPath: file).lastPathComponent }

    public struct Expected: Hashable, CustomStringConvertible {
        public var code: String
        public var line: Int
        public var column: Int
        public var description: String { "\(code)@\(line):\(column)" }

        public init(code: String, line: Int, column: Int) { (self.code, self.line, self.column) = (code, line, column) }
    }

    /// Every case in a corpus folder of the repository, by name.
    public static func all(in folder: String = "Tests/Corpus/diagnostics") -> [DiagnosticCase] {
        let root = Repository.path(folder)
        let files =
            (try? FileManager.default.contentsOfDirectory(atPath: root))?.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            ?? []
        return files.map { DiagnosticCase(file: "\(root)/\($0)") }
    }

    /// Reads markers from the raw bytes (some cases hold invalid UTF-8 on purpose).
    public func expected() throws -> Set<Expected> {
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        var result = Set<Expected>()
        var lastContentLine = 0
        for (index, raw) in lines.enumerated() {
            let line = String(decoding: raw, as: UTF8.self)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("# expect:") {
                // `# expect: CODE at LINE:COL`
                let parts = trimmed.dropFirst("# expect:".count).split(separator: " ")
                guard parts.count == 3, parts[1] == "at" else { throw CorpusError("\(file):\(index + 1): bad expect line") }
                let position = parts[2].split(separator: ":").compactMap { Int($0) }
                guard position.count == 2 else { throw CorpusError("\(file):\(index + 1): bad position") }
                result.insert(Expected(code: String(parts[0]), line: position[0], column: position[1]))
                continue
            }
            if line.hasPrefix("#"), let caret = line.unicodeScalars.firstIndex(of: "^"),
                line.unicodeScalars[line.unicodeScalars.startIndex..<caret].allSatisfy({ $0 == "#" || $0 == " " })
            {
                let column = line.unicodeScalars.distance(from: line.unicodeScalars.startIndex, to: caret) + 1
                let code = line.unicodeScalars[caret...].split(separator: " ").dropFirst().first.map {
                    String(String.UnicodeScalarView($0))
                }
                guard let code, lastContentLine > 0 else { throw CorpusError("\(file):\(index + 1): marker without code or line") }
                result.insert(Expected(code: code, line: lastContentLine, column: column))
                continue
            }
            lastContentLine = index + 1
        }
        return result
    }
}
