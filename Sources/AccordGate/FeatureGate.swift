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

    public init(plan: DecisionPlan, store: any FeatureStore, trail: any AuditTrail, consent: ConsentStore? = nil) {
        self.plan = plan
        self.store = store
        self.trail = trail
        self.consent = consent
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
        asOf instant: Date = Date(), decisionID: () -> String = { UUID().uuidString.lowercased() }
    ) throws -> [SubjectFeatures] {
        let rows = try store.online(entities: subjects.map(\.id), features: features, asOf: instant)
        var latest: [String: FeatureRow] = [:]
        for row in rows { latest[row.entity + "\u{0}" + row.feature] = row }
        var entries: [AuditEntry] = []
        for subject in subjects {
            let request = DecisionRequest(
                actor: actor, subject: subject, purpose: purpose, action: "read_online",
                resources: features.map { ResourceReference(feature: $0, collectedAt: latest[subject.id + "\u{0}" + $0]?.eventTime) },
                context: context, consent: consent == nil ? ConsentState() : nil)
            let decision = consent?.decide(request, with: plan, asOf: instant) ?? plan.evaluate(request, asOf: instant)
            entries.append(AuditEntry(decision: decision, request: request, decisionID: decisionID(), instant: instant))
        }
        // Recorded before anything is served: a read the trail cannot hold is a read that does not happen.
        let records = try trail.record(batch: entries)
        return zip(entries, records).map { entry, record in
            let values = zip(features, entry.decision.resources).map { feature, resource -> ServedValue in
                let row = latest[entry.request.subject.id + "\u{0}" + feature]
                guard resource.effect == .permit else {
                    return ServedValue(feature: feature, status: .denied, value: nil, eventTime: nil, mask: nil, reasons: resource.reasons,
                                       obligations: Obligations())
                }
                guard let row else {
                    return ServedValue(feature: feature, status: .notFound, value: nil, eventTime: nil, mask: nil, reasons: resource.reasons,
                                       obligations: resource.obligations)
                }
                return ServedValue(feature: feature, status: .present, value: Self.masked(row.value, resource.obligations.mask),
                                   eventTime: row.eventTime, mask: resource.obligations.mask, reasons: resource.reasons,
                                   obligations: resource.obligations)
            }
            return SubjectFeatures(subject: entry.request.subject.id, decisionID: record.decisionID, effect: entry.decision.effect,
                                   values: values)
        }
    }

    /// A value under a mask: `redact` removes it; `hash` replaces it with the SHA-256 of its text (stable,
    /// so it can still join and count, but not be read); `truncate` keeps a string's first four characters
    /// and a number's two leading digits.
    static func masked(_ value: FeatureValue, _ mask: MaskStrategy?) -> FeatureValue? {
        switch mask {
        case nil: return value
        case .redact: return nil
        case .hash: return .string("sha256:" + SHA256.hash(data: Data(value.description.utf8)).map { String(format: "%02x", $0) }.joined())
        case .truncate:
            switch value {
            case .string(let text): return .string(String(text.prefix(4)))
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
        while abs(number) / scale >= 100 { scale *= 10 }
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
        id: String = UUID().uuidString.lowercased()
    ) throws -> TrainingSet {
        let rows = try store.historical(entities: population.map(\.id), features: features, from: from, to: to)
        let bySubject = Dictionary(grouping: rows, by: \.entity)
        var entries: [AuditEntry] = []
        var kept: [FeatureRow] = []
        var excluded: [String: Int] = [:]
        var included: [String] = []
        for subject in population {
            let theirs = bySubject[subject.id] ?? []
            guard !theirs.isEmpty else { continue }
            let request = DecisionRequest(
                actor: actor, subject: subject, purpose: purpose, action: "train",
                resources: theirs.map { ResourceReference(feature: $0.feature, collectedAt: $0.eventTime) },
                context: context, consent: consent == nil ? ConsentState() : nil)
            let decision = consent?.decide(request, with: plan, asOf: instant) ?? plan.evaluate(request, asOf: instant)
            entries.append(AuditEntry(decision: decision, request: request, decisionID: "\(id)/\(entries.count + 1)", instant: instant))
            var any = false
            for (row, resource) in zip(theirs, decision.resources) {
                if resource.effect == .permit {
                    kept.append(row)
                    any = true
                } else {
                    let reason = resource.reasons.first { $0.code.denies }?.code.rawValue ?? "denied"
                    excluded[reason, default: 0] += 1
                }
            }
            if any { included.append(subject.id) }
        }
        kept.sort { ($0.eventTime, $0.entity, $0.feature) < ($1.eventTime, $1.entity, $1.feature) }
        var content = Data()
        for row in kept {
            for part in [row.entity, row.feature, Timestamps.format(row.eventTime), row.value.description] {
                content.append(Data(part.utf8))
                content.append(0)
            }
        }
        let pseudonyms = included.map { lineage.pseudonym(for: $0) }.sorted { $0.lexicographicallyPrecedes($1) }
        let manifest = TrainingManifest(
            id: id, purpose: purpose, actor: actor.id, revision: plan.revision, asOf: instant, from: from, to: to, features: features,
            subjectsAsked: population.count, subjectsIncluded: included.count, rowsIncluded: kept.count, rowsExcluded: excluded,
            contentHash: Self.hex(SHA256.hash(data: content)), subjectsHash: Self.hex(SHA256.hash(data: pseudonyms.reduce(Data(), +))))
        // Recorded before anything is handed out.
        _ = try trail.record(batch: entries)
        try lineage.record(trainingSet: id, purpose: purpose, actor: actor.id, revision: plan.revision,
                           manifest: manifest.json.serialized(), subjects: included, at: instant)
        return TrainingSet(rows: kept, manifest: manifest)
    }

    static func hex(_ digest: SHA256.Digest) -> String { digest.map { String(format: "%02x", $0) }.joined() }
}
