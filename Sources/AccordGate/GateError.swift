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

/// Runs the gate's recording step; its failure becomes `GateError.notRecorded`, so that callers can tell a trail
/// that cannot be written from any other error.
func recording<T>(_ work: () throws -> T) throws -> T {
    do { return try work() } catch { throw GateError.notRecorded("\(error)") }
}
