import Foundation
import Yams

/// Reads policy YAML into located syntax trees, strictly: bytes are checked (UTF-8, control characters,
/// size), libyaml's events are scanned for hazards, and only then does Yams compose the nodes.
public struct YAMLReader: Sendable {
    public var limits: YAMLLimits

    public init(limits: YAMLLimits = .standard) {
        self.limits = limits
    }

    /// The result of reading one file: its text (for rendering) and documents, or the problems found.
    public struct Output: Sendable {
        public var source: SourceFile?
        public var documents: [SyntaxDocument]
        public var diagnostics: [Diagnostic]
    }

    /// Reads the file at `path`.
    public func read(path: String) -> Output {
        guard let data = FileManager.default.contents(atPath: path) else {
            return Output(
                source: nil, documents: [],
                diagnostics: [
                    Diagnostic(.unreadableFile, "cannot read file", at: SourceRange(file: path, line: 1, column: 1))
                ])
        }
        return read(bytes: [UInt8](data), file: path)
    }

    /// Reads YAML from bytes; `file` names it in diagnostics.
    public func read(bytes: [UInt8], file: String) -> Output {
        if bytes.count > limits.maxFileBytes {
            return Output(
                source: nil, documents: [],
                diagnostics: [
                    Diagnostic(
                        .fileTooLarge, "file of \(bytes.count) bytes exceeds the limit of \(limits.maxFileBytes)",
                        at: SourceRange(file: file, line: 1, column: 1))
                ])
        }
        if let problem = checkBytes(bytes, file: file) {
            return Output(source: nil, documents: [], diagnostics: [problem])
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let source = SourceFile(path: file, text: text)
        let hazards = YAMLHazardScan(file: file, limits: limits).scan(bytes)
        if !hazards.isEmpty {
            return Output(source: source, documents: [], diagnostics: hazards)
        }
        do {
            let parser = try Parser(yaml: text, resolver: .basic)
            var documents: [SyntaxDocument] = []
            while let node = try parser.nextRoot() {
                documents.append(SyntaxDocument(root: convert(node, source: source), index: documents.count))
            }
            // A file that holds nothing is refused, not read as an empty policy: a deploy that truncated it must
            // not silently drop its forbids (an empty document after real ones, a trailing '---', is fine).
            if documents.allSatisfy({ $0.root.isNull }) {
                return Output(
                    source: source, documents: [],
                    diagnostics: [
                        Diagnostic(
                            .emptyFile,
                            "empty policy file: it holds no document, only \(text.isEmpty ? "nothing" : "comments, blank lines or document markers")",
                            at: SourceRange(file: file, line: 1, column: 1),
                            help: "restore its content, or delete the file if its policies are meant to go")
                    ])
            }
            return Output(source: source, documents: documents, diagnostics: [])
        } catch let error as YamlError {
            return Output(source: source, documents: [], diagnostics: [diagnostic(for: error, file: file)])
        } catch {
            return Output(
                source: source, documents: [],
                diagnostics: [
                    Diagnostic(.yamlSyntax, "invalid YAML: \(error)", at: SourceRange(file: file, line: 1, column: 1))
                ])
        }
    }

    // MARK: - Bytes

    /// Invalid UTF-8 and control characters (NUL among them) are refused with their position.
    private func checkBytes(_ bytes: [UInt8], file: String) -> Diagnostic? {
        var line = 1, column = 1
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            var width = 1
            if byte < 0x80 {
                if byte == 0x0A {
                    line += 1; column = 1; index += 1; continue
                }
                if byte == 0x0D && (index + 1 >= count || bytes[index + 1] != 0x0A) {
                    // libyaml would take a lone CR as a line break that line-based tools do not see.
                    return Diagnostic(
                        .controlCharacter, "a carriage return not followed by a line feed is not allowed",
                        at: SourceRange(file: file, line: line, column: column), help: "use LF or CRLF line endings")
                }
                if byte < 0x20 && byte != 0x09 && byte != 0x0D || byte == 0x7F {
                    let name = byte == 0 ? "a NUL byte" : String(format: "control character U+%04X", byte)
                    return Diagnostic(
                        .controlCharacter, "\(name) is not allowed in a policy file",
                        at: SourceRange(file: file, line: line, column: column))
                }
            } else {
                width = utf8SequenceLength(bytes, at: index)
                if width == 0 {
                    return Diagnostic(
                        .invalidUTF8, "invalid UTF-8 byte 0x\(String(byte, radix: 16, uppercase: true))",
                        at: SourceRange(file: file, line: line, column: column),
                        help: "policy files must be UTF-8")
                }
                // C1 controls (NEL among them) and the Unicode line and paragraph separators: YAML treats some
                // as line breaks, so text that looks like a comment to a reviewer could hide a key.
                let isC1 = byte == 0xC2 && bytes[index + 1] >= 0x80 && bytes[index + 1] <= 0x9F
                let isSeparator = byte == 0xE2 && bytes[index + 1] == 0x80 && (bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9)
                if isC1 || isSeparator {
                    let scalar = String(decoding: bytes[index..<(index + width)], as: UTF8.self).unicodeScalars.first!.value
                    return Diagnostic(
                        .controlCharacter, String(format: "control character U+%04X is not allowed in a policy file", scalar),
                        at: SourceRange(file: file, line: line, column: column),
                        help: "YAML may read it as a line break; remove it")
                }
            }
            index += width
            column += 1
        }
        return nil
    }

