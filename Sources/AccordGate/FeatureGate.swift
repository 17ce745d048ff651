import AccordCore
import AccordStore
import Crypto
import Foundation

/// The gate in front of a feature store: every read goes through a decision, and every decision into the
/// audit trail. A value comes back only if its feature is permitted for the purpose; otherwise it comes back
/// absent, with the reason. If the store or the trail fails, nothing comes back (fail closed).
public struct FeatureGate: Sendable {
    public let plan: DecisionPlan
    public let store: any FeatureStore
    public let trail: any AuditTrail
    /// Where the subjects' consent is read from (requests through the gate carry none of their own).
    public let consent: ConsentStore?
    /// Group commit: callers on several threads sharing this gate (or copies of it) share commits, each still
    /// returning only once its own records are committed.
    let writer: AuditWriter

    public init(plan: DecisionPlan, store: any FeatureStore, trail: any AuditTrail, consent: ConsentStore? = nil) {
        self.init(plan: plan, store: store, writer: AuditWriter(trail: trail), consent: consent)
    }

    /// A gate recording through `writer`, shared with other users of the trail (a server's requests, say), so that
    /// they share commits.
    public init(plan: DecisionPlan, store: any FeatureStore, writer: AuditWriter, consent: ConsentStore? = nil) {
        self.plan = plan
        self.store = store
        self.trail = writer.trail
        self.consent = consent
        self.writer = writer
    }

    /// What became of one requested feature of one subject, as Feast users know it, plus `DENIED`.
    public enum Status: String, Sendable {
        /// Permitted, and a value exists (masked if an obligation says so).
        case present = "PRESENT"
        /// Permitted, but the store holds no value as of the instant.
        case notFound = "NOT_FOUND"
        /// Not permitted for this purpose: no value, whether one exists or not.
        case denied = "DENIED"
    }

    public struct ServedValue: Sendable {
        public var feature: String
        public var status: Status
        /// The value as the caller may use it (after masking); nil unless present and not redacted.
        public var value: FeatureValue?
        public var eventTime: Date?
        /// The mask applied, if any.
        public var mask: MaskStrategy?
        /// Why the feature was permitted or denied.
        public var reasons: [Reason]
        /// What the caller must still do with the value (cohort sizes, differential privacy, deletion).
        public var obligations: Obligations
    }

    public struct SubjectFeatures: Sendable {
        public var subject: String
        public var decisionID: String
        public var effect: DecisionEffect
        public var values: [ServedValue]
    }

