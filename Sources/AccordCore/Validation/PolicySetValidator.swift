import Foundation

/// The outcome of validating a policy set: the model when there are no errors, and every diagnostic,
/// sorted by file and position.
public struct ValidationResult: Sendable {
    public var policySet: PolicySet?
    public var diagnostics: [Diagnostic]
    public var sources: [String: SourceFile]

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

/// Reads and validates a policy set — files or folders of YAML — into a `PolicySet`, collecting every
/// problem rather than stopping at the first.
public enum PolicySetValidator {
    /// The document kinds of `accord/v1`, in the order they are validated (each refers only to earlier ones).
    public static let kinds = ["Taxonomy", "ConsentScopes", "Catalog", "Jurisdiction", "Policy", "Entities", "PolicyTest"]
    public static let apiVersion = "accord/v1"

    /// Validates the YAML files at `paths`; folders are searched recursively for `.yaml` and `.yml` files.
    public static func validate(paths: [String], limits: YAMLLimits = .standard) -> ValidationResult {
        var files: [(String, [UInt8])] = []
        var unreadable: [Diagnostic] = []
        // The revision hashes each file under its path relative to the folder given (or its own name), so
        // `policies`, `./policies` and an absolute path give the same revision.
        var revisionNames: [String: String] = [:]
        for (rootIndex, path) in paths.enumerated() {
            switch PolicyFiles.list(path) {
            case .success(let list):
                for file in list {
                    let relative =
                        file == path
                        ? String(file.split(separator: "/").last ?? Substring(file))
                        : String(file.dropFirst(path.hasSuffix("/") ? path.count : path.count + 1))
                    // With several roots, the root's position keeps `a/t.yaml` and `b/t.yaml` apart.
                    revisionNames[file] = paths.count == 1 ? relative : "\(rootIndex)/\(relative)"
                    if let data = FileManager.default.contents(atPath: file) {
                        files.append((file, [UInt8](data)))
                    } else {
                        unreadable.append(Diagnostic(.unreadableFile, "cannot read file", at: SourceRange(file: file, line: 1, column: 1)))
                    }
                }
            case .failure(let diagnostic):
                unreadable.append(diagnostic)
            }
        }
        var result = validate(files: files, limits: limits)
        if let sources = result.policySet?.sources {
            result.policySet?.sources = Dictionary(
                sources.map { (revisionNames[$0.key] ?? $0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        }
        result.diagnostics = (result.diagnostics + unreadable).sorted()
        if !unreadable.isEmpty { result.policySet = nil }
        return result
    }

    /// Validates in-memory files, each named by its path.
    public static func validate(files: [(path: String, bytes: [UInt8])], limits: YAMLLimits = .standard) -> ValidationResult {
        var session = ValidationSession()
        let reader = YAMLReader(limits: limits)
        var documents: [(kind: String, root: SyntaxNode, header: FieldReader)] = []
        var testOnly: Set<String> = []
        var sources: [String: SourceFile] = [:]
        for (path, bytes) in files.sorted(by: { $0.path < $1.path }) {
            let output = reader.read(bytes: bytes, file: path)
            if let source = output.source {
                sources[path] = source
                session.sources[path] = source
                session.set.sources[path] = source.text
            }
            session.bag.append(contentsOf: output.diagnostics)
            var kindsHere: Set<String> = []
            for document in output.documents {
                if let (kind, header) = session.readHeader(document.root) {
                    documents.append((kind, document.root, header))
                    kindsHere.insert(kind)
                }
            }
            // A file of tests only is not policy: it does not change the revision.
            if kindsHere == ["PolicyTest"] { testOnly.insert(path) }
        }
        for kind in kinds {
            for document in documents where document.kind == kind {
                session.read(kind: kind, document.root, header: document.header)
            }
            if kind == "Taxonomy" { session.checkVocabulary() }
            if kind == "Jurisdiction" { session.checkJurisdictions() }
        }
        for path in testOnly { session.set.sources[path] = nil }
        var diagnostics = session.bag.sorted
        let failed = diagnostics.contains { $0.severity == .error }
        if !failed { diagnostics = (diagnostics + PolicyLint.check(session.set)).sorted() }
        return ValidationResult(policySet: failed ? nil : session.set, diagnostics: diagnostics, sources: sources)
    }
}

/// The policy files under a path.
public enum PolicyFiles {
    public static func list(_ path: String) -> Result<[String], Diagnostic> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return .failure(Diagnostic(.unreadableFile, "no such file or folder", at: SourceRange(file: path, line: 1, column: 1)))
        }
        guard isDirectory.boolValue else { return .success([path]) }
        guard let enumerator = FileManager.default.enumerator(atPath: path) else {
            return .failure(Diagnostic(.unreadableFile, "cannot list folder", at: SourceRange(file: path, line: 1, column: 1)))
        }
        var files: [String] = []
        while let item = enumerator.nextObject() as? String {
            let lower = item.lowercased()
            if lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") {
                let full = path.hasSuffix("/") ? path + item : path + "/" + item
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue { files.append(full) }
            }
        }
        if files.isEmpty {
            return .failure(
                Diagnostic(
                    .unreadableFile, "no policy files (.yaml or .yml) in this folder",
                    at: SourceRange(file: path, line: 1, column: 1)))
        }
        return .success(files.sorted())
    }
}
