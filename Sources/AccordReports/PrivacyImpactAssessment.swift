import AccordCore
import AccordStore
import Foundation

/// A privacy impact assessment, structured as GDPR Art. 35(7) asks: (a) a systematic description of the
/// processing, (b) necessity and proportionality, (c) the risks, (d) the measures against them — computed
/// from the policies, with the audit trail (and consent store) as evidence of what actually happened.
public struct PrivacyImpactAssessment: Sendable {
    /// The CNIL's four levels, for severity and likelihood alike.
    public enum Level: Int, Sendable, Comparable, CaseIterable {
        case negligible = 1, limited, significant, maximum

        public var name: String { ["negligible", "limited", "significant", "maximum"][rawValue - 1] }
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    /// (a) One purpose: what it reads, about whom, on what basis, how long, where, and who used it.
    public struct Processing: Sendable {
        public var purpose: String
        public var description: String?
        public var profiling: Bool
        public var saleOrShare: Bool
        public var actions: [String]
        public var categories: [CategoryUse]
        /// Jurisdiction → legal basis (jurisdictions that give the purpose none are left out).
        public var legalBases: [(jurisdiction: String, basis: String)]
        /// Where the data may be processed for these subjects ("anywhere" for a jurisdiction without a list).
        public var regions: [String]
        /// Regions outside a subject's own jurisdiction that processing or storage may reach.
        public var transfers: [String]
        /// Actors the trail shows using the purpose, with their decision counts.
        public var recipients: [(actor: String, decisions: Int)]
    }

    public struct CategoryUse: Sendable {
        public var category: String
        public var sensitive: Bool
        /// The shortest retention limit for this purpose, as written (`90d`), with what happens after.
        public var retention: String?
    }

    /// (b) Necessity and proportionality.
    public struct Necessity: Sendable {
        public var catalogCategories: [String]
        /// Per purpose, how many of the catalog's categories it may read.
        public var minimisation: [(purpose: String, categories: Int)]
        public var retention: [(categories: String, purposes: String, maxAge: String, onExpiry: String)]
        public var consentScopes: [(id: String, version: Int, purposes: String, expiresAfter: String?, explicitCategories: String)]
        public var withdrawalHandling: String
        public var rights: [String]
    }

    /// (c) and (d): one finding, its measures and what is left.
    public struct Risk: Sendable {
        public var id: String
        public var kind: String
        public var title: String
        public var severity: Level
        public var likelihood: Level
        public var rationale: String
        public var measures: [String]
        public var residualSeverity: Level
        public var residualLikelihood: Level
    }

    /// What the trail says happened in the window.
    public struct Evidence: Sendable {
        public var from: Date?
        public var to: Date
        public var records: Int
        public var byPurpose: [(purpose: String, permit: Int, partial: Int, deny: Int)]
        public var topReasons: [(code: String, records: Int)]
        public var consentEvents: [(kind: String, target: String, events: Int)]
        public var retentionPurges: Int
        public var erasures: Int
        public var intact: Bool
        public var problems: [String]
        public var checkpoint: (size: Int64, root: String, createdAt: Date)?
    }

    public var title: String
    public var generatedAt: Date
    public var revision: String
    public var processing: [Processing]
    public var necessity: Necessity
    public var risks: [Risk]
    public var evidence: Evidence?
}