    /// The length of a well-formed UTF-8 sequence starting at `index`, or 0 if it is malformed.
    private func utf8SequenceLength(_ bytes: [UInt8], at index: Int) -> Int {
        let byte = bytes[index]
        let length: Int
        var lower: UInt8 = 0x80, upper: UInt8 = 0xBF
        switch byte {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upper = 0x9F
        case 0xF0: length = 4; lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upper = 0x8F
        default: return 0
        }
        guard index + length <= bytes.count else { return 0 }
        for offset in 1..<length {
            let next = bytes[index + offset]
            let (lo, hi) = offset == 1 ? (lower, upper) : (0x80, 0xBF)
            if next < lo || next > hi { return 0 }
        }
        return length
    }

    // MARK: - Nodes

    private func convert(_ node: Node, source: SourceFile) -> SyntaxNode {
        let file = source.path
        func range(_ mark: Mark?, length: Int = 1) -> SourceRange {
            SourceRange(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, length: length)
        }
        switch node {
        case .scalar(let scalar):
            let style: SyntaxNode.ScalarStyle
            var length = scalar.string.count
            switch scalar.style {
            case .plain, .any: style = .plain
            case .singleQuoted, .doubleQuoted: style = .quoted; length += 2
            case .literal, .folded: style = .block; length = 1
            }
            if scalar.string.contains("\n") { length = 1 }
            return SyntaxNode(.scalar(scalar.string, style), range: range(scalar.mark, length: length))
        case .sequence(let sequence):
            return SyntaxNode(.sequence(sequence.map { convert($0, source: source) }), range: range(sequence.mark))
        case .mapping(let mapping):
            var pairs: [SyntaxPair] = []
            for (key, value) in mapping {
                let keyNode = convert(key, source: source)
                pairs.append(SyntaxPair(key: keyNode.scalar ?? "", keyRange: keyNode.range, value: convert(value, source: source)))
            }
            return SyntaxNode(.mapping(pairs), range: range(mapping.mark))
        case .alias(let alias):
            // Unreachable: the hazard scan refuses aliases before Yams composes.
            return SyntaxNode(.scalar("", .plain), range: range(alias.mark))
        }
    }

    private func diagnostic(for error: YamlError, file: String) -> Diagnostic {
        switch error {
        case .duplicatedKeysInMapping(let duplicates, let context):
            return Diagnostic(
                .duplicateKey, "duplicate key '\(duplicates.first ?? "")'",
                at: SourceRange(file: file, line: context.mark.line, column: context.mark.column))
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return Diagnostic(
                .yamlSyntax, "invalid YAML: \(problem)",
                at: SourceRange(file: file, line: mark.line, column: mark.column))
        default:
            return Diagnostic(.yamlSyntax, "invalid YAML: \(error)", at: SourceRange(file: file, line: 1, column: 1))
        }
    }
}
