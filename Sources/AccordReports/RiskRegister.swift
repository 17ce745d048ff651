import AccordCore
import Foundation

/// The risk findings a privacy impact assessment lists, each computed from the policies (and, for the last two,
/// the trail), with severity and likelihood on the CNIL's four levels, the measures that mitigate it and the
/// residual levels once they apply.
enum RiskRegister {
    typealias Level = PrivacyImpactAssessment.Level

    /// Purposes with at least this many decisions in the window are checked for an unusual denial rate.
    static let denialRateMinimum = 20
    /// Denied records by one actor, in the window, that make a finding.
    static let deniedAttemptsMinimum = 10

    static func findings(
        set: PolicySet, plan: DecisionPlan, facts: PolicyFacts,
        activity: [(purpose: String, actor: String, effect: String, records: Int)]
    ) -> [PrivacyImpactAssessment.Risk] {
        var register = Register(set: set, plan: plan, facts: facts, activity: activity)
        register.sensitiveData()
        register.profiling()
        register.minors()
        register.transfers()
        register.longRetention()
        register.wildcardGrants()
        register.profilingOnLegitimateInterest()
        register.aggregatesWithoutDifferentialPrivacy()
        register.consentWithoutExpiry()
        register.fromTheTrail()
        return register.risks
    }
}

/// The findings in the order the assessment numbers them (R1, R2, …), each added by its own check.
private struct Register {
    typealias Level = PrivacyImpactAssessment.Level

    let set: PolicySet
    let plan: DecisionPlan
    let facts: PolicyFacts
    let activity: [(purpose: String, actor: String, effect: String, records: Int)]
    let permits: [Rule]
    var risks: [PrivacyImpactAssessment.Risk] = []

    init(set: PolicySet, plan: DecisionPlan, facts: PolicyFacts, activity: [(purpose: String, actor: String, effect: String, records: Int)])
    {
        (self.set, self.plan, self.facts, self.activity) = (set, plan, facts, activity)
        permits = set.rules.filter { $0.effect == .permit }
    }

    mutating func add(
        _ kind: String, _ title: String, _ severity: Level, _ likelihood: Level, _ rationale: String, _ measures: [String],
        residual: (Level, Level)
    ) {
        risks.append(
            .init(
                id: "R\(risks.count + 1)", kind: kind, title: title, severity: severity, likelihood: likelihood, rationale: rationale,
                measures: measures, residualSeverity: residual.0, residualLikelihood: residual.1))
    }

    func rulesList(_ rules: [Rule]) -> String { rules.map { "`\($0.id)`" }.joined(separator: ", ") }

    /// Sensitive categories in use.
    mutating func sensitiveData() {
        let sensitiveUses = facts.purposes.flatMap { purpose in
            facts.readable(purpose).filter { set.isSensitive(category: $0) }.map { (purpose, $0) }
        }
        if !sensitiveUses.isEmpty {
            let explicitScopes = set.scopes.values.filter { !$0.explicitCategories.isEmpty }.map(\.id).sorted()
            let forbids = set.rules.filter { $0.effect == .forbid && $0.categories.contains(.sensitive) }
            var measures = [
                "Every sensitive category needs explicit consent naming it, for the purpose, given by a guardian below the age of consent (GDPR Art. 9(2)(a), Art. 8), checked at every decision."
            ]
            if !explicitScopes.isEmpty {
                measures.append("Consent scopes that take explicit consent: \(explicitScopes.joined(separator: ", ")).")
            }
            if !forbids.isEmpty { measures.append("Forbid rules on sensitive data: \(rulesList(forbids)).") }
            let masked = permits.filter { rule in rule.obligations.mask != nil && sensitiveUses.contains { facts.grants(rule, $0.1) } }
            if !masked.isEmpty { measures.append("Masks on what is served: \(rulesList(masked)).") }
            add(
                "sensitive_data", "Special categories of data are processed", .maximum, .limited,
                "Policies permit \(Set(sensitiveUses.map(\.1)).sorted().joined(separator: ", ")) for \(Set(sensitiveUses.map(\.0)).sorted().joined(separator: ", ")); a leak or misuse of health or biometric data harms people most.",
                measures, residual: (.maximum, explicitScopes.isEmpty ? .limited : .negligible))
        }
    }

