import Foundation

/// A policy set compiled for deciding: names interned, rule applicability held as bitsets, legal bases,
/// retention limits and jurisdiction settings resolved into tables. Immutable and safe from any thread;
/// compile once, evaluate many. A class, so handing a plan around never copies its tables.
public final class DecisionPlan: Sendable {
    /// A content hash of the policy text: the same files give the same revision.
    public let revision: String

    // MARK: Names
    let categoryIndex: NameTable
    let categoryNames: [String]
    let purposeIndex: NameTable
    let purposeNames: [String]
    let featureIndex: NameTable
    let features: [CompiledFeature]
    let scopeNames: [String]
    let scopeIndex: NameTable
    let scopes: [CompiledScope]
    let jurisdictionIndex: NameTable
    let jurisdictions: [CompiledJurisdiction]
    let fallbackJurisdiction: Int?

    // MARK: Rules as bitsets (one bit per rule, `words` 64-bit words per row)
    let rules: [CompiledRule]
    let words: Int
    let purposeRuleBits: [UInt64]
    let actionRuleBits: [UInt64]
    let jurisdictionRuleBits: [UInt64]
    let categoryRuleBits: [UInt64]

    // MARK: Privacy tables
    /// Per purpose: scopes whose purposes cover it.
    let scopesCoveringPurpose: [[Int]]
    /// Per category: scopes giving explicit consent for it.
    let scopesExplicitForCategory: [[Int]]
    /// Per purpose × category: the shortest retention limit in seconds, or nil.
    let retentionLimit: [Int64?]
    /// The same limits spelled as durations, for reasons.
    let retentionLimitText: [String?]
    /// Per jurisdiction × purpose.
    let jurisdictionPurpose: [CompiledJurisdictionPurpose]
    let purposeFlags: [(profiling: Bool, saleOrShare: Bool)]
    /// Per category: the sensitive categories in its subtree.
    let sensitiveBelow: [[Int]]
    /// Per jurisdiction × feature: whether the feature's storage region is allowed.
    let storageAllowed: [Bool]
    /// Every region named by a jurisdiction.
    let regionIndex: NameTable
    /// Per scope: the shared `basis.consent` grant note.
    let consentGrantReasons: [[Reason]]

    // MARK: Open vocabulary
    /// Every action (built-in and declared), numbered as `actionRuleBits` rows.
    let actionIndex: NameTable
    let actionNames: [String]
    /// Entity types, with the category a resource of each holds (-1: none, it cannot be a resource).
    let entityTypeIndex: NameTable
    let entityTypeCategory: [Int]
    /// Entity data by `Entity.key(type:id:)`, each value of its declared type, with the type of a subject sent
    /// without one.
    let entities: EntitySource
    var dataSubjectType: String? { entities.dataSubjectType }

    /// The validated policy set this plan was compiled from.
    public let policySet: PolicySet
    /// Whether any rule's condition reads `resource.age`: if none does, a resource's age matters only for
    /// retention (and data from the future), and resources of one feature can share a decision.
    let rulesReadResourceAge: Bool
    /// Whether any rule's condition reads a declared attribute (`*.properties.<name>`): if none does, the properties a
    /// request sends change no decision, and a mapping (AuthZEN's) need not carry them.
    public let rulesReadProperties: Bool

