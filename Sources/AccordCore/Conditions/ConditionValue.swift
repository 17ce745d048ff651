/// A run-time value of a condition. `error` stands for a value that cannot be computed (an absent
/// attribute); logic treats it as CEL does: `false && error` is false, `true || error` is true.
enum ConditionValue: Equatable, Sendable {
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case duration(Int64)
    case timestamp(Int64)
    case list([ConditionValue])
    case error
}
