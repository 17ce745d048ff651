import Foundation

/// Why a resource was permitted or denied. Codes are stable strings users filter on.
public enum ReasonCode: String, Sendable, Codable, CaseIterable, Hashable {
    // Grants
    case rulePermit = "rule.permit"
    case basisConsent = "basis.consent"
    case basisLegitimateInterest = "basis.legitimate_interest"
    case basisContract = "basis.contract"
    case basisLegalObligation = "basis.legal_obligation"
    case basisNotice = "basis.notice"
    // Refusals
    case ruleForbid = "rule.forbid"
    case notGranted = "minimisation.not_granted"
    case conditionError = "condition.error"
    case legalBasisMissing = "legal_basis.missing"
    case consentMissing = "consent.missing"
    case consentExpired = "consent.expired"
    case consentOutdated = "consent.outdated_version"
    case consentExplicitRequired = "consent.explicit_required"
    case consentGuardianRequired = "consent.guardian_required"
    case objection = "objection.honoured"
    case optOutRequested = "opt_out.requested"
    case optOutGPC = "opt_out.gpc"
    case ageMinor = "age.minor"
    case ageUnknown = "age.unknown"
    case processingRegion = "residency.processing_region"
    case storageRegion = "residency.storage_region"
    case regionUnknown = "residency.region_unknown"
    case retentionExpired = "retention.expired"
    case retentionAgeUnknown = "retention.age_unknown"
    case unknownPurpose = "request.unknown_purpose"
    /// The request named no purpose and none could be derived (the AuthZEN API without `context.purpose` and no
    /// server default): a deny, not a malformed request.
    case noPurpose = "request.no_purpose"
    case unknownAction = "request.unknown_action"
    case unknownFeature = "request.unknown_feature"
    case unknownCategory = "request.unknown_category"
    case unknownResourceType = "request.unknown_resource_type"
    case futureData = "request.future_data"
    case noResources = "request.no_resources"
    case noJurisdiction = "jurisdiction.unavailable"
    /// The decision could not be written to the audit trail, so it is a deny (fail closed).
    case auditUnavailable = "audit.unavailable"
    /// The subject's consent could not be read from the consent store, so it is a deny (fail closed).
    case consentUnavailable = "consent.unavailable"
    /// The aggregate would spend more epsilon than its privacy budget has left in the period.
    case budgetExhausted = "budget.exhausted"
    /// The privacy-budget ledger could not be read or written, so the aggregate is refused (fail closed).
    case budgetUnavailable = "budget.unavailable"
    /// An aggregate over fewer subjects than the `min_cohort` obligation asks for.
    case cohortTooSmall = "cohort.too_small"
    // Notes
    case jurisdictionFallback = "jurisdiction.fallback"

    /// Whether this reason, on its own, denies.
    public var denies: Bool {
        switch self {
        case .rulePermit, .basisConsent, .basisLegitimateInterest, .basisContract, .basisLegalObligation, .basisNotice,
            .jurisdictionFallback:
            false
        default: true
        }
    }

