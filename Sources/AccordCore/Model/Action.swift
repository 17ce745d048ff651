/// What a request does with the data.
public enum Action: String, CaseIterable, Sendable, Codable, Hashable {
    case readOnline = "read_online"
    case readOffline = "read_offline"
    case train
    case aggregate
    case export
    case delete

    /// Position in `allCases`, used as a bit index by the compiled plan.
    var index: Int {
        switch self {
        case .readOnline: 0
        case .readOffline: 1
        case .train: 2
        case .aggregate: 3
        case .export: 4
        case .delete: 5
        }
    }

    /// Reads an action name; the same as `init(rawValue:)`, without the generic string switch on the decision path.
    static func named(_ name: String) -> Action? {
        switch name.utf8.count {
        case 11: name == "read_online" ? .readOnline : nil
        case 12: name == "read_offline" ? .readOffline : nil
        case 5: name == "train" ? .train : nil
        case 9: name == "aggregate" ? .aggregate : nil
        case 6: name == "export" ? .export : (name == "delete" ? .delete : nil)
        default: nil
        }
    }
}
