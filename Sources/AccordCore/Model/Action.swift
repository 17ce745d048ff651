/// What a request does with the data.
public enum Action: String, CaseIterable, Sendable, Codable, Hashable {
    case readOnline = "read_online"
    case readOffline = "read_offline"
    case train
    case aggregate
    case export
    case delete

    /// Position in `allCases`, used as a bit index by the compiled plan.
    var index: Int { Action.allCases.firstIndex(of: self)! }
}