    /// The reason in plain words, for people who are not engineers (the subject access export, reports).
    public var explanation: String {
        switch self {
        case .rulePermit: "a policy rule allows this use"
        case .basisConsent: "you gave consent for this use"
        case .basisLegitimateInterest: "allowed under the organisation's legitimate interest"
        case .basisContract: "needed to perform a contract with you"
        case .basisLegalObligation: "required by law"
        case .basisNotice: "allowed after notice was given to you"
        case .ruleForbid: "a policy rule forbids this use"
        case .notGranted: "no policy rule allows this data for this purpose"
        case .conditionError: "a rule's condition could not be checked, so the use was refused"
        case .legalBasisMissing: "there was no legal basis for this use"
        case .consentMissing: "you had not given consent for this use"
        case .consentExpired: "your consent had expired"
        case .consentOutdated: "your consent was given to an older version of the terms"
        case .consentExplicitRequired: "this sensitive data needs your explicit consent, which was not given"
        case .consentGuardianRequired: "a parent or guardian's consent was needed and not given"
        case .objection: "you objected to this use"
        case .optOutRequested: "you opted out of this use"
        case .optOutGPC: "your browser's Global Privacy Control signal opted you out"
        case .ageMinor: "this use is not allowed for minors"
        case .ageUnknown: "your age was not known, so the use was refused"
        case .processingRegion: "the data may not be processed in that region"
        case .storageRegion: "the data may not be stored in that region"
        case .regionUnknown: "the region of processing was not known, so the use was refused"
        case .retentionExpired: "the data was older than it may be kept"
        case .retentionAgeUnknown: "the data's age was not known, so the use was refused"
        case .unknownPurpose: "the purpose is not one the policies know"
        case .noPurpose: "no purpose was given or could be derived, so the use was refused"
        case .unknownAction: "the action is not one the policies know"
        case .unknownFeature: "the data item is not in the catalog"
        case .unknownCategory: "the kind of data is not one the policies know"
        case .unknownResourceType: "the resource's type is not an entity type the policies declare with a category"
        case .futureData: "the data was dated in the future, so the use was refused"
        case .noResources: "no data was named"
        case .noJurisdiction: "no applicable law could be determined, so the use was refused"
        case .auditUnavailable: "the decision could not be recorded, so the use was refused"
        case .consentUnavailable: "your consent could not be looked up, so the use was refused"
        case .budgetExhausted: "the privacy budget for this kind of statistic was used up"
        case .budgetUnavailable: "the privacy budget could not be checked, so the use was refused"
        case .cohortTooSmall: "the group of people was too small for a statistic to hide any one of them"
        case .jurisdictionFallback: "the default jurisdiction's rules were applied"
        }
    }
}

/// Where a rule was written: shared by every decision that cites it.
public final class RuleReference: Sendable, Hashable {
    public let id: String
    public let policy: String
    public let effect: Effect
    public let source: SourceRange
    /// `source` as `file:line:col`, and the reference's JSON form: made once, with the plan, not in every
    /// decision that cites the rule.
    public let location: String
    private let withLocation: JSONValue, withoutLocation: JSONValue
    private let withLocationBytes: [UInt8], withoutLocationBytes: [UInt8]

    init(id: String, policy: String, effect: Effect, source: SourceRange) {
        self.id = id
        self.policy = policy
        self.effect = effect
        self.source = source
        location = source.description
        withoutLocation = .object([("id", .string(id)), ("policy", .string(policy)), ("effect", .string(effect.rawValue))])
        withLocation = .object([
            ("id", .string(id)), ("policy", .string(policy)), ("effect", .string(effect.rawValue)), ("location", .string(location)),
        ])
        withLocationBytes = withLocation.serializedBytes()
        withoutLocationBytes = withoutLocation.serializedBytes()
    }

    func json(locations: Bool) -> JSONValue { locations ? withLocation : withoutLocation }
    func jsonBytes(locations: Bool) -> [UInt8] { locations ? withLocationBytes : withoutLocationBytes }

    public static func == (lhs: RuleReference, rhs: RuleReference) -> Bool { lhs === rhs || (lhs.id == rhs.id && lhs.source == rhs.source) }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}

/// One reason: a code, the rule it came from (if any), and a detail such as the scope or region concerned.
public struct Reason: Sendable, Hashable {
    public var code: ReasonCode
    public var rule: RuleReference?
    public var detail: String?

    public init(_ code: ReasonCode, rule: RuleReference? = nil, detail: String? = nil) {
        self.code = code
        self.rule = rule
        self.detail = detail
    }
}

/// The effect on one resource.
public enum ResourceEffect: String, Sendable, Codable, Hashable {
    case permit, deny
}

/// The effect on a whole request.
public enum DecisionEffect: String, Sendable, Codable, Hashable {
    case permit, deny, partial
}

/// How one considered rule fared, for `--explain`.
public struct RuleTrace: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable {
        case applied, conditionFalse = "condition_false", conditionError = "condition_error"
    }
    public var rule: RuleReference
    public var outcome: Outcome
}

/// The decision on one resource, with the reasons that decided it and what the caller must do.
public struct ResourceDecision: Sendable, Hashable {
    public var resource: String
    public var category: String?
    public var effect: ResourceEffect
    public var reasons: [Reason]
    /// Obligations of every permit rule that applied, combined strictest-wins (empty when denied).
    public var obligations: Obligations
    /// The earliest moment the data or its derivatives must be deleted (retention and `delete_after`).
    public var deleteBy: Date?
    /// The rules considered, when explanation was asked for.
    public var trace: [RuleTrace]?
    /// The consent-store events of the grants this resource relied on (a `basis.consent` reason's scope).
    public var consentEvents: [Int64] = []
    /// The epsilon this decision spent from the resource's privacy budget (aggregates under a budgeted
    /// `differential_privacy` obligation, decided with a budget ledger).
    public var epsilonSpent: Double?

