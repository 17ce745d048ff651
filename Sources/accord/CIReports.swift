import AccordCore
import Foundation

/// One finding for a CI system: a diagnostic, a failing test case, an unproven property.
struct Finding {
    var ruleID: String
    var level: Severity
    var message: String
    var range: SourceRange
    /// A one-line description of the rule, for SARIF's rule table.
    var ruleDescription: String
}

extension Finding {
    init(_ diagnostic: Diagnostic) {
        self.init(
            ruleID: diagnostic.code.rawValue, level: diagnostic.severity,
            message: diagnostic.message + (diagnostic.help.map { " (help: \($0))" } ?? ""), range: diagnostic.range,
            ruleDescription: diagnostic.code.summary)
    }
}

enum CIReports {
    /// SARIF 2.1.0, as GitHub code scanning accepts it: one run, the tool's rules, a result per finding.
    static func sarif(_ findings: [Finding]) -> JSONValue {
        var rules: [String: String] = [:]
        for finding in findings { rules[finding.ruleID] = finding.ruleDescription }
        let ruleIDs = rules.keys.sorted()
        let results: [JSONValue] = findings.map { finding in
            .object([
                ("ruleId", .string(finding.ruleID)),
                ("ruleIndex", .int(ruleIDs.firstIndex(of: finding.ruleID)!)),
                ("level", .string(finding.level == .error ? "error" : finding.level == .warning ? "warning" : "note")),
                ("message", .object([("text", .string(finding.message))])),
                (
                    "locations",
                    .array([
                        .object([
                            (
                                "physicalLocation",
                                .object([
                                    ("artifactLocation", .object([("uri", .string(relative(finding.range.file)))])),
                                    (
                                        "region",
                                        .object([
                                            ("startLine", .int(max(1, finding.range.start.line))),
                                            ("startColumn", .int(max(1, finding.range.start.column))),
                                        ])
                                    ),
                                ])
                            )
                        ])
                    ])
                ),
            ])
        }
        return .object([
            ("$schema", .string("https://json.schemastore.org/sarif-2.1.0.json")),
            ("version", .string("2.1.0")),
            (
                "runs",
                .array([
                    .object([
                        (
                            "tool",
                            .object([
                                (
                                    "driver",
                                    .object([
                                        ("name", .string("accord")),
                                        ("informationUri", .string("https://github.com/accord-policy/accord")),
                                        (
                                            "rules",
                                            .array(
                                                ruleIDs.map { id in
                                                    .object([
                                                        ("id", .string(id)), ("shortDescription", .object([("text", .string(rules[id]!))])),
                                                        (
                                                            "helpUri",
                                                            .string("https://github.com/accord-policy/accord/blob/main/docs/diagnostics.md")
                                                        ),
                                                    ])
                                                })
                                        ),
                                    ])
                                )
                            ])
                        ),
                        ("results", .array(results)),
                    ])
                ])
            ),
        ])
    }

    /// GitHub Actions workflow commands: one annotation per finding (GitHub shows the first few).
    static func github(_ findings: [Finding]) -> String {
        findings.map { finding in
            let command = finding.level == .error ? "error" : finding.level == .warning ? "warning" : "notice"
            return
                "::\(command) file=\(property(relative(finding.range.file))),line=\(finding.range.start.line),col=\(finding.range.start.column),"
                + "title=\(property(finding.ruleID))::\(data(finding.message))"
        }.joined(separator: "\n")
    }

    /// A path as CI systems want it: relative to the working directory when inside it.
    static func relative(_ path: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        return path.hasPrefix(cwd) ? String(path.dropFirst(cwd.count)) : path
    }

    /// GitHub's escaping of a workflow command's message: `%`, CR and LF (so that text from a policy file cannot end
    /// the command and start another); other control characters escaped as in text output.
    private static func data(_ text: String) -> String {
        text.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D").replacingOccurrences(
            of: "\n", with: "%0A"
        )
        .escapingControlCharacters
    }

    private static func property(_ text: String) -> String {
        data(text).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
    }

    static func xml(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n", "\t", "\r": out.unicodeScalars.append(scalar)
            // Characters XML 1.0 cannot hold at all.
            case _ where scalar.value < 0x20: out += "?"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
