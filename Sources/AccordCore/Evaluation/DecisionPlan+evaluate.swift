import Foundation

/// Options for `evaluate`.
public struct EvaluationOptions: Sendable {
    /// Record every rule considered for each resource (`--explain`).
    public var explain: Bool
    /// For reasoning over a space of requests rather than deciding one: a rule whose condition reads any of
    /// these attributes — or reads subject age or processing region other than against literals — is taken to
    /// apply if it permits and not to apply if it forbids.
    public var undecided: Set<ConditionAttribute> = []

    public init(explain: Bool = false) { self.explain = explain }
}

extension DecisionPlan {
    /// Decides a request at an instant. Pure: reads no clock and no state beyond its arguments.
    ///
    /// Default deny; a resource is permitted only if a permit rule applies to it, no forbid rule does, and
    /// every privacy requirement holds — legal basis and consent, objection, opt-out, minors, residency,
    /// explicit consent for sensitive categories, retention. Forbid always overrides.
    public func evaluate(_ request: DecisionRequest, asOf instant: Date, options: EvaluationOptions = EvaluationOptions()) -> Decision {
        if !entities.data.isEmpty, request.subject.age == nil || request.subject.jurisdiction == nil,
            let data = entity(type: request.subject.type ?? dataSubjectType, id: request.subject.id)
        {
            // The subject's age and jurisdiction, when the request leaves them out, from the subject's entity data.
            var completed = request
            if completed.subject.age == nil, case .int(let age)? = data["age"], (0...150).contains(age) { completed.subject.age = Int(age) }
            if completed.subject.jurisdiction == nil, case .string(let id)? = data["jurisdiction"] { completed.subject.jurisdiction = id }
            return decide(completed, asOf: instant, options: options)
        }
        return decide(request, asOf: instant, options: options)
    }

    /// The plan's own time on `requests` (what `accord eval --timing` and peer benchmarks report): after a warm-up
    /// on the first 2,000, each batch of `batch` requests is decided and timed; returns the nanoseconds per request
    /// of each batch, in order, and the resources decided. Nothing is kept: it measures, it decides for no one.
    public func timeEvaluation(of requests: [DecisionRequest], asOf instant: Date, batch: Int) -> (perRequest: [Double], resources: Int) {
        for request in requests.prefix(2_000) { _ = evaluate(request, asOf: instant) }
        let batch = max(1, batch)
        var resources = 0
        var perRequest: [Double] = []
        for start in stride(from: 0, to: requests.count, by: batch) {
            let slice = requests[start..<min(start + batch, requests.count)]
            let begin = DispatchTime.now().uptimeNanoseconds
            for request in slice { resources &+= evaluate(request, asOf: instant).resources.count }
            perRequest.append(Double(DispatchTime.now().uptimeNanoseconds - begin) / Double(slice.count))
        }
        return (perRequest, resources)
    }

