import Foundation

/// How hard a commit is pushed to disk before `record` returns.
public enum Durability: String, Sendable, CaseIterable {
    /// `synchronous = FULL`: a recorded decision survives a process crash, an OS crash and power loss.
    case full
    /// `synchronous = NORMAL`: survives a process crash; in WAL mode the last commits can be lost on power loss.
    case normal
    /// `synchronous = OFF`: for benchmarks and throwaway trails only; an OS crash can lose or corrupt the trail.
    case off

    var pragmaValue: Int {
        switch self {
        case .full: 2;
        case .normal: 1;
        case .off: 0
        }
    }
}
