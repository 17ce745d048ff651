import AccordCore
import ArgumentParser
import Foundation

/// `accord test`: run the PolicyTest documents of a policy set — cases, and properties proven over the
/// finite decision space.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the policy tests (PolicyTest documents): cases, and properties proven by enumerating every decision."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, junit, sarif, github
    }

    @Argument(help: "Policy files or folders, tests included (default: policies).")
    var paths: [String] = []

    @Option(name: .customLong("run"), help: "Only cases and properties whose name matches this regular expression.")
    var pattern: String?

    @Option(help: "Output format: text, json, junit, sarif or github.")
    var format: Format = .text

    @Flag(help: "Report which rules and conditions the cases exercised.")
    var coverage = false

    @Option(help: "Fail if coverage (rules exercised and condition outcomes seen, in percent) is below this.")
    var threshold: Double?

    func run() throws {
        let paths = self.paths.isEmpty ? ["policies"] : self.paths
        for path in paths where !FileManager.default.fileExists(atPath: path) {
            throw CommandFailure(code: .usage, message: "\(path): error: no such file or folder")
        }
        let only: Regex<AnyRegexOutput>?
        do { only = try pattern.map { try Regex($0) } } catch {
            throw CommandFailure(code: .usage, message: "--run: error: not a regular expression: \(error)")
        }
        let result = PolicySetValidator.validate(paths: paths)
        guard let set = result.policySet else {
            let renderer = DiagnosticRenderer(sources: result.sources)
            throw CommandFailure(
                code: .policyProblem,
                message: result.diagnostics.map { renderer.text($0) }.joined(separator: "\n")
                    + "policies or tests are invalid; nothing run")
        }
        let run = PolicyTestRunner.run(set, only: only)
        if run.cases.isEmpty && run.properties.isEmpty {
            throw CommandFailure(
                code: .policyProblem,
                message: "no test cases or properties\(pattern.map { " match '\($0)'" } ?? "") in \(paths.joined(separator: ", "))")
        }
        let belowThreshold = threshold.map { run.coverage.percent < $0 } ?? false
        switch format {
        case .text: print(text(run))
        case .json: print(json(run).serialized())
        case .junit: print(junit(run))
        case .sarif: print(CIReports.sarif(findings(run)).serialized())
        case .github:
            // Annotations for the first few, then the whole report: GitHub shows only some annotations.
            let annotations = CIReports.github(findings(run))
            if !annotations.isEmpty { print(annotations) }
            print(text(run))
        }
        if belowThreshold {
            writeError(String(format: "coverage %.1f%% is below the threshold of %.1f%%", run.coverage.percent, threshold!))
        }
        if run.failed > 0 || belowThreshold { throw ExitCode(AccordExit.policyProblem.rawValue) }
    }

    // MARK: Reports

    func text(_ run: PolicyTestRun) -> String {
        var lines: [String] = []
        for result in run.cases where !result.passed {
            lines.append("\(result.testCase.source): FAIL \(result.testCase.name)")
            for failure in result.failures { lines.append("    \(failure)") }
            lines.append("    - expected: \(expectation(result.testCase))")
            lines.append("    + actual:   \(actual(result))")
        }
        for property in run.properties {
            let result = property.result
            if result.proven {
                lines.append(
                    "proved: \(result.property.name) (\(result.pointsChecked) decisions, \(String(format: "%.2f", result.seconds)) s)")
            } else {
                lines.append(
                    "\(result.property.source): FAIL property \(result.property.name): \(result.counterexamples.count == 5 ? "at least 5" : "\(result.counterexamples.count)") counterexample(s)"
                )
                for example in result.counterexamples.prefix(3) {
                    let rules = example.decision.reasons.compactMap(\.rule).map { "\($0.id) (\($0.source))" }
                    lines.append("    permitted: \(example.request.json.serialized())")
                    lines.append(
                        "    by: \(rules.joined(separator: ", "))"
                            + (example.assumedConditions.isEmpty
                                ? "" : "; assuming the conditions of \(example.assumedConditions.joined(separator: ", ")) can hold"))
                }
            }
        }
        let passed = run.cases.filter(\.passed).count
        let proven = run.properties.filter(\.result.proven).count
        var summary = "\(passed)/\(run.cases.count) cases passed, \(proven)/\(run.properties.count) properties proved"
        if let space = run.space { summary += " over \(space.size) decisions" }
        lines.append(summary)
        if coverage || threshold != nil {
            let c = run.coverage
            lines.append(
                String(
                    format: "coverage: %.1f%% — rules %d/%d, condition outcomes %d/%d", c.percent, c.rulesExercised.count, c.rules.count,
                    c.conditionBranchesCovered, c.conditionBranches))
            let unexercised = c.rules.filter { !c.rulesExercised.contains($0) }
            if !unexercised.isEmpty { lines.append("  rules no case exercised: \(unexercised.joined(separator: ", "))") }
            let halfway = c.conditions.filter { !$0.value.true || !$0.value.false }.keys.sorted()
            for id in halfway {
                let seen = c.conditions[id]!
                lines.append("  condition of \(id) never found \(seen.true ? "false" : seen.false ? "true" : "true or false")")
            }
        }
        return lines.joined(separator: "\n")
    }

    func expectation(_ testCase: PolicyTestCase) -> String {
        var parts: [String] = []
        if let effect = testCase.effect { parts.append(effect.rawValue) }
        for resource in testCase.resources {
            var what: [String] = []
            if let effect = resource.effect { what.append(effect.rawValue) }
            if !resource.reasons.isEmpty { what.append("reasons \(resource.reasons.joined(separator: ","))") }
            if !resource.rules.isEmpty { what.append("rules \(resource.rules.joined(separator: ","))") }
            parts.append("\(resource.resource): \(what.joined(separator: " "))")
        }
        return parts.joined(separator: "; ")
    }

    func actual(_ result: PolicyTestRun.CaseResult) -> String {
        ([result.decision.effect.rawValue]
            + result.decision.resources.map { resource in
                let rules = resource.reasons.compactMap(\.rule?.id)
                return
                    "\(resource.resource): \(resource.effect.rawValue) reasons \(resource.reasons.map(\.code.rawValue).joined(separator: ","))"
                    + (rules.isEmpty ? "" : " rules \(rules.joined(separator: ","))")
            }).joined(separator: "; ")
    }

    func json(_ run: PolicyTestRun) -> JSONValue {
        let c = run.coverage
        return .object([
            ("passed", .bool(run.failed == 0)),
            (
                "cases",
                .array(
                    run.cases.map { result in
                        .object([
                            ("suite", .string(result.suite)), ("name", .string(result.testCase.name)),
                            ("location", .string(result.testCase.source.description)), ("passed", .bool(result.passed)),
                            ("failures", .array(result.failures.map(JSONValue.string))), ("decision", result.decision.json()),
                        ])
                    })
            ),
            (
                "properties",
                .array(
                    run.properties.map { property in
                        .object([
                            ("suite", .string(property.suite)), ("name", .string(property.result.property.name)),
                            ("location", .string(property.result.property.source.description)), ("proven", .bool(property.result.proven)),
                            ("decisions_checked", .int(property.result.pointsChecked)), ("seconds", .double(property.result.seconds)),
                            (
                                "counterexamples",
                                .array(
                                    property.result.counterexamples.map { example in
                                        .object([
                                            ("request", example.request.json),
                                            ("rules", .array(example.decision.reasons.compactMap(\.rule?.id).map(JSONValue.string))),
                                            ("assumed_conditions", .array(example.assumedConditions.map(JSONValue.string))),
                                        ])
                                    })
                            ),
                        ])
                    })
            ),
            (
                "coverage",
                .object([
                    ("percent", .double((c.percent * 10).rounded() / 10)), ("rules", .int(c.rules.count)),
                    ("rules_exercised", .int(c.rulesExercised.count)),
                    ("rules_not_exercised", .array(c.rules.filter { !c.rulesExercised.contains($0) }.map(JSONValue.string))),
                    ("condition_outcomes", .int(c.conditionBranches)), ("condition_outcomes_seen", .int(c.conditionBranchesCovered)),
                ])
            ),
        ])
    }

    /// JUnit XML: a test suite per PolicyTest document, a test case per case and per property.
    func junit(_ run: PolicyTestRun) -> String {
        var suites: [String: [String]] = [:]
        var counts: [String: (tests: Int, failures: Int, time: Double)] = [:]
        for result in run.cases {
            var element =
                "    <testcase classname=\"\(CIReports.xml(result.suite))\" name=\"\(CIReports.xml(result.testCase.name))\" time=\"\(String(format: "%.6f", result.seconds))\" file=\"\(CIReports.xml(CIReports.relative(result.testCase.source.file)))\" line=\"\(result.testCase.source.start.line)\""
            if result.passed {
                element += "/>"
            } else {
                element +=
                    ">\n      <failure message=\"\(CIReports.xml(result.failures.first ?? ""))\">\(CIReports.xml(result.failures.joined(separator: "\n") + "\n- expected: \(expectation(result.testCase))\n+ actual:   \(actual(result))"))</failure>\n    </testcase>"
            }
            suites[result.suite, default: []].append(element)
            counts[result.suite, default: (0, 0, 0)].tests += 1
            counts[result.suite, default: (0, 0, 0)].failures += result.passed ? 0 : 1
            counts[result.suite, default: (0, 0, 0)].time += result.seconds
        }
        for property in run.properties {
            let result = property.result
            var element =
                "    <testcase classname=\"\(CIReports.xml(property.suite)).properties\" name=\"\(CIReports.xml(result.property.name))\" time=\"\(String(format: "%.6f", result.seconds))\" file=\"\(CIReports.xml(CIReports.relative(result.property.source.file)))\" line=\"\(result.property.source.start.line)\""
            if result.proven {
                element += "/>"
            } else {
                let examples = result.counterexamples.map { $0.request.json.serialized() }.joined(separator: "\n")
                element += ">\n      <failure message=\"counterexample found\">\(CIReports.xml(examples))</failure>\n    </testcase>"
            }
            suites[property.suite, default: []].append(element)
            counts[property.suite, default: (0, 0, 0)].tests += 1
            counts[property.suite, default: (0, 0, 0)].failures += result.proven ? 0 : 1
            counts[property.suite, default: (0, 0, 0)].time += result.seconds
        }
        let total = counts.values.reduce((0, 0, 0.0)) { ($0.0 + $1.tests, $0.1 + $1.failures, $0.2 + $1.time) }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml +=
            "<testsuites name=\"accord test\" tests=\"\(total.0)\" failures=\"\(total.1)\" time=\"\(String(format: "%.6f", total.2))\">\n"
        for name in suites.keys.sorted() {
            let count = counts[name]!
            xml +=
                "  <testsuite name=\"\(CIReports.xml(name))\" tests=\"\(count.tests)\" failures=\"\(count.failures)\" errors=\"0\" skipped=\"0\" time=\"\(String(format: "%.6f", count.time))\">\n"
            xml += suites[name]!.joined(separator: "\n") + "\n  </testsuite>\n"
        }
        return xml + "</testsuites>"
    }

    func findings(_ run: PolicyTestRun) -> [Finding] {
        run.cases.filter { !$0.passed }.map { result in
            Finding(
                ruleID: "accord-test-case", level: .error,
                message: "test case '\(result.testCase.name)' failed: \(result.failures.joined(separator: "; "))",
                range: result.testCase.source, ruleDescription: "A policy test case whose decision is not what it expects")
        }
            + run.properties.filter { !$0.result.proven }.map { property in
                let example = property.result.counterexamples[0]
                return Finding(
                    ruleID: "accord-test-property", level: .error,
                    message: "property '\(property.result.property.name)' does not hold: \(example.request.json.serialized()) is permitted",
                    range: property.result.property.source, ruleDescription: "A policy property with a counterexample")
            }
    }
}
