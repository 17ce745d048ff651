import AccordCore
import Foundation

/// What the engine needs from an audit trail. SQLite (`SQLiteAuditTrail`) is the embedded default; a server
/// backend implements the same contract: `record` returns only once every entry is durable, in one unbroken
/// chain, or throws and records none of them.
public protocol AuditTrail: Sendable {
    /// Appends the decisions in order, in one commit.
    func record(batch entries: [AuditEntry]) throws -> [AuditRecord]
    /// Signs the Merkle root of every record so far.
    func checkpoint(at instant: Date) throws -> Checkpoint
    /// Recomputes chain, hashes, MACs and checkpoints.
    func verify() throws -> AuditVerification
    /// Records matching a query, newest first.
    func query(_ query: AuditQuery) throws -> [AuditRecord]
    /// Makes every record about `subject` unreadable and unlinkable to them; returns how many there were.
    func erase(subject: String, at instant: Date) throws -> Int
    /// The checkpoints signed so far, oldest first.
    func checkpoints() throws -> [Checkpoint]
    /// Decisions recorded in `[from, to)` (either end open when nil), counted per purpose, actor and effect.
    func activity(from: Date?, to: Date?) throws -> [(purpose: String, actor: String, effect: String, records: Int)]
    /// Totals over `[from, to)`: decisions per purpose and effect, the `topReasons` commonest reasons, purges
    /// and erasures.
    func stats(from: Date?, to: Date?, topReasons: Int) throws -> AuditStats
    /// The newest record's sequence, which on an intact trail is the number of records (0 when empty); a cheap
    /// read, for readiness probes and for deciding whether a new checkpoint is due.
    func latestSequence() throws -> Int64
    /// `checkpoint` as a signed note (C2SP format) under the trail's origin, for witnesses to keep.
    func note(for checkpoint: Checkpoint) throws -> CheckpointNote
    /// Why the trail refuses every write (its store was found damaged) until the process restarts, or nil
    /// while it takes them.
    var refusal: String? { get }
}

extension AuditTrail {
    /// A checkpoint as of now.
    public func checkpoint() throws -> Checkpoint { try checkpoint(at: Date()) }

    /// Totals over the whole trail, with the ten commonest reasons.
    public func stats(from: Date? = nil, to: Date? = nil) throws -> AuditStats { try stats(from: from, to: to, topReasons: 10) }

    /// Signs a checkpoint and publishes it to `path` (a file it is appended to, or a folder), flushed to disk.
    @discardableResult
    public func checkpoint(publishingTo path: String, at instant: Date = Date()) throws -> (Checkpoint, CheckpointNote) {
        let checkpoint = try checkpoint(at: instant)
        let note = try note(for: checkpoint)
        try note.publish(to: path)
        return (checkpoint, note)
    }

    /// Appends one decision; returns only once it is committed.
    @discardableResult
    public func record(_ decision: Decision, for request: DecisionRequest, decisionID: String, at instant: Date = Date()) throws
        -> AuditRecord
    {
        try record(batch: [AuditEntry(decision: decision, request: request, decisionID: decisionID, instant: instant)])[0]
    }
}

/// One decision to record.
public struct AuditEntry: Sendable {
    public var decision: Decision
    public var request: DecisionRequest
    public var decisionID: String
    public var instant: Date

    public init(decision: Decision, request: DecisionRequest, decisionID: String, instant: Date = Date()) {
        self.decision = decision
        self.request = request
        self.decisionID = decisionID
        self.instant = instant
    }
}