    init(
        revision: String,
        categoryIndex: NameTable,
        categoryNames: [String],
        purposeIndex: NameTable,
        purposeNames: [String],
        featureIndex: NameTable,
        features: [CompiledFeature],
        scopeNames: [String],
        scopeIndex: NameTable,
        scopes: [CompiledScope],
        jurisdictionIndex: NameTable,
        jurisdictions: [CompiledJurisdiction],
        fallbackJurisdiction: Int?,
        rules: [CompiledRule],
        words: Int,
        purposeRuleBits: [UInt64],
        actionRuleBits: [UInt64],
        jurisdictionRuleBits: [UInt64],
        categoryRuleBits: [UInt64],
        scopesCoveringPurpose: [[Int]],
        scopesExplicitForCategory: [[Int]],
        retentionLimit: [Int64?],
        retentionLimitText: [String?],
        jurisdictionPurpose: [CompiledJurisdictionPurpose],
        purposeFlags: [(profiling: Bool, saleOrShare: Bool)],
        sensitiveBelow: [[Int]],
        storageAllowed: [Bool],
        regionIndex: NameTable,
        consentGrantReasons: [[Reason]],
        actionIndex: NameTable,
        actionNames: [String],
        entityTypeIndex: NameTable,
        entityTypeCategory: [Int],
        entityIndex: NameTable,
        entityData: [[String: ConditionValue]],
        dataSubjectType: String?,
        policySet: PolicySet
    ) {
        self.revision = revision
        self.categoryIndex = categoryIndex
        self.categoryNames = categoryNames
        self.purposeIndex = purposeIndex
        self.purposeNames = purposeNames
        self.featureIndex = featureIndex
        self.features = features
        self.scopeNames = scopeNames
        self.scopeIndex = scopeIndex
        self.scopes = scopes
        self.jurisdictionIndex = jurisdictionIndex
        self.jurisdictions = jurisdictions
        self.fallbackJurisdiction = fallbackJurisdiction
        self.rules = rules
        self.rulesReadResourceAge = rules.contains { $0.reads.contains(.resourceAge) }
        self.rulesReadProperties = rules.contains(where: \.readsProperties)
        self.words = words
        self.purposeRuleBits = purposeRuleBits
        self.actionRuleBits = actionRuleBits
        self.jurisdictionRuleBits = jurisdictionRuleBits
        self.categoryRuleBits = categoryRuleBits
        self.scopesCoveringPurpose = scopesCoveringPurpose
        self.scopesExplicitForCategory = scopesExplicitForCategory
        self.retentionLimit = retentionLimit
        self.retentionLimitText = retentionLimitText
        self.jurisdictionPurpose = jurisdictionPurpose
        self.purposeFlags = purposeFlags
        self.sensitiveBelow = sensitiveBelow
        self.storageAllowed = storageAllowed
        self.regionIndex = regionIndex
        self.consentGrantReasons = consentGrantReasons
        self.actionIndex = actionIndex
        self.actionNames = actionNames
        self.entityTypeIndex = entityTypeIndex
        self.entityTypeCategory = entityTypeCategory
        self.entities = EntitySource(index: entityIndex, data: entityData, dataSubjectType: dataSubjectType)
        self.policySet = policySet
    }
}

struct CompiledFeature: Sendable {
    let name: String
    let category: Int
    let entity: String
    let region: String?
}

struct CompiledScope: Sendable {
    let id: String
    let minimumVersion: Int
    let expiresAfter: Int64?
}

/// A jurisdiction ready for deciding. A class, like `CompiledRule`: the decision path reads one per request, and
/// a struct read out of the plan's array is copied field by field (a retain and a release for each of its sets,
/// arrays and strings), where a class costs one.
final class CompiledJurisdiction: Sendable {
    let id: String
    let ageOfConsent: Int?
    let minorsUnder: Int?
    let allowedRegions: Set<String>?
    let optOutSignals: Set<String>
    /// Purpose flags this jurisdiction lets a subject opt out of.
    let optOutFlags: Set<String>
    /// Per region (indexed as `DecisionPlan.regionIndex`): whether processing there is allowed.
    let allowedRegionBits: [Bool]
    let ageOfConsentText: String?
    let minorsText: String?

    init(
        id: String, ageOfConsent: Int?, minorsUnder: Int?, allowedRegions: Set<String>?, optOutSignals: Set<String>,
        optOutFlags: Set<String>, allowedRegionBits: [Bool], ageOfConsentText: String?, minorsText: String?
    ) {
        self.id = id
        self.ageOfConsent = ageOfConsent
        self.minorsUnder = minorsUnder
        self.allowedRegions = allowedRegions
        self.optOutSignals = optOutSignals
        self.optOutFlags = optOutFlags
        self.allowedRegionBits = allowedRegionBits
        self.ageOfConsentText = ageOfConsentText
        self.minorsText = minorsText
    }
}

