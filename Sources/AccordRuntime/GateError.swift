/// Why the gate served nothing.
public enum GateError: Error, CustomStringConvertible, Sendable {
    /// The decisions could not be recorded, so nothing was served (fail closed): the cause, as the trail gave it.
    case notRecorded(String)

    public var description: String {
        switch self {
        case .notRecorded(let cause): "nothing was served: the decisions could not be recorded (\(cause))"
        }
    }
}