    @inline(__always)
    private func decide(_ request: DecisionRequest, asOf instant: Date, options: EvaluationOptions) -> Decision {
        let now = Int64(instant.timeIntervalSince1970.rounded(.down))
        var decision = Decision(
            effect: .deny, revision: revision, requestID: request.id, purpose: request.purpose,
            action: request.action, jurisdiction: nil, instant: instant, resources: [], reasons: [])

        guard let (purpose, action, jurisdiction) = resolve(request, explain: options.explain, into: &decision) else { return decision }

        let consent = ConsentCheck(plan: self, request: request, now: now)
        let requirements = requestRequirements(request, purpose: purpose, jurisdiction: jurisdiction, consent: consent)

        var permitted = 0
        decision.resources.reserveCapacity(request.resources.count)
        // Candidate rules for this purpose, action and jurisdiction.
        var scratch = RequestScratch()
        scratch.undecided = options.undecided
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: words) { buffer in
            let pBase = purpose * words, aBase = action * words, jBase = jurisdiction * words
            for w in 0..<words {
                buffer[w] = purposeRuleBits[pBase + w] & actionRuleBits[aBase + w] & jurisdictionRuleBits[jBase + w]
            }
            let candidates = UnsafeBufferPointer(buffer)
            // Many resources of few features (a training set's rows): when no rule reads `resource.age`, rows of a
            // feature decide alike unless retention or a future date tells them apart — decided once per such
            // class, the deletion deadline worked out per row. Exact: the same decision as deciding each.
            let shared = !options.explain && !rulesReadResourceAge && request.resources.count > 32
            var known: [Int: ResourceDecision] = [:]
            for resource in request.resources {
                var key: Int?
                var age: Int64?
                var limit: Int64?
                if shared, resource.category == nil, let name = resource.feature, let f = featureIndex[name] {
                    limit = retentionLimit[purpose * categoryNames.count + features[f].category]
                    age = resource.collectedAt.map { now - Int64($0.timeIntervalSince1970.rounded(.down)) }
                    let ageClass =
                        switch age {
                        case nil: 0
                        case let age? where age < 0: 1
                        case let age? where limit.map({ age > $0 }) ?? false: 2
                        default: 3
                        }
                    key = f * 4 + ageClass
                }
                var result: ResourceDecision
                if let key, var same = known[key] {
                    if same.effect == .permit {
                        var by: Int64? = nil
                        if let limit, let age, age >= 0 { by = now - age + limit }
                        if let after = same.obligations.deleteAfter?.seconds { by = min(by ?? .max, now + after) }
                        same.deleteBy = by.map { Date(timeIntervalSince1970: TimeInterval($0)) }
                    }
                    result = same
                } else {
                    result = decide(
                        resource, request: request, purpose: purpose, jurisdiction: jurisdiction,
                        candidates: candidates, requirements: requirements, consent: consent,
                        now: now, explain: options.explain, scratch: &scratch)
                    if let key { known[key] = result }
                }
                if result.effect == .permit { permitted += 1 }
                decision.resources.append(result)
            }
        }
        decision.effect = permitted == request.resources.count ? .permit : (permitted == 0 ? .deny : .partial)
        if request.consent.grants.contains(where: { $0.event != nil }) { decision.noteConsentEvents(request.consent) }
        return decision
    }

    /// The request's purpose, action and jurisdiction (the fallback when the subject's is unknown, noted in
    /// `decision`); nil — with every resource denied for the reasons, in `decision` — when one cannot be resolved
    /// or there are no resources.
    @inline(__always)
    private func resolve(
        _ request: DecisionRequest, explain: Bool, into decision: inout Decision
    ) -> (purpose: Int, action: Int, jurisdiction: Int)? {
        var requestReasons: [Reason] = []
        let purpose = purposeIndex[request.purpose]
        if purpose == nil {
            requestReasons.append(request.purpose.isEmpty ? Reason(.noPurpose) : Reason(.unknownPurpose, detail: request.purpose))
        }
        let action = actionIndex[request.action]
        if action == nil { requestReasons.append(Reason(.unknownAction, detail: request.action)) }
        var jurisdiction = request.subject.jurisdiction.flatMap { jurisdictionIndex[$0] }
        if jurisdiction == nil {
            jurisdiction = fallbackJurisdiction
            if let fallback = fallbackJurisdiction {
                decision.reasons.append(Reason(.jurisdictionFallback, detail: jurisdictions[fallback].id))
            } else {
                requestReasons.append(Reason(.noJurisdiction))
            }
        }
        decision.jurisdiction = jurisdiction.map { jurisdictions[$0].id }
        if request.resources.isEmpty { requestReasons.append(Reason(.noResources)) }

        guard let purpose, let action, let jurisdiction, !request.resources.isEmpty else {
            decision.reasons += requestReasons
            decision.resources = request.resources.map {
                ResourceDecision(
                    resource: $0.name, category: nil, effect: .deny, reasons: requestReasons, obligations: Obligations(),
                    deleteBy: nil, trace: explain ? [] : nil)
            }
            return nil
        }
        return (purpose, action, jurisdiction)
    }

    // MARK: - Request-level requirements

    /// Reasons that hold for every resource of the request: legal basis and consent, objection, opt-out,
    /// minors, the processing region. Returned as (grant notes, refusals).
    private func requestRequirements(
        _ request: DecisionRequest, purpose: Int, jurisdiction: Int, consent: ConsentCheck
    ) -> (grants: [Reason], refusals: [Reason]) {
        let rules = jurisdictionPurpose[jurisdiction * purposeNames.count + purpose]
        let settings = jurisdictions[jurisdiction]
        var grants: [Reason] = []
        var refusals: [Reason] = []
        let age = request.subject.age

        switch rules.basis {
        case nil:
            refusals.append(Reason(.legalBasisMissing, detail: settings.id))
        case .consent:
            switch consent.status(among: rules.consentScopes) {
            case .valid(let scope, let byGuardian):
                if let minimum = settings.ageOfConsent {
                    if let age {
                        if age < minimum && !byGuardian {
                            refusals.append(Reason(.consentGuardianRequired, detail: settings.ageOfConsentText))
                        }
                    } else {
                        refusals.append(Reason(.ageUnknown, detail: settings.ageOfConsentText))
                    }
                }
                if refusals.isEmpty { grants = consentGrantReasons[scope] }
            case .expired(let scope): refusals.append(Reason(.consentExpired, detail: scopeNames[scope]))
            case .outdated(let scope): refusals.append(Reason(.consentOutdated, detail: scopeNames[scope]))
            case .missing: refusals = rules.missingConsentReasons
            }
        case .legitimateInterest:
            // GDPR Art. 21: an objection to processing on legitimate interest is honoured.
            // An objection to the purpose, to a family it belongs to, or to a purpose within it.
            if let objected = request.consent.objections.first(where: {
                Names.isWithin(request.purpose, $0) || Names.isWithin($0, request.purpose)
            }) {
                refusals.append(Reason(.objection, detail: objected))
            } else {
                grants = rules.basisReasons
            }
        case .contract, .legalObligation, .notice: grants = rules.basisReasons
        }

        if rules.optOutable {
            let flags = purposeFlags[purpose]
            let optedOut = request.consent.optOuts.first { entry in
                Names.isWithin(request.purpose, entry) || Names.isWithin(entry, request.purpose)
                    || (entry == "sale_or_share" && flags.saleOrShare && settings.optOutFlags.contains(entry))
                    || (entry == "profiling" && flags.profiling && settings.optOutFlags.contains(entry))
            }
            if let optedOut { refusals.append(Reason(.optOutRequested, detail: optedOut)) }
            if request.context.gpc && settings.optOutSignals.contains("gpc") { refusals.append(Reason(.optOutGPC)) }
        }
        if rules.refusedToMinors, let under = settings.minorsUnder {
            if let age {
                if age < under { refusals.append(Reason(.ageMinor, detail: settings.minorsText)) }
            } else {
                refusals.append(Reason(.ageUnknown, detail: settings.minorsText))
            }
        }
        if settings.allowedRegions != nil {
            if let region = request.context.processingRegion {
                let index = regionIndex[region]
                if index == nil || !settings.allowedRegionBits[index!] { refusals.append(Reason(.processingRegion, detail: region)) }
            } else {
                refusals.append(Reason(.regionUnknown))
            }
        }
        return (grants, refusals)
    }

    // MARK: - One resource

    /// Per-request state that lets resources share reason lists instead of allocating their own.
    struct RequestScratch {
        /// `minimisation.not_granted` followed by the request-level refusals.
        var notGrantedAndRefusals: [Reason]?
        /// The reasons of a resource permitted by exactly one rule, for the last such rule.
        var permitRule = -1
        var permitReasons: [Reason] = []
        /// Attributes whose conditions are read permissively (`EvaluationOptions.undecided`).
        var undecided: Set<ConditionAttribute> = []
    }

    private func decide(
        _ resource: ResourceReference, request: DecisionRequest, purpose: Int, jurisdiction: Int, candidates: UnsafeBufferPointer<UInt64>,
        requirements: (grants: [Reason], refusals: [Reason]), consent: ConsentCheck, now: Int64, explain: Bool,
        scratch: inout RequestScratch
    ) -> ResourceDecision {
        var result = ResourceDecision(
            resource: resource.name, category: nil, effect: .deny, reasons: [], obligations: Obligations(),
            deleteBy: nil, trace: explain ? [] : nil)
        guard let (category, featureSlot) = resolve(resource, into: &result) else { return result }

        // Refusals that concern this resource alone; the request's own refusals are shared, not copied.
        var local: [Reason] = []
        var ageSeconds: Int64?
        if let collected = resource.collectedAt {
            let age = now - Int64(collected.timeIntervalSince1970.rounded(.down))
            if age < 0 { local.append(Reason(.futureData)) } else { ageSeconds = age }
        }

        // Rules.
        var firstPermit = -1
        var morePermits: [Reason] = []
        var obligations = Obligations()
        var permitErrored = false
        let cBase = category * words
        var input: ConditionInput?
        for w in 0..<words {
            var bits = candidates[w] & categoryRuleBits[cBase + w]
            while bits != 0 {
                let r = w * 64 + bits.trailingZeroBitCount
                bits &= bits - 1
                let rule = rules[r]
                var outcome = RuleTrace.Outcome.applied
                if rule.hasCondition && !scratch.undecided.isEmpty
                    && (!rule.reads.isDisjoint(with: scratch.undecided) || rule.readsOpenAttributeOpaquely || rule.readsProperties)
                {
                    // Read soundly over a space that does not fix these attributes: the most permissive reading.
                    outcome = rule.effect == .forbid ? .conditionFalse : .applied
                } else if rule.hasCondition {
                    if input == nil {
                        let feature = featureSlot >= 0 ? features[featureSlot] : nil
                        input = ConditionInput(
                            jurisdiction: jurisdictions[jurisdiction].id, feature: feature?.name,
                            category: categoryNames[category], entity: feature?.entity, region: feature?.region,
                            ageSeconds: ageSeconds, now: now, entities: entities)
                    }
                    outcome = Self.conditionOutcome(rule, input!, request, resource)
                }
                if explain { result.trace?.append(RuleTrace(rule: rule.reference, outcome: outcome)) }
                if rule.effect == .forbid {
                    // Fail closed: a forbid whose condition cannot be evaluated applies.
                    if outcome != .conditionFalse {
                        local.append(Reason(.ruleForbid, rule: rule.reference))
                        if outcome == .conditionError { local.append(Reason(.conditionError, rule: rule.reference)) }
                    }
                } else if outcome == .applied {
                    if firstPermit < 0 { firstPermit = r } else { morePermits.append(Reason(.rulePermit, rule: rule.reference)) }
                    if rule.hasObligations { obligations = obligations.combined(with: rule.obligations) }
                } else if outcome == .conditionError {
                    permitErrored = true
                }
            }
        }
        if firstPermit < 0 {
            local.append(Reason(.notGranted))
            if permitErrored { local.append(Reason(.conditionError)) }
        }

        if let refusal = specialCategoryRefusal(
            category, purpose: purpose, jurisdiction: jurisdiction, consent: consent, request: request, requirements: requirements)
        {
            local.append(refusal)
        }
        let deleteBy = storageAndRetention(
            resource, category: category, featureSlot: featureSlot, purpose: purpose, jurisdiction: jurisdiction,
            ageSeconds: ageSeconds, now: now, into: &local)
        conclude(
            &result, local: local, requirements: requirements, permits: (firstPermit, morePermits), obligations: obligations,
            deleteBy: deleteBy, now: now, scratch: &scratch)
        return result
    }

    /// Where the feature may be stored, and how long data of its category may be kept for the purpose: refusals
    /// go into `local`; returns when the value must be deleted by (epoch seconds), if a limit applies.
    @inline(__always)
    private func storageAndRetention(
        _ resource: ResourceReference, category: Int, featureSlot: Int, purpose: Int, jurisdiction: Int, ageSeconds: Int64?,
        now: Int64, into local: inout [Reason]
    ) -> Int64? {
        if featureSlot >= 0, !storageAllowed[jurisdiction * features.count + featureSlot] {
            local.append(Reason(.storageRegion, detail: features[featureSlot].region))
        }
        var deleteBy: Int64?
        let slot = purpose * categoryNames.count + category
        if let limit = retentionLimit[slot] {
            if let age = ageSeconds {
                if age > limit { local.append(Reason(.retentionExpired, detail: retentionLimitText[slot])) }
                deleteBy = now - age + limit
            } else if resource.collectedAt == nil {
                local.append(Reason(.retentionAgeUnknown, detail: retentionLimitText[slot]))
            }
        }

        return deleteBy
    }

    /// The resource's effect and reasons: a permit when nothing refused it (with its rules' obligations), else a
    /// deny with its own refusals and the request's. Reasons shared between resources come from `scratch`.
    @inline(__always)
    private func conclude(
        _ result: inout ResourceDecision, local: [Reason], requirements: (grants: [Reason], refusals: [Reason]),
        permits: (first: Int, more: [Reason]), obligations: Obligations, deleteBy: Int64?, now: Int64, scratch: inout RequestScratch
    ) {
        var deleteBy = deleteBy
        let (firstPermit, morePermits) = permits
        if local.isEmpty && requirements.refusals.isEmpty {
            result.effect = .permit
            if let after = obligations.deleteAfter?.seconds { deleteBy = min(deleteBy ?? .max, now + after) }
            if morePermits.isEmpty {
                if scratch.permitRule != firstPermit {
                    scratch.permitRule = firstPermit
                    scratch.permitReasons = [Reason(.rulePermit, rule: rules[firstPermit].reference)] + requirements.grants
                }
                result.reasons = scratch.permitReasons
            } else {
                result.reasons = [Reason(.rulePermit, rule: rules[firstPermit].reference)] + morePermits + requirements.grants
            }
            result.obligations = obligations
            result.deleteBy = deleteBy.map { Date(timeIntervalSince1970: TimeInterval($0)) }
        } else if local.isEmpty {
            result.reasons = requirements.refusals
        } else if requirements.refusals.isEmpty {
            result.reasons = local
        } else if local.count == 1 && local[0].code == .notGranted {
            if scratch.notGrantedAndRefusals == nil { scratch.notGrantedAndRefusals = local + requirements.refusals }
            result.reasons = scratch.notGrantedAndRefusals!
        } else {
            result.reasons = local + requirements.refusals
        }
    }

    /// The resource's category index (named in `result`) and, for a feature, its slot (-1 otherwise); nil — with the reason in
    /// `result` — for an unknown feature or category, or a feature claimed under another category than the
    /// catalog's.
    @inline(__always)
    private func resolve(_ resource: ResourceReference, into result: inout ResourceDecision) -> (category: Int, featureSlot: Int)? {
        if let type = resource.type {
            guard let t = entityTypeIndex[type], entityTypeCategory[t] >= 0 else {
                result.reasons = [Reason(.unknownResourceType, detail: type)]
                return nil
            }
            result.category = categoryNames[entityTypeCategory[t]]
            return (entityTypeCategory[t], -1)
        }
        if let name = resource.feature {
            guard let index = featureIndex[name] else {
                result.reasons = [Reason(.unknownFeature, detail: name)]
                return nil
            }
            let category = features[index].category
            if let declared = resource.category, declared != categoryNames[category] {
                // A request that claims another category than the catalog holds cannot be trusted.
                result.reasons = [Reason(.unknownCategory, detail: declared)]
                result.category = categoryNames[category]
                return nil
            }
            result.category = categoryNames[category]
            return (category, index)
        }
        guard let name = resource.category, let index = categoryIndex[name] else {
            result.reasons = [Reason(.unknownCategory, detail: resource.category ?? "")]
            return nil
        }
        result.category = categoryNames[index]
        return (index, -1)
    }

    /// GDPR Art. 9(2)(a): special categories need explicit consent that names them, for this purpose, given by a
    /// guardian below the age of digital consent (Art. 8). A resource holds its category's whole subtree, so
    /// every sensitive category in it needs that consent. The refusal, if any.
    @inline(__always)
    private func specialCategoryRefusal(
        _ category: Int, purpose: Int, jurisdiction: Int, consent: ConsentCheck, request: DecisionRequest,
        requirements: (grants: [Reason], refusals: [Reason])
    ) -> Reason? {
        let sensitive = sensitiveBelow[category]
        guard !sensitive.isEmpty else { return nil }
        let covering = scopesCoveringPurpose[purpose]
        var needsGuardian = false
        for sc in sensitive {
            var best: UInt8 = 0
            for s in scopesExplicitForCategory[sc] where covering.contains(s) { best = max(best, consent.state(of: s)) }
            if best < 3 { return Reason(.consentExplicitRequired, detail: categoryNames[sc]) }
            if best != 4 { needsGuardian = true }
        }
        guard let minimum = jurisdictions[jurisdiction].ageOfConsent else { return nil }
        if let age = request.subject.age {
            if age < minimum && needsGuardian {
                return Reason(.consentGuardianRequired, detail: jurisdictions[jurisdiction].ageOfConsentText)
            }
        } else if !requirements.refusals.contains(where: { $0.code == .ageUnknown }) {
            return Reason(.ageUnknown, detail: jurisdictions[jurisdiction].ageOfConsentText)
        }
        return nil
    }

    private static func conditionOutcome(
        _ rule: CompiledRule, _ input: ConditionInput, _ request: DecisionRequest, _ resource: ResourceReference
    ) -> RuleTrace.Outcome {
        var errored = false
        if let when = rule.when {
            switch when.evaluate(input, request, resource) {
            case .bool(true): break
            case .bool(false): return .conditionFalse
            default: errored = true
            }
        }
        if let unless = rule.unless {
            switch unless.evaluate(input, request, resource) {
            case .bool(false): break
            case .bool(true): return .conditionFalse
            default: errored = true
            }
        }
        return errored ? .conditionError : .applied
    }
}
