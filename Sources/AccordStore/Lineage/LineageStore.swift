import Foundation

/// A training set as the lineage store keeps it.
public struct TrainingSetEntry: Sendable, Equatable {
    public var id: String
    public var createdAt: Date
    public var purpose: String
    public var actor: String
    public var revision: String
    /// The manifest, as JSON text.
    public var manifest: String
    /// Models trained on it, `name@version`, sorted.
    public var models: [String]
}

/// Which training sets used whose data, and which models were trained on them — so that a withdrawal or an
/// erasure can be traced to the models that must be retrained. The SQLite implementation is
/// `SQLiteLineageStore`; any other backend passes the same contract suite (`LineageStoreContract`).
///
/// The contract: a training set and its subjects are recorded together or not at all; subjects are kept as
/// pseudonyms, never in clear; a model can only be registered on a training set that exists; nothing recorded
/// is changed afterwards.
public protocol LineageStore: Sendable {
    /// The subject's pseudonym (the same keyed HMAC as the audit trail's).
    func pseudonym(for subject: String) -> Data
    /// Records a training set and the subjects it included, in one transaction.
    func record(
        trainingSet id: String, purpose: String, actor: String, revision: String, manifest: String, subjects: [String],
        at instant: Date) throws
    /// Registers a model trained on a recorded training set.
    func register(model name: String, version: String, trainingSet id: String, at instant: Date) throws
    /// The training sets that included the subject, oldest first, with the models trained on each.
    func trainingSets(including subject: String) throws -> [TrainingSetEntry]
}
