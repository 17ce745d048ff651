/// The catalog of diagnostic codes, sorted by code. A code is stable: once released it keeps its
/// meaning, and a retired code is never reused. `docs/diagnostics.md` lists them for users.
public enum DiagnosticCode: String, Sendable, Codable, CaseIterable, Hashable {
    // MARK: - A00xx: reading the file
    /// The file or folder cannot be read.
    case unreadableFile = "A0001"
    /// The file is not valid UTF-8.
    case invalidUTF8 = "A0002"
    /// The file contains a NUL byte or another control character YAML forbids.
    case controlCharacter = "A0003"
    /// The file is larger than a policy file can reasonably be.
    case fileTooLarge = "A0004"
    /// The YAML itself is malformed.
    case yamlSyntax = "A0005"
    /// Anchors and aliases are refused: policies have no use for them and they enable alias bombs.
    case anchorOrAlias = "A0006"
    /// Explicit tags (`!foo`, `!!str`) are refused.
    case customTag = "A0007"
    /// Nesting deeper than policies ever need.
    case nestingTooDeep = "A0008"
    /// A single scalar larger than policies ever need.
    case scalarTooLarge = "A0009"
    /// YAML merge keys (`<<`) are refused.
    case mergeKey = "A0010"
    /// A mapping key that is a list or a mapping.
    case complexKey = "A0011"
    /// The same key twice in one mapping.
    case duplicateKey = "A0012"
    /// A document that is not a mapping.
    case documentNotMapping = "A0013"
    /// Too many YAML nodes in one file.
    case tooManyNodes = "A0014"
    /// A file with no document: empty, only comments, or only document markers (a truncated deploy).
    case emptyFile = "A0015"

    // MARK: - A01xx: document shape
    /// `apiVersion` missing.
    case missingAPIVersion = "A0101"
    /// `apiVersion` is not `accord/v1`.
    case unsupportedAPIVersion = "A0102"
    /// `kind` missing or not one Accord knows.
    case unknownKind = "A0103"
    /// A key the schema does not have.
    case unknownKey = "A0104"
    /// A required key is missing.
    case missingKey = "A0105"
    /// A value of the wrong type.
    case wrongType = "A0106"
    /// A YAML 1.1 boolean spelling (`yes`, `no`, `on`, `off`, `y`, `n`) where a value is expected.
    case yaml11Boolean = "A0107"
    /// A YAML 1.1 number spelling (`1_000`, octal `010`/`0o10`, sexagesimal `1:30`, hex, `.inf`).
    case yaml11Number = "A0108"
    /// A value outside the allowed set.
    case invalidValue = "A0109"
    /// A list that must not be empty is empty.
    case emptyList = "A0110"
    /// A number outside its allowed range.
    case numberOutOfRange = "A0111"
    /// A key that belongs at another level (a `when:` nested under `obligations:`).
    case misplacedKey = "A0112"

    // MARK: - A02xx: names and references
    /// A name that is not a dotted lowercase identifier.
    case invalidName = "A0201"
    /// A category, purpose, feature, scope or jurisdiction defined twice.
    case duplicateDefinition = "A0202"
    /// Two rules with the same id.
    case duplicateRuleID = "A0203"
    /// A reference to a data category that is not in the taxonomy.
    case unknownCategory = "A0210"
    /// A pattern that matches nothing declared.
    case patternMatchesNothing = "A0211"
    /// A reference to a purpose that is not in the taxonomy.
    case unknownPurpose = "A0212"
    /// A reference to a consent scope that is not declared.
    case unknownScope = "A0213"
    /// A reference to a jurisdiction that is not declared.
    case unknownJurisdiction = "A0214"
    /// An action Accord does not know.
    case unknownAction = "A0215"
    /// A reference to an entity type that is not declared.
    case unknownEntityType = "A0216"
    /// Entity data naming an attribute its type does not declare.
    case unknownAttribute = "A0217"
    /// `extends` forms a cycle.
    case extendsCycle = "A0220"
    /// No jurisdiction, or more than one, is marked as the fallback.
    case fallbackJurisdiction = "A0221"
    /// One attribute name declared with two types.
    case attributeTypeConflict = "A0222"

    // MARK: - A03xx: values
    /// A duration without a unit (`30` instead of `30d`).
    case durationWithoutUnit = "A0301"
    /// A duration that does not parse.
    case malformedDuration = "A0302"
    /// A duration that is zero, negative or longer than 100 years.
    case durationOutOfRange = "A0303"

    // MARK: - A04xx: conditions
    /// A condition that does not parse.
    case conditionSyntax = "A0401"
    /// A condition naming an attribute the request schema does not have.
    case conditionUnknownAttribute = "A0402"
    /// A condition whose operands have the wrong types.
    case conditionType = "A0403"
    /// A call to an unknown function or with the wrong number of arguments.
    case conditionFunction = "A0404"
    /// A condition longer or deeper than conditions need to be.
    case conditionTooComplex = "A0405"
    /// A condition that is not boolean.
    case conditionNotBoolean = "A0406"

    // A05xx: PolicyTest documents.
    /// A test case whose request cannot be read.
    case invalidTestRequest = "A0501"
    /// A test case with no expectation: it could never fail.
    case caseExpectsNothing = "A0502"