    /// Profiling.
    mutating func profiling() {
        let profiling = facts.purposes.filter { set.purposeFlag($0, \.profiling) && !facts.readable($0).isEmpty }
        if !profiling.isEmpty {
            let consentEverywhere = profiling.allSatisfy { purpose in
                facts.jurisdictions.allSatisfy { j in
                    let basis = plan.legalBasis(jurisdiction: j, purpose: purpose)
                    return basis == nil || basis == .consent || (basis == .notice && set.jurisdictions[j]?.optOut != nil)
                }
            }
            add(
                "profiling", "Profiling: automated evaluation of personal aspects", .significant, .significant,
                "Profiling purposes are permitted: \(profiling.joined(separator: ", ")) (GDPR Art. 4(4), Art. 22).",
                [
                    "Each profiling purpose rests on consent, or on notice with an opt-out, in every jurisdiction that allows it: \(consentEverywhere ? "yes" : "no").",
                    "Opt-outs and objections are honoured at every decision.",
                ],
                residual: (.significant, consentEverywhere ? .limited : .significant))
        }
    }

    /// Minors.
    mutating func minors() {
        let childAges = set.jurisdictions.values.filter { $0.ageOfConsent != nil || $0.minors != nil }
        if !childAges.isEmpty {
            let refusals = set.jurisdictions.values.compactMap { j in
                j.minors.map { "\(j.id) refuses \($0.refuse.map(\.description).joined(separator: ", ")) below \($0.under)" }
            }.sorted()
            add(
                "minors", "Children's data", .significant, .limited,
                "Jurisdictions set an age of digital consent or rules for minors (\(childAges.map(\.id).sorted().joined(separator: ", "))): children are among the data subjects.",
                ["Below the age of consent, consent counts only when given by a guardian (GDPR Art. 8)."] + refusals.map { "\($0)." },
                residual: (.significant, refusals.isEmpty ? .limited : .negligible))
        }
    }

    /// International transfers.
    mutating func transfers() {
        let transfers = Set(facts.purposes.flatMap { facts.transfers($0, plan: plan) }).sorted()
        if !transfers.isEmpty {
            let unbounded = transfers.filter { $0.hasSuffix("anywhere") }
            add(
                "international_transfers", "Processing or storage outside the subjects' jurisdiction", .significant, .limited,
                "Data may reach: \(transfers.joined(separator: "; ")).",
                [
                    "Every decision checks the processing region against the jurisdiction's allowed regions, and the feature's storage region too (GDPR Chapter V)."
                ],
                residual: (.significant, unbounded.isEmpty ? .negligible : .limited))
        }
    }

    /// Long retention.
    mutating func longRetention() {
        let long = set.retention.filter { $0.maxAge.seconds > 365 * 86_400 }
        if !long.isEmpty {
            add(
                "long_retention", "Data kept for more than a year", .limited, .significant,
                "Retention limits above a year: \(long.map { "\($0.categories.map(\.description).joined(separator: ", ")) \($0.maxAge.description)" }.joined(separator: "; ")).",
                [
                    "`accord retention purge` deletes, anonymises or aggregates what expires, recorded in the audit trail; decisions refuse data past its limit."
                ],
                residual: (.limited, .limited))
        }
    }

    /// Wildcard grants.
    mutating func wildcardGrants() {
        let wildcards = permits.filter { $0.purposes.contains(.all) || $0.categories.contains(.all) }
        if !wildcards.isEmpty {
            let narrowed = wildcards.filter { !$0.except.isEmpty || $0.when != nil || $0.unless != nil }
            add(
                "wildcard_grants", "Permit rules with wildcards", .significant, .limited,
                "Rules granting every purpose or every category: \(rulesList(wildcards)); a category added later is granted without review.",
                [
                    "Exceptions and conditions narrow them: \(narrowed.isEmpty ? "none" : rulesList(narrowed)).",
                    "`accord diff --fail-on-widening` in CI shows what a new category would widen.",
                ],
                residual: (.significant, narrowed.count == wildcards.count ? .negligible : .limited))
        }
    }