    /// Online read: the latest value of each feature for each subject, as of `instant`, for `purpose`. One
    /// decision per subject, all recorded in one commit before anything is returned.
    public func onlineFeatures(
        subjects: [Subject], features: [String], purpose: String, actor: Actor, context: RequestContext = RequestContext(),
        asOf instant: Date = Date(), decisionID: () -> String = { DecisionID.next() }
    ) throws -> [SubjectFeatures] {
        let rows = try store.online(entities: subjects.map(\.id), features: features, asOf: instant)
        // The latest row of each (subject, feature), by position in the request.
        let featureIndex = Dictionary(features.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let subjectIndex = Dictionary(subjects.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        var latest = [FeatureRow?](repeating: nil, count: subjects.count * features.count)
        for row in rows {
            guard let s = subjectIndex[row.entity], let f = featureIndex[row.feature] else { continue }
            let slot = s * features.count + f
            if latest[slot].map({ $0.eventTime < row.eventTime }) ?? true { latest[slot] = row }
        }
        var entries: [AuditEntry] = []
        entries.reserveCapacity(subjects.count)
        for subject in subjects {
            let s = subjectIndex[subject.id]!
            let request = DecisionRequest(
                actor: actor, subject: subject, purpose: purpose, action: "read_online",
                // A feature with no value is decided as if a fresh one were read, so that it comes back
                // NOT_FOUND where a value would be permitted, not DENIED for an unknown age.
                resources: features.indices.map { f in
                    ResourceReference(feature: features[f], collectedAt: latest[s * features.count + (featureIndex[features[f]] ?? f)]?.eventTime ?? instant)
                },
                context: context, consent: consent == nil ? ConsentState() : nil)
            let decision = consent?.decide(request, with: plan, asOf: instant) ?? plan.evaluate(request, asOf: instant)
            entries.append(AuditEntry(decision: decision, request: request, decisionID: decisionID(), instant: instant))
        }
        // Recorded before anything is served: a read the trail cannot hold is a read that does not happen.
        let records = try recording { try writer.record(batch: entries) }
        var result: [SubjectFeatures] = []
        result.reserveCapacity(entries.count)
        for (entry, record) in zip(entries, records) {
            let s = subjectIndex[entry.request.subject.id]!
            var values: [ServedValue] = []
            values.reserveCapacity(features.count)
            for (f, resource) in entry.decision.resources.enumerated() {
                let feature = features[f]
                guard resource.effect == .permit else {
                    values.append(ServedValue(feature: feature, status: .denied, value: nil, eventTime: nil, mask: nil, reasons: resource.reasons,
                                              obligations: Obligations()))
                    continue
                }
                guard let row = latest[s * features.count + (featureIndex[feature] ?? f)] else {
                    values.append(ServedValue(feature: feature, status: .notFound, value: nil, eventTime: nil, mask: nil, reasons: resource.reasons,
                                              obligations: resource.obligations))
                    continue
                }
                values.append(ServedValue(feature: feature, status: .present, value: Self.masked(row.value, resource.obligations.mask),
                                          eventTime: row.eventTime, mask: resource.obligations.mask, reasons: resource.reasons,
                                          obligations: resource.obligations))
            }
            result.append(SubjectFeatures(subject: entry.request.subject.id, decisionID: record.decisionID, effect: entry.decision.effect,
                                          values: values))
        }
        return result
    }

    /// A value under a mask: `redact` removes it; `hash` replaces it with the SHA-256 of its text (stable, so it
    /// can still join and count — but a value from a small set, an age or a postcode, can be found again by
    /// hashing every candidate: use `redact` for those); `truncate` keeps a string's first four characters
    /// (shorter strings are removed) and a number's two leading digits.
    static func masked(_ value: FeatureValue, _ mask: MaskStrategy?) -> FeatureValue? {
        switch mask {
        case nil: return value
        case .redact: return nil
        case .hash: return .string("sha256:" + Self.hex(SHA256.hash(data: Data(value.description.utf8))))
        case .truncate:
            switch value {
            case .string(let text): return text.count <= 4 ? nil : .string(String(text.prefix(4)))  // a short string would stay whole
            case .int(let number): return .int(Self.twoDigits(number))
            case .double(let number):
                guard number != 0, number.isFinite else { return value }
                let scale = pow(10, floor(log10(abs(number))) - 1)
                return .double((number / scale).rounded(.towardZero) * scale)
            case .bool: return value
            }
        }
    }

    static func twoDigits(_ number: Int64) -> Int64 {
        var scale: Int64 = 1
        while (number / scale).magnitude >= 100 { scale *= 10 }
        return number / scale * scale
    }
}

// MARK: - Training sets

extension FeatureGate {
    /// What a trainer gets: the rows it may use and the manifest that says how they were chosen.
    public struct TrainingSet: Sendable {
        public var rows: [FeatureRow]
        public var manifest: TrainingManifest
    }

    /// How a training set was chosen, recorded with it.
    public struct TrainingManifest: Sendable {
        public var id: String
        public var purpose: String
        public var actor: String
        public var revision: String
        /// The instant the decisions and the consent state were taken at.
        public var asOf: Date
        public var from: Date
        public var to: Date
        public var features: [String]
        public var subjectsAsked: Int
        public var subjectsIncluded: Int
        public var rowsIncluded: Int
        /// Rows left out, by the first reason their use was refused (`consent.missing`, `retention.expired`, …).
        public var rowsExcluded: [String: Int]
        /// SHA-256 over the rows handed out (entity, feature, event time, value; in order).
        public var contentHash: String
        /// SHA-256 over the sorted pseudonyms of the subjects included.
        public var subjectsHash: String

        public var json: JSONValue {
            .object([
                ("id", .string(id)), ("purpose", .string(purpose)), ("actor", .string(actor)), ("revision", .string(revision)),
                ("as_of", .string(Timestamps.format(asOf))), ("from", .string(Timestamps.format(from))), ("to", .string(Timestamps.format(to))),
                ("features", .array(features.map(JSONValue.string))), ("subjects_asked", .int(subjectsAsked)),
                ("subjects_included", .int(subjectsIncluded)), ("rows_included", .int(rowsIncluded)),
                ("rows_excluded", .object(rowsExcluded.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
                ("content_hash", .string(contentHash)), ("subjects_hash", .string(subjectsHash)),
            ])
        }
    }

    /// A training set: every stored value of `features` for the `population` with an event time in
    /// `[from, to)`, each row decided as a `train` use for `purpose` — rows of subjects without consent, rows
    /// older than retention allows, features not permitted for the purpose, and rows whose processing region is
    /// refused are left out. The decisions (one per subject) and the manifest are recorded — the manifest and
    /// who was included in `lineage`, so that a withdrawal can be traced to the models trained on them.
    public func trainingSet(
        features: [String], purpose: String, actor: Actor, population: [Subject], from: Date, to: Date,
        context: RequestContext = RequestContext(), asOf instant: Date = Date(), lineage: LineageStore,
        id: String = DecisionID.next()
    ) throws -> TrainingSet {
        let population = Self.distinct(population)
        // Oldest first (then by entity and feature): the order the rows are handed out in.
        let rows = try store.historical(entities: population.map(\.id), features: features, from: from, to: to)
        var bySubject: [String: [Int]] = [:]
        for (index, row) in rows.enumerated() { bySubject[row.entity, default: []].append(index) }
        // What each row becomes: nil if left out, else its value as handed out (masked).
        var handedOut = [FeatureValue?](repeating: nil, count: rows.count)
        var entries: [AuditEntry] = []
        var excluded: [String: Int] = [:]
        var included: [String] = []
        for subject in population {
            guard let theirs = bySubject[subject.id] else { continue }
            let request = DecisionRequest(
                actor: actor, subject: subject, purpose: purpose, action: "train",
                resources: theirs.map { ResourceReference(feature: rows[$0].feature, collectedAt: rows[$0].eventTime) },
                context: context, consent: consent == nil ? ConsentState() : nil)
            var decision = consent?.decide(request, with: plan, asOf: instant) ?? plan.evaluate(request, asOf: instant)
            var any = false
            // Recorded: one resource per feature and outcome (see `recordedAlike`).
            var recorded: [ResourceDecision] = []
            for (index, resource) in zip(theirs, decision.resources) {
                if !recorded.contains(where: { $0.resource == resource.resource && Self.recordedAlike($0, resource) }) { recorded.append(resource) }
                // A mask binds the trainer as it binds a reader; a redacted value is no row at all.
                if resource.effect == .permit, let value = Self.masked(rows[index].value, resource.obligations.mask) {
                    handedOut[index] = value
                    any = true
                } else if resource.effect == .permit {
                    excluded["mask.redact", default: 0] += 1
                } else {
                    let reason = resource.reasons.first { $0.code.denies }?.code.rawValue ?? "denied"
                    excluded[reason, default: 0] += 1
                }
            }
            decision.resources = recorded
            entries.append(AuditEntry(decision: decision, request: request, decisionID: "\(id)/\(entries.count + 1)", instant: instant))
            if any { included.append(subject.id) }
        }
        var kept: [FeatureRow] = []
        var content = ContentHash()
        for (index, value) in handedOut.enumerated() {
            guard let value else { continue }
            var row = rows[index]
            row.value = value
            content.add(row)
            kept.append(row)
        }
        let pseudonyms = included.map { lineage.pseudonym(for: $0) }.sorted { $0.lexicographicallyPrecedes($1) }
        let manifest = TrainingManifest(
            id: id, purpose: purpose, actor: actor.id, revision: plan.revision, asOf: instant, from: from, to: to, features: features,
            subjectsAsked: population.count, subjectsIncluded: included.count, rowsIncluded: kept.count, rowsExcluded: excluded,
            contentHash: content.finish(), subjectsHash: Self.hex(SHA256.hash(data: pseudonyms.reduce(Data(), +))))
        // Recorded before anything is handed out.
        _ = try recording { try writer.record(batch: entries) }
        try lineage.record(trainingSet: id, purpose: purpose, actor: actor.id, revision: plan.revision,
                           manifest: manifest.json.serialized(), subjects: included, at: instant)
        return TrainingSet(rows: kept, manifest: manifest)
    }

    /// Two resource decisions that record the same (a training set records one resource per feature and outcome:
    /// the rows of a feature decided alike are one entry, with their deletion deadlines left out).
    static func recordedAlike(_ a: ResourceDecision, _ b: ResourceDecision) -> Bool {
        a.effect == b.effect && a.reasons == b.reasons && a.category == b.category && a.consentEvents == b.consentEvents
            && a.obligations == b.obligations && a.epsilonSpent == b.epsilonSpent
    }

    /// SHA-256 over rows, each as its entity, feature, event time (Unix seconds) and value, every field ended
    /// by a zero byte; fed in blocks rather than row by row.
    struct ContentHash {
        private var hasher = SHA256()
        private var buffer: [UInt8] = []

        mutating func add(_ row: FeatureRow) {
            for part in [row.entity, row.feature, String(Int64(row.eventTime.timeIntervalSince1970.rounded(.down))), row.value.description] {
                buffer.append(contentsOf: part.utf8)
                buffer.append(0)
            }
            if buffer.count >= 1 << 16 {
                hasher.update(data: buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }

        mutating func finish() -> String {
            hasher.update(data: buffer)
            return FeatureGate.hex(hasher.finalize())
        }
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in digest { out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 0xF)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

// MARK: - Aggregates

extension FeatureGate {
    public enum AggregateFunction: String, Sendable, CaseIterable {
        case count, sum, mean
    }

    /// An aggregate over a cohort, or why it was refused.
    public struct Aggregate: Sendable {
        public var function: AggregateFunction
        public var feature: String
        /// The statistic (with noise when differential privacy applies); nil when refused.
        public var value: Double?
        /// Why it was refused (`cohort.too_small`, `budget.exhausted`, …); empty when computed.
        public var refusals: [Reason]
        /// Subjects whose value was permitted and counted — exact only without differential privacy (under it,
        /// nil: the exact size would undo the noise of a count).
        public var cohort: Int?
        /// The noise added: `laplace` or `gaussian`, with the epsilon spent; nil without differential privacy.
        public var mechanism: String?
        public var epsilonSpent: Double?
        public var decisionIDs: [String]
    }

    /// `count`, `sum` or `mean` of a numeric feature's latest values over a cohort, as of `instant`. Each
    /// subject's value is decided as an `aggregate` use for `purpose`; only permitted values count. The
    /// strictest `min_cohort` of the permitted values must be met, or the aggregate is refused. Under a
    /// `differential_privacy` obligation, values are clipped to `clip`, the epsilon is spent from the budget
    /// (if any; refused when exhausted) and calibrated noise is added — Laplace, or Gaussian when `delta` is
    /// given (the mean spends half its epsilon on the sum and half on the count). Decisions are recorded first.
    public func aggregate<R: RandomNumberGenerator>(
        _ function: AggregateFunction, of feature: String, cohort: [Subject], purpose: String, actor: Actor,
        context: RequestContext = RequestContext(), clip: ClosedRange<Double> = 0...1, budgets: PrivacyBudgetLedger? = nil,
        asOf instant: Date = Date(), random: inout R, id: String = DecisionID.next()
    ) throws -> Aggregate {
        // Each person once: a repeated subject would count twice towards min_cohort and the sensitivity.
        let cohort = Self.distinct(cohort)
        let rows = try store.online(entities: cohort.map(\.id), features: [feature], asOf: instant)
        let values = Dictionary(rows.map { ($0.entity, $0) }, uniquingKeysWith: { first, _ in first })
        var entries: [AuditEntry] = []
        var permitted: [(subject: String, value: Double)] = []
        var obligations: Obligations?
        var permittedEntry: [String: Int] = [:]
        for subject in cohort {
            let request = DecisionRequest(
                actor: actor, subject: subject, purpose: purpose, action: "aggregate",
                resources: [ResourceReference(feature: feature, collectedAt: values[subject.id]?.eventTime)],
                context: context, consent: consent == nil ? ConsentState() : nil)
            let decision = consent?.decide(request, with: plan, asOf: instant) ?? plan.evaluate(request, asOf: instant)
            entries.append(AuditEntry(decision: decision, request: request, decisionID: "\(id)/\(entries.count + 1)", instant: instant))
            guard let resource = decision.resources.first, resource.effect == .permit, let row = values[subject.id],
                  let value = Self.masked(row.value, resource.obligations.mask), let number = Self.number(value)
            else { continue }
            permitted.append((subject.id, number))
            permittedEntry[subject.id] = entries.count - 1
            obligations = obligations.map { $0.combined(with: resource.obligations) } ?? resource.obligations
        }
        /// Folds the outcome into the decisions — a refusal denies the values that were permitted, a spend is
        /// noted on the values that paid it — and records them all before the result is returned.
        func recorded(_ result: Aggregate, spentBy subjects: [String] = []) throws -> Aggregate {
            if let refusal = result.refusals.first {
                for index in permittedEntry.values { entries[index].decision = entries[index].decision.denying([0], because: refusal) }
            } else if let epsilon = result.epsilonSpent {
                for subject in subjects { if let index = permittedEntry[subject] { entries[index].decision.resources[0].epsilonSpent = epsilon } }
            }
            _ = try recording { try writer.record(batch: entries) }
            return result
        }
        var result = Aggregate(function: function, feature: feature, value: nil, refusals: [], cohort: permitted.count, mechanism: nil,
                               epsilonSpent: nil, decisionIDs: entries.map(\.decisionID))
        let minimum = obligations?.minCohort ?? 1
        guard permitted.count >= max(minimum, 1) else {
            result.refusals = [Reason(.cohortTooSmall, detail: "fewer than \(minimum)")]
            result.cohort = obligations?.differentialPrivacy == nil ? permitted.count : nil
            return try recorded(result)
        }
        guard let dp = obligations?.differentialPrivacy else {
            result.value = Self.exact(function, permitted.map(\.value))
            return try recorded(result)
        }
        if let budget = dp.budget {
            guard let budgets else {
                result.refusals = [Reason(.budgetUnavailable, detail: "the obligation carries a budget and no ledger was given")]
                return try recorded(result)
            }
            if budget.perSubject {
                // Each person's own budget: those who have none left are left out, and the cohort checked again.
                permitted = try permitted.filter { item in
                    try budgets.spend(epsilon: dp.epsilon, from: budget, purpose: purpose, subject: item.subject, decisionID: id, at: instant)
                }
                guard permitted.count >= max(minimum, 1) else {
                    result.refusals = [Reason(.budgetExhausted, detail: "too few people with budget left (fewer than \(minimum))")]
                    return try recorded(result)
                }
            } else {
                guard try budgets.spend(epsilon: dp.epsilon, from: budget, purpose: purpose, subject: "", decisionID: id, at: instant) else {
                    result.refusals = [Reason(.budgetExhausted, detail: "epsilon \(dp.epsilon) per query, \(budget.total) per \(budget.period)")]
                    return try recorded(result)
                }
            }
        }
        result.cohort = nil
        let clipped = permitted.map { min(max($0.value, clip.lowerBound), clip.upperBound) }
        let bound = max(abs(clip.lowerBound), abs(clip.upperBound))
        // The classic Gaussian calibration holds only for epsilon below 1; above, Laplace (pure epsilon-DP) is used.
        let gaussian = (dp.delta ?? 0) > 0 && dp.epsilon < 1
        func noisy(_ exact: Double, sensitivity: Double, epsilon: Double, delta: Double? = dp.delta) -> Double {
            if gaussian, let delta {
                let sigma = sensitivity * (2 * log(1.25 / delta)).squareRoot() / epsilon
                return exact + Self.gaussian(sigma: sigma, &random)
            }
            return exact + Self.laplace(scale: sensitivity / epsilon, &random)
        }
        switch function {
        case .count: result.value = noisy(Double(clipped.count), sensitivity: 1, epsilon: dp.epsilon)
        case .sum: result.value = noisy(clipped.reduce(0, +), sensitivity: bound, epsilon: dp.epsilon)
        case .mean:
            // Half the epsilon (and half the delta) on the sum, half on the count.
            let sum = noisy(clipped.reduce(0, +), sensitivity: bound, epsilon: dp.epsilon / 2, delta: dp.delta.map { $0 / 2 })
            let count = max(1, noisy(Double(clipped.count), sensitivity: 1, epsilon: dp.epsilon / 2, delta: dp.delta.map { $0 / 2 }))
            result.value = min(max(sum / count, clip.lowerBound), clip.upperBound)
        }
        result.mechanism = gaussian ? "gaussian" : "laplace"
        result.epsilonSpent = dp.epsilon
        return try recorded(result, spentBy: permitted.map(\.subject))
    }

    /// The subjects in order, each once (by id).
    static func distinct(_ subjects: [Subject]) -> [Subject] {
        var seen: Set<String> = []
        return subjects.filter { seen.insert($0.id).inserted }
    }

    static func number(_ value: FeatureValue) -> Double? {
        switch value {
        case .int(let number): Double(number)
        case .double(let number): number.isFinite ? number : nil
        case .bool(let flag): flag ? 1 : 0
        case .string: nil
        }
    }

    static func exact(_ function: AggregateFunction, _ values: [Double]) -> Double {
        switch function {
        case .count: Double(values.count)
        case .sum: values.reduce(0, +)
        case .mean: values.reduce(0, +) / Double(values.count)
        }
    }

    /// Laplace(0, scale) by inverse transform. (Textbook floating-point sampling: see docs/gate.md.)
    static func laplace<R: RandomNumberGenerator>(scale: Double, _ random: inout R) -> Double {
        var u = 0.0
        repeat { u = Double.random(in: -0.5..<0.5, using: &random) } while u == -0.5
        return -scale * (u < 0 ? -1 : 1) * log(1 - 2 * abs(u))
    }

    /// Normal(0, sigma) by the Box–Muller transform.
    static func gaussian<R: RandomNumberGenerator>(sigma: Double, _ random: inout R) -> Double {
        var u1 = 0.0
        repeat { u1 = Double.random(in: 0..<1, using: &random) } while u1 == 0
        let u2 = Double.random(in: 0..<1, using: &random)
        return sigma * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}
