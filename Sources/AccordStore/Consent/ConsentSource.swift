import AccordCore
import Foundation

/// Where decisions read a person's consent, and where consent events are recorded. The SQLite implementation
/// is `SQLiteConsentStore`; any other backend passes the same contract suite (`ConsentSourceContract`).
///
/// The contract, for every implementation:
/// - **Append-only history.** `record` adds events and never changes or removes one; `history` returns every
///   event recorded for the subject, in the order they occurred (ties in the order recorded).
/// - **All or none.** One `record` call is one transaction: either every event is stored or none is.
/// - **Read your writes.** Once `record` returns, `consent(subject:asOf:)` from any caller reflects it, so a
///   withdrawal is in force for the very next decision.
/// - **Folded, not guessed.** `consent(subject:asOf:)` folds the events that occurred by `instant`, in order.
public protocol ConsentSource: Sendable {
    /// The subject's consent as of `instant`, with the newest event it rests on.
    func consent(subject: String, asOf instant: Date) throws -> DerivedConsent
    /// Every event recorded for the subject, oldest first.
    func history(subject: String) throws -> [ConsentEventRecord]
    /// Records events for any subjects, in order, in one transaction; returns them with their ids.
    @discardableResult
    func record(_ events: [(subject: String, event: ConsentEvent)], at instant: Date) throws -> [ConsentEventRecord]
    /// Events that occurred in `[from, to)`, counted by kind and target (what a PIA reports of consent in practice).
    func eventCounts(from: Date?, to: Date?) throws -> [(kind: String, target: String, events: Int)]
}

extension ConsentSource {
    /// Records events for one subject, in order, in one transaction.
    @discardableResult
    public func record(_ events: [ConsentEvent], subject: String, at instant: Date = Date()) throws -> [ConsentEventRecord] {
        try record(events.map { (subject, $0) }, at: instant)
    }

    /// Records a Global Privacy Control signal (`Sec-GPC: 1`): an opt-out of sale and sharing, which applies in
    /// the jurisdictions whose policy honours the `sale_or_share` flag and the GPC signal.
    @discardableResult
    public func recordGPC(subject: String, at instant: Date = Date(), evidence: String? = nil) throws -> ConsentEventRecord {
        try record(
            [ConsentEvent(kind: .optOut, target: "sale_or_share", source: .gpc, occurredAt: instant, evidence: evidence)],
            subject: subject, at: instant)[0]
    }

    /// `request` with the subject's stored consent as of `instant`, unless it carries its own.
    public func filling(_ request: DecisionRequest, asOf instant: Date) throws -> DecisionRequest {
        guard !request.consentIsInline else { return request }
        var filled = request
        filled.consent = try consent(subject: request.subject.id, asOf: instant).state
        return filled
    }
}