    // A06xx: warnings about valid policies (`accord validate`; `--deny-warnings` fails on them).
    /// A permit rule that unconditional forbid rules override everywhere.
    case permitNeverApplies = "A0601"
    /// A purpose no permit rule serves.
    case purposeNeverPermitted = "A0602"
    /// A catalog category no rule lets any purpose read.
    case categoryNeverRead = "A0603"
    /// A catalog category without a retention limit.
    case noRetention = "A0604"
    /// A consent scope no jurisdiction lets carry consent for any purpose.
    case scopeCoversNoPurpose = "A0605"
    /// A rule that says exactly what another says.
    case duplicateRule = "A0606"
    /// A sensitive category permitted where no scope offers explicit consent for it.
    case sensitiveWithoutExplicitConsent = "A0607"
    /// A profiling purpose based on legitimate interest.
    case profilingOnLegitimateInterest = "A0608"
}

extension DiagnosticCode {
    /// One line saying what the code is about (for SARIF rule tables and listings).
    public var summary: String {
        switch self {
        case .unreadableFile: "The file or folder cannot be read"
        case .invalidUTF8: "The file is not valid UTF-8"
        case .controlCharacter: "The file contains a NUL byte or another control character YAML forbids"
        case .fileTooLarge: "The file is larger than a policy file can reasonably be"
        case .yamlSyntax: "The YAML itself is malformed"
        case .anchorOrAlias: "Anchors and aliases are refused: policies have no use for them and they enable alias bombs"
        case .customTag: "Explicit tags (`!foo`, `!!str`) are refused"
        case .nestingTooDeep: "Nesting deeper than policies ever need"
        case .scalarTooLarge: "A single scalar larger than policies ever need"
        case .mergeKey: "YAML merge keys (`<<`) are refused"
        case .complexKey: "A mapping key that is a list or a mapping"
        case .duplicateKey: "The same key twice in one mapping"
        case .documentNotMapping: "A document that is not a mapping"
        case .tooManyNodes: "Too many YAML nodes in one file"
        case .emptyFile: "An empty policy file: no document, only comments or document markers"
        case .missingAPIVersion: "`apiVersion` missing"
        case .unsupportedAPIVersion: "`apiVersion` is not `accord/v1`"
        case .unknownKind: "`kind` missing or not one Accord knows"
        case .unknownKey: "A key the schema does not have"
        case .missingKey: "A required key is missing"
        case .wrongType: "A value of the wrong type"
        case .yaml11Boolean: "A YAML 1.1 boolean spelling (`yes`, `no`, `on`, `off`, `y`, `n`) where a value is expected"
        case .yaml11Number: "A YAML 1.1 number spelling (`1_000`, octal `010`/`0o10`, sexagesimal `1:30`, hex, `.inf`)"
        case .invalidValue: "A value outside the allowed set"
        case .emptyList: "A list that must not be empty is empty"
        case .numberOutOfRange: "A number outside its allowed range"
        case .misplacedKey: "A key that belongs at another level (a `when:` nested under `obligations:`)"
        case .invalidName: "A name that is not a dotted lowercase identifier"
        case .duplicateDefinition: "A category, purpose, feature, scope or jurisdiction defined twice"
        case .duplicateRuleID: "Two rules with the same id"
        case .unknownCategory: "A reference to a data category that is not in the taxonomy"
        case .patternMatchesNothing: "A pattern that matches nothing declared"
        case .unknownPurpose: "A reference to a purpose that is not in the taxonomy"
        case .unknownScope: "A reference to a consent scope that is not declared"
        case .unknownJurisdiction: "A reference to a jurisdiction that is not declared"
        case .unknownAction: "An action Accord does not know"
        case .unknownEntityType: "A reference to an entity type that is not declared"
        case .unknownAttribute: "Entity data naming an attribute its type does not declare"
        case .attributeTypeConflict: "One attribute name declared with two types"
        case .extendsCycle: "`extends` forms a cycle"
        case .fallbackJurisdiction: "No jurisdiction, or more than one, is marked as the fallback"
        case .durationWithoutUnit: "A duration without a unit (`30` instead of `30d`)"
        case .malformedDuration: "A duration that does not parse"
        case .durationOutOfRange: "A duration that is zero, negative or longer than 100 years"
        case .conditionSyntax: "A condition that does not parse"
        case .conditionUnknownAttribute: "A condition naming an attribute the request schema does not have"
        case .conditionType: "A condition whose operands have the wrong types"
        case .conditionFunction: "A call to an unknown function or with the wrong number of arguments"
        case .conditionTooComplex: "A condition longer or deeper than conditions need to be"
        case .conditionNotBoolean: "A condition that is not boolean"
        case .invalidTestRequest: "A test case whose request cannot be read"
        case .caseExpectsNothing: "A test case with no expectation: it could never fail"
        case .permitNeverApplies: "A permit rule that unconditional forbid rules override everywhere"
        case .purposeNeverPermitted: "A purpose no permit rule serves"
        case .categoryNeverRead: "A catalog category no rule lets any purpose read"
        case .noRetention: "A catalog category without a retention limit"
        case .scopeCoversNoPurpose: "A consent scope no jurisdiction lets carry consent for any purpose"
        case .duplicateRule: "A rule that says exactly what another says"
        case .sensitiveWithoutExplicitConsent: "A sensitive category permitted where no scope offers explicit consent for it"
        case .profilingOnLegitimateInterest: "A profiling purpose based on legitimate interest"
        }
    }
}