/// What a purpose needs in a jurisdiction (a class for the reason `CompiledJurisdiction` is one).
final class CompiledJurisdictionPurpose: Sendable {
    let basis: LegalBasis?
    /// Scopes that may carry consent for this purpose here.
    let consentScopes: [Int]
    /// Shared reason lists, built once: the grant note for a non-consent basis, and the refusal for missing consent.
    let basisReasons: [Reason]
    let missingConsentReasons: [Reason]
    let optOutable: Bool
    let refusedToMinors: Bool

    init(
        basis: LegalBasis?, consentScopes: [Int], basisReasons: [Reason], missingConsentReasons: [Reason], optOutable: Bool,
        refusedToMinors: Bool
    ) {
        self.basis = basis
        self.consentScopes = consentScopes
        self.basisReasons = basisReasons
        self.missingConsentReasons = missingConsentReasons
        self.optOutable = optOutable
        self.refusedToMinors = refusedToMinors
    }
}

/// A rule ready for deciding. A class so that reading one on the decision path is a single reference.
final class CompiledRule: Sendable {
    let reference: RuleReference
    let effect: Effect
    let when: CompiledCondition?
    let unless: CompiledCondition?
    let hasCondition: Bool
    /// The attributes its conditions read.
    let reads: Set<ConditionAttribute>
    /// Whether its conditions read an attribute of open range (subject age, processing region) other than by
    /// comparing it with literals: a space of requests built from those literals cannot decide them.
    let readsOpenAttributeOpaquely: Bool
    /// Whether its conditions read declared attributes (entity data): a space of requests does not enumerate them.
    let readsProperties: Bool
    let obligations: Obligations
    let hasObligations: Bool

    init(reference: RuleReference, effect: Effect, when: CompiledCondition?, unless: CompiledCondition?, obligations: Obligations) {
        self.reference = reference
        self.effect = effect
        self.when = when
        self.unless = unless
        self.hasCondition = when != nil || unless != nil
        self.reads = Set(ConditionAttribute.allCases.filter { attribute in [when, unless].contains { $0?.reads(attribute) ?? false } })
        self.readsOpenAttributeOpaquely = [ConditionAttribute.subjectAge, .contextProcessingRegion].contains { attribute in
            [when, unless].contains { $0?.readsOpaquely(attribute) ?? false }
        }
        self.readsProperties = [when, unless].contains { $0?.readsProperties ?? false }
        self.obligations = obligations
        self.hasObligations = !obligations.isEmpty
    }
}

extension DecisionPlan {
    /// The legal basis a jurisdiction (nil: the fallback) assigns to a purpose, if any.
    public func legalBasis(jurisdiction: String?, purpose: String) -> LegalBasis? {
        guard let j = jurisdiction.flatMap({ jurisdictionIndex[$0] }) ?? fallbackJurisdiction, let p = purposeIndex[purpose] else {
            return nil
        }
        return jurisdictionPurpose[j * purposeNames.count + p].basis
    }

    /// An entity's data, by type and id (nil when the entity has none).
    func entity(type: String?, id: String) -> [String: ConditionValue]? { entities.entity(type: type, id: id) }

    /// The purpose a request naming none is taken to have (see `PolicySet.defaultPurpose(action:resourceType:)`).
    public func defaultPurpose(action: String, resourceType: String?) -> String? {
        policySet.defaultPurpose(action: action, resourceType: resourceType)
    }

    /// Whether a rule's condition reads an attribute `DecisionSpace` does not enumerate.
    func ruleReadsUndecided(_ id: String) -> Bool {
        rules.contains {
            $0.reference.id == id
                && (!$0.reads.isDisjoint(with: DecisionSpace.undecided) || $0.readsOpenAttributeOpaquely || $0.readsProperties)
        }
    }
}
