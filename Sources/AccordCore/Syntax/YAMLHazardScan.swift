internal import CLibYAML

/// A streaming pass over libyaml's events that refuses what policies never need — anchors, aliases,
/// explicit tags, merge keys, complex keys, duplicate keys, deep nesting, huge scalars — before any tree
/// is built. Alias bombs and deep nesting are stopped at the first offending event, so hostile input costs
/// time proportional to its size, not to its expansion.
struct YAMLHazardScan {
    let file: String
    let limits: YAMLLimits

    private struct Frame {
        var isMapping: Bool
        var expectingKey = true
        var keys: [String: SourceLocation] = [:]
    }

    /// Every hazard found, or a single syntax error if libyaml rejects the text.
    func scan(_ bytes: [UInt8]) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            return [Diagnostic(.yamlSyntax, "the YAML parser could not start", at: range(1, 1))]
        }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)

        return bytes.withUnsafeBufferPointer { buffer -> [Diagnostic] in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var stack: [Frame] = []
            var nodes = 0
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    diagnostics.append(syntaxError(parser, inputLength: bytes.count))
                    return diagnostics
                }
                defer { yaml_event_delete(&event) }
                let at = location(event.start_mark)
                let type = event.type
                if type == YAML_STREAM_END_EVENT { return diagnostics }
                if diagnostics.count >= 100 { return diagnostics }

                switch type {
                case YAML_ALIAS_EVENT:
                    diagnostics.append(
                        Diagnostic(
                            .anchorOrAlias, "aliases are not allowed in policy files",
                            at: range(at), help: "write the value out in full; policies have no use for anchors and aliases"))
                    noteValue(&stack)
                case YAML_SCALAR_EVENT:
                    nodes += 1
                    if !scalar(event, at: at, &stack, into: &diagnostics) { return diagnostics }
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    nodes += 1
                    if !collectionStart(event, at: at, &stack, into: &diagnostics) { return diagnostics }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    _ = stack.popLast()
                    noteValue(&stack)
                default:
                    break
                }
                if nodes > limits.maxNodes {
                    diagnostics.append(Diagnostic(.tooManyNodes, "more than \(limits.maxNodes) YAML nodes", at: range(at)))
                    return diagnostics
                }
            }
        }
    }

    /// A scalar: no anchor, no tag, within the size limit, and — as a mapping key — neither `<<` nor a key seen
    /// before in its mapping. Returns false when scanning must stop.
    private func scalar(_ event: yaml_event_t, at: SourceLocation, _ stack: inout [Frame], into diagnostics: inout [Diagnostic]) -> Bool {
        let scalar = event.data.scalar
        if scalar.anchor != nil { diagnostics.append(anchorDiagnostic(at)) }
        if scalar.tag != nil { diagnostics.append(tagDiagnostic(scalar.tag, at)) }
        if scalar.length > limits.maxScalarBytes {
            diagnostics.append(
                Diagnostic(
                    .scalarTooLarge, "a scalar of \(scalar.length) bytes exceeds the limit of \(limits.maxScalarBytes)", at: range(at)))
            return false
        }
        if let top = stack.last, top.isMapping, top.expectingKey {
            let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            if scalar.style == YAML_PLAIN_SCALAR_STYLE && text == "<<" {
                diagnostics.append(
                    Diagnostic(
                        .mergeKey, "merge keys ('<<') are not allowed in policy files", at: range(at, length: 2),
                        help: "write the keys out in full"))
            } else if let first = stack[stack.count - 1].keys[text] {
                diagnostics.append(
                    Diagnostic(
                        .duplicateKey, "duplicate key '\(text)'", at: range(at, length: max(1, text.count)),
                        notes: ["first defined at \(file):\(first)"]))
            } else {
                stack[stack.count - 1].keys[text] = at
            }
        }
        noteValue(&stack)
        return true
    }

    /// The start of a mapping or a list: no anchor, no explicit tag, not a mapping key, within the depth limit.
    /// Returns false when scanning must stop.
    private func collectionStart(
        _ event: yaml_event_t, at: SourceLocation, _ stack: inout [Frame], into diagnostics: inout [Diagnostic]
    ) -> Bool {
        let isMapping = event.type == YAML_MAPPING_START_EVENT
        let anchor = isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor
        let tag = isMapping ? event.data.mapping_start.tag : event.data.sequence_start.tag
        let implicit = isMapping ? event.data.mapping_start.implicit : event.data.sequence_start.implicit
        if anchor != nil { diagnostics.append(anchorDiagnostic(at)) }
        if tag != nil && implicit == 0 { diagnostics.append(tagDiagnostic(tag, at)) }
        if let top = stack.last, top.isMapping, top.expectingKey {
            diagnostics.append(
                Diagnostic(.complexKey, "a mapping key must be a plain name, not a \(isMapping ? "mapping" : "list")", at: range(at)))
        }
        stack.append(Frame(isMapping: isMapping))
        if stack.count > limits.maxDepth {
            diagnostics.append(Diagnostic(.nestingTooDeep, "nesting deeper than \(limits.maxDepth) levels", at: range(at)))
            return false
        }
        return true
    }

    /// After a complete node, a mapping alternates between expecting a key and a value.
    private func noteValue(_ stack: inout [Frame]) {
        guard !stack.isEmpty, stack[stack.count - 1].isMapping else { return }
        stack[stack.count - 1].expectingKey.toggle()
    }

    private func anchorDiagnostic(_ at: SourceLocation) -> Diagnostic {
        Diagnostic(
            .anchorOrAlias, "anchors are not allowed in policy files", at: range(at),
            help: "write the value out in full; policies have no use for anchors and aliases")
    }

    private func tagDiagnostic(_ tag: UnsafeMutablePointer<yaml_char_t>?, _ at: SourceLocation) -> Diagnostic {
        let name = tag.map { String(cString: $0) } ?? "?"
        return Diagnostic(
            .customTag, "explicit YAML tags are not allowed ('\(name)')", at: range(at),
            help: "remove the tag; a condition starting with '!' must be quoted, e.g. when: \"!has(subject.age)\"")
    }

    private func syntaxError(_ parser: yaml_parser_t, inputLength: Int) -> Diagnostic {
        let problem = parser.problem.map { String(cString: $0) } ?? "malformed YAML"
        let context = parser.context.map { String(cString: $0) }
        if problem.contains("Maximum nesting level") {
            return Diagnostic(.nestingTooDeep, "nesting too deep", at: range(location(parser.problem_mark)))
        }
        // An unclosed list, mapping or quote is reported where it was opened, not where the parser gave up.
        if let context, Int(parser.problem_mark.index) >= inputLength - 1 || context.contains("flow") || context.contains("quoted") {
            return Diagnostic(
                .yamlSyntax, "invalid YAML: \(problem) \(context)", at: range(location(parser.context_mark)),
                notes: ["the file ended at \(file):\(location(parser.problem_mark))"])
        }
        let message = context.map { "\(problem) \($0)" } ?? problem
        return Diagnostic(.yamlSyntax, "invalid YAML: \(message)", at: range(location(parser.problem_mark)))
    }

    private func location(_ mark: yaml_mark_t) -> SourceLocation {
        SourceLocation(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    private func range(_ line: Int, _ column: Int) -> SourceRange {
        SourceRange(file: file, line: line, column: column)
    }

    private func range(_ at: SourceLocation, length: Int = 1) -> SourceRange {
        SourceRange(file: file, start: at, length: length)
    }
}
