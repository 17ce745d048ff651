import AccordCore
import Foundation

/// Consent events read from a file for `SQLiteConsentStore.record`: JSON Lines, or CSV with a header row. Every
/// line is checked; a file with any bad line yields its problems (by line number) and no events, so that
/// nothing is half-imported.
public enum ConsentImport {
    /// A line that could not be read, and why.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// The fields a line may have; `subject`, `kind`, `target` and `occurred_at` are required.
    static let fields = ["subject", "kind", "target", "version", "by_guardian", "source", "occurred_at", "evidence"]

    /// Reads `text` as CSV when `csv` is true, else as JSON Lines. Blank lines are skipped. Events default to
    /// source `import`, with the file and line as evidence when the line gives none.
    public static func read(_ text: String, csv: Bool, file: String) -> Result<[(subject: String, event: ConsentEvent)], ImportFailure> {
        var events: [(subject: String, event: ConsentEvent)] = []
        var problems: [Problem] = []
        // Split on line breaks of any kind: Swift reads "\r\n" as one character, so splitting on "\n" alone would
        // see a Windows file as a single line.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        var header: [String]?
        for (index, line) in lines.enumerated() {
            let number = index + 1
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            var values: [String: Any]
            if csv {
                guard let cells = CSV.cells(line) else {
                    problems.append(Problem(line: number, message: "unbalanced quotes"))
                    continue
                }
                guard let columns = header else {
                    if let unknown = cells.first(where: { !fields.contains($0) }) {
                        problems.append(
                            Problem(line: number, message: "unknown column '\(unknown)'; columns are \(fields.joined(separator: ", "))"))
                    }
                    header = cells
                    continue
                }
                guard cells.count == columns.count else {
                    problems.append(Problem(line: number, message: "\(cells.count) cells where the header has \(columns.count)"))
                    continue
                }
                values = Dictionary(zip(columns, cells).filter { !$0.1.isEmpty }, uniquingKeysWith: { first, _ in first })
            } else {
                let value: JSONValue
                do {
                    value = try JSONReader.parse(Array(line.utf8))
                } catch {
                    if case .duplicateKey(let key) = error.kind {
                        problems.append(
                            Problem(line: number, message: "duplicate key '\(key)'" + (error.path.isEmpty ? "" : " in \(error.path)")))
                    } else {
                        problems.append(Problem(line: number, message: "not JSON: column \(error.column): \(error.message)"))
                    }
                    continue
                }
                guard let object = value.objectValue else {
                    problems.append(Problem(line: number, message: "not a JSON object"))
                    continue
                }
                values = Dictionary(object.map { ($0.0, $0.1.any) }, uniquingKeysWith: { first, _ in first })
            }
            switch event(values, line: number, file: file) {
            case .success(let event): events.append(event)
            case .failure(let problem): problems.append(problem)
            }
        }
        if csv && header == nil && problems.isEmpty { problems.append(Problem(line: 1, message: "no header row")) }
        return problems.isEmpty ? .success(events) : .failure(ImportFailure(problems: problems))
    }

    public struct ImportFailure: Error, Sendable, Equatable {
        public var problems: [Problem]
    }

    private static func event(_ values: [String: Any], line: Int, file: String) -> Result<(subject: String, event: ConsentEvent), Problem> {
        func fail(_ message: String) -> Result<(subject: String, event: ConsentEvent), Problem> {
            .failure(Problem(line: line, message: message))
        }
        if let unknown = values.keys.sorted().first(where: { !fields.contains($0) }) { return fail("unknown field '\(unknown)'") }
        func text(_ key: String) -> String? {
            if let string = values[key] as? String { return string }
            return nil
        }
        guard let subject = text("subject"), !subject.isEmpty else { return fail("'subject' is required") }
        guard let kindText = text("kind") else { return fail("'kind' is required") }
        guard let kind = ConsentEvent.Kind(rawValue: kindText) else {
            return fail("unknown kind '\(kindText)'; kinds are \(ConsentEvent.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let target = text("target"), !target.isEmpty else { return fail("'target' is required (the scope, purpose or flag)") }
        guard let occurredText = text("occurred_at") else { return fail("'occurred_at' is required") }
        guard let occurredAt = Timestamps.parse(occurredText) else {
            return fail("'occurred_at' is not an RFC 3339 timestamp: \(occurredText)")
        }
        var version: Int?
        if let raw = values["version"] {
            guard let number = (raw as? Int) ?? (raw as? Double).flatMap({ Int(exactly: $0) }) ?? (raw as? String).flatMap({ Int($0) }),
                (1...1_000_000).contains(number)
            else {
                return fail("'version' must be a whole number between 1 and 1000000")
            }
            guard kind == .grant else { return fail("'version' belongs to grants only") }
            version = number
        }
        var byGuardian = false
        if let raw = values["by_guardian"] {
            switch raw {
            case let flag as Bool: byGuardian = flag
            case let text as String where text == "true" || text == "false": byGuardian = text == "true"
            default: return fail("'by_guardian' must be true or false")
            }
        }
        var source = ConsentEvent.Source.import
        if let raw = values["source"] {
            guard let name = raw as? String, let parsed = ConsentEvent.Source(rawValue: name) else {
                return fail("'source' must be api, tcf, gpc or import")
            }
            source = parsed
        }
        var evidence = JSONValue.object([("file", .string(file)), ("line", .int(line))]).serialized()
        if let raw = values["evidence"] {
            if let object = raw as? [String: Any], let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                evidence = String(decoding: data, as: UTF8.self)
            } else if let string = raw as? String, let data = string.data(using: .utf8),
                (try? JSONSerialization.jsonObject(with: data)) is [String: Any]
            {
                evidence = string
            } else {
                return fail("'evidence' must be a JSON object")
            }
        }
        return .success(
            (
                subject,
                ConsentEvent(
                    kind: kind, target: target, version: version, byGuardian: byGuardian, source: source,
                    occurredAt: occurredAt, evidence: evidence)
            ))
    }
}

/// RFC 4180 cells of one line (no line breaks inside quotes: one record per line).
enum CSV {
    static func cells(_ line: Substring) -> [String]? {
        var cells: [String] = []
        var cell = ""
        var quoted = false
        var index = line.startIndex
        while index < line.endIndex {
            let character = line[index]
            if quoted {
                if character == "\"" {
                    let next = line.index(after: index)
                    if next < line.endIndex && line[next] == "\"" {
                        cell.append("\"")
                        index = next
                    } else {
                        quoted = false
                    }
                } else {
                    cell.append(character)
                }
            } else if character == "\"" && cell.isEmpty {
                quoted = true
            } else if character == "," {
                cells.append(cell)
                cell = ""
            } else {
                cell.append(character)
            }
            index = line.index(after: index)
        }
        guard !quoted else { return nil }
        cells.append(cell)
        return cells
    }
}