    /// Profiling under legitimate interest.
    mutating func profilingOnLegitimateInterest() {
        let liProfiling = facts.purposes.filter { purpose in
            set.purposeFlag(purpose, \.profiling)
                && facts.jurisdictions.contains { plan.legalBasis(jurisdiction: $0, purpose: purpose) == .legitimateInterest }
        }
        if !liProfiling.isEmpty {
            add(
                "profiling_legitimate_interest", "Profiling based on legitimate interest", .significant, .significant,
                "Profiling purposes rest on legitimate interest somewhere: \(liProfiling.joined(separator: ", ")) — regulators expect consent (GDPR Art. 22, EDPB guidance).",
                ["Objections (Art. 21) are honoured at every decision."], residual: (.significant, .limited))
        }
    }

    /// Aggregates without differential privacy.
    mutating func aggregatesWithoutDifferentialPrivacy() {
        let plainAggregates = permits.filter {
            ($0.actions == nil || $0.actions!.contains(.aggregate)) && $0.obligations.differentialPrivacy == nil
        }
        if !plainAggregates.isEmpty {
            let withCohort = plainAggregates.filter { $0.obligations.minCohort != nil }
            add(
                "aggregates_without_dp", "Aggregates without differential privacy", .limited, .limited,
                "Rules permit aggregates with exact results: \(rulesList(plainAggregates)); repeated or overlapping queries can single a person out.",
                ["Minimum cohort sizes: \(withCohort.isEmpty ? "none" : rulesList(withCohort))."],
                residual: (.limited, withCohort.count == plainAggregates.count ? .negligible : .limited))
        }
    }

    /// Consent without expiry.
    mutating func consentWithoutExpiry() {
        let lasting = set.scopes.values.filter { $0.expiresAfter == nil }.map(\.id).sorted()
        if !lasting.isEmpty {
            add(
                "consent_without_expiry", "Consent that never lapses", .limited, .limited,
                "Consent scopes without expires_after: \(lasting.joined(separator: ", ")); a grant given years ago still counts.",
                [
                    "Grants below a scope's minimum_version stop counting when its text changes.",
                    "Withdrawal is in force at the next decision.",
                ],
                residual: (.limited, .limited))
        }
    }

    /// From the trail: unusual denial rates, and actors who keep being refused.
    mutating func fromTheTrail() {
        var byPurpose: [String: (total: Int, denied: Int)] = [:]
        var byActor: [String: (total: Int, denied: Int)] = [:]
        for row in activity where row.purpose != "accord.retention" {
            byPurpose[row.purpose, default: (0, 0)].total += row.records
            byActor[row.actor, default: (0, 0)].total += row.records
            if row.effect == "deny" {
                byPurpose[row.purpose, default: (0, 0)].denied += row.records
                byActor[row.actor, default: (0, 0)].denied += row.records
            }
        }
        let unusual = byPurpose.filter { $0.value.total >= RiskRegister.denialRateMinimum && $0.value.denied * 2 > $0.value.total }.sorted {
            $0.key < $1.key
        }
        if !unusual.isEmpty {
            add(
                "denial_rate", "Unusual denial rates", .limited, .significant,
                "More than half of the decisions were denials for: \(unusual.map { "\($0.key) (\($0.value.denied) of \($0.value.total))" }.joined(separator: ", ")) — callers ask for data they may not use.",
                ["Denied reads return nothing (fail closed); every denial is recorded with its reasons."],
                residual: (.negligible, .significant))
        }
        let insistent = byActor.filter { $0.value.denied >= RiskRegister.deniedAttemptsMinimum && $0.value.denied * 2 >= $0.value.total }
            .sorted {
                $0.key < $1.key
            }
        if !insistent.isEmpty {
            add(
                "repeated_denials", "Repeated denied attempts by an actor", .significant, .significant,
                "Actors denied again and again: \(insistent.map { "\($0.key) (\($0.value.denied) of \($0.value.total))" }.joined(separator: ", ")) — a misconfigured service or an attempt to get around the policy.",
                ["Every attempt is in the audit trail (`accord audit query --actor ID --effect deny`); nothing was served."],
                residual: (.significant, .limited))
        }
    }
}
