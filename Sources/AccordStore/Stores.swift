import Foundation

/// Every store a deployment decides and records with, each as its protocol: the one value a backend hands to
/// the runtime and the server (`DecisionService(policies:stores:)`), and that the contract suites open per
/// backend. `sqlite(_:)` is the embedded default, all five in one database file.
public struct Stores: Sendable {
    public var trail: any AuditTrail
    public var consent: any ConsentSource
    public var budgets: any BudgetLedger
    public var lineage: any LineageStore
    public var features: any FeatureStore

    public init(
        trail: any AuditTrail, consent: any ConsentSource, budgets: any BudgetLedger, lineage: any LineageStore,
        features: any FeatureStore
    ) {
        self.trail = trail
        self.consent = consent
        self.budgets = budgets
        self.lineage = lineage
        self.features = features
    }

    /// The SQLite implementations, sharing `database` (opened and migrated by `StoreDatabase`).
    public static func sqlite(_ database: StoreDatabase) throws -> Stores {
        Stores(
            trail: try SQLiteAuditTrail(database: database), consent: try SQLiteConsentStore(database: database),
            budgets: SQLiteBudgetLedger(database: database), lineage: SQLiteLineageStore(database: database),
            features: SQLiteFeatureStore(database: database))
    }
}