    public init(
        resource: String, category: String?, effect: ResourceEffect, reasons: [Reason], obligations: Obligations = Obligations(),
        deleteBy: Date? = nil, trace: [RuleTrace]? = nil
    ) {
        self.resource = resource
        self.category = category
        self.effect = effect
        self.reasons = reasons
        self.obligations = obligations
        self.deleteBy = deleteBy
        self.trace = trace
    }
}

extension Decision {
    /// Names, on each resource, the consent events behind the grants its `basis.consent` reasons relied on.
    mutating func noteConsentEvents(_ consent: ConsentState) {
        // Resources mostly share their reason lists: the events of the last list are kept for the next.
        var last: (reasons: [Reason], events: [Int64])?
        for r in resources.indices {
            guard resources[r].consentEvents.isEmpty else {
                resources[r].consentEvents = Self.events(resources[r].reasons, consent, after: resources[r].consentEvents)
                continue
            }
            if let last, last.reasons == resources[r].reasons {
                resources[r].consentEvents = last.events
                continue
            }
            let events = Self.events(resources[r].reasons, consent, after: [])
            resources[r].consentEvents = events
            last = (resources[r].reasons, events)
        }
    }

    /// `existing`, then the event of the latest grant behind each `basis.consent` reason not already named.
    private static func events(_ reasons: [Reason], _ consent: ConsentState, after existing: [Int64]) -> [Int64] {
        var events = existing
        for reason in reasons where reason.code == .basisConsent {
            guard let scope = reason.detail,
                let event = consent.grants.last(where: { $0.scope == scope && $0.event != nil })?.event,
                !events.contains(event)
            else { continue }
            events.append(event)
        }
        return events
    }
}

/// A decision: per-resource effects, an overall effect, reasons, and the revision of the plan that made it.
/// Pure: the same plan, request and instant give the same decision.
public struct Decision: Sendable, Hashable {
    /// This decision with every resource denied for one reason: what a caller gets when a decision
    /// cannot be made good (for instance when it cannot be recorded).
    public func denyingEverything(because reason: Reason) -> Decision {
        denying(Set(resources.indices), because: reason)
    }

    /// The reason this decision was turned into a deny because a store could not be used (`audit.unavailable`,
    /// `consent.unavailable`), if it was: what an operator must be told about.
    public var failedClosed: Reason? {
        for resource in resources {
            if let reason = resource.reasons.first(where: { $0.code == .auditUnavailable || $0.code == .consentUnavailable }) {
                return reason
            }
        }
        return nil
    }

    /// The decision with the resources at `indices` denied for `reason` alone (their obligations and
    /// `delete_by` dropped) and the overall effect recomputed.
    public func denying(_ indices: Set<Int>, because reason: Reason) -> Decision {
        var copy = self
        for i in indices {
            copy.resources[i].effect = .deny
            copy.resources[i].reasons = [reason]
            copy.resources[i].obligations = Obligations()
            copy.resources[i].deleteBy = nil
            copy.resources[i].epsilonSpent = nil
        }
        let permitted = copy.resources.filter { $0.effect == .permit }.count
        copy.effect = permitted == copy.resources.count && permitted > 0 ? .permit : (permitted == 0 ? .deny : .partial)
        return copy
    }

    public var effect: DecisionEffect
    public var revision: String
    public var requestID: String?
    public var purpose: String
    public var action: String
    /// The jurisdiction applied to the subject.
    public var jurisdiction: String?
    public var instant: Date
    public var resources: [ResourceDecision]
    /// Reasons that concern the whole request (the fallback jurisdiction, an unknown purpose).
    public var reasons: [Reason]
}

extension Decision {
    /// A decision made outside a plan — a retention purge, say — to be recorded like one.
    public init(
        effect: DecisionEffect, revision: String, purpose: String, action: String, jurisdiction: String? = nil, instant: Date,
        resources: [ResourceDecision], reasons: [Reason] = []
    ) {
        self.init(
            effect: effect, revision: revision, requestID: nil, purpose: purpose, action: action, jurisdiction: jurisdiction,
            instant: instant, resources: resources, reasons: reasons)
    }
}
