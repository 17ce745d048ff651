import AccordCore

/// Told of every decision the decision point answers, so that failing closed is loud: the server counts and
/// logs the causes and fails readiness while the trail cannot be written. Called on the deciding thread or
/// task, after the outcome is known; it must not block.
public protocol FailClosedObserver: Sendable {
    /// Decisions just answered; `recorded`: whether their commit went through (false: each is a deny naming why).
    func observe(_ decisions: [Decision], recorded: Bool)
}
