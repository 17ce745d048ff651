import HTTPTypes

/// Every error code the server answers with, in one place (docs/server.md lists the same codes; a test checks
/// that the two agree). A code, once published, keeps its meaning.
public enum ServerErrorCode: String, Sendable, CaseIterable {
    case auditUnavailable = "audit.unavailable"
    case authDisabled = "auth.disabled"
    case authInvalidToken = "auth.invalid_token"
    case internalError = "internal"
    case policiesInvalid = "policies.invalid"
    case requestDuplicateKey = "request.duplicate_key"
    case requestInvalid = "request.invalid"
    case requestInvalidJSON = "request.invalid_json"
    case requestInvalidPath = "request.invalid_path"
    case requestInvalidQuery = "request.invalid_query"
    case requestInvalidValue = "request.invalid_value"
    case requestMissingField = "request.missing_field"
    case requestTooLarge = "request.too_large"
    case requestTooManyItems = "request.too_many_items"
    case requestUnsupportedMediaType = "request.unsupported_media_type"

    /// The status a failure with this code is answered with.
    public var status: HTTPResponse.Status {
        switch self {
        case .auditUnavailable: .serviceUnavailable
        case .authDisabled: .forbidden
        case .authInvalidToken: .unauthorized
        case .internalError: .internalServerError
        case .policiesInvalid: .unprocessableContent
        case .requestTooLarge, .requestTooManyItems: .contentTooLarge
        case .requestUnsupportedMediaType: .unsupportedMediaType
        case .requestDuplicateKey, .requestInvalid, .requestInvalidJSON, .requestInvalidPath, .requestInvalidQuery,
            .requestInvalidValue, .requestMissingField:
            .badRequest
        }
    }
}

/// An error answered as JSON with a stable code: `{"error": {"code": …, "message": …}}`.
struct Failure: Error {
    var code: ServerErrorCode
    var message: String

    init(_ code: ServerErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    var status: HTTPResponse.Status { code.status }
}
