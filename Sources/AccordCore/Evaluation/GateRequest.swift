import Foundation

/// A request to the gate over HTTP: an online read (`subjects`) or a training set (`population`, `from`, `to`),
/// read as strictly as a decision request — unknown fields refused with a suggestion, an actor with an id
/// required, ages from 0 to 150, timestamps in RFC 3339.
public struct GateRequest: Sendable, Equatable {
    public enum Kind: Sendable {
        /// `POST /v1/features/online`: `{subjects, features, purpose, actor, context}`.
        case online
        /// `POST /v1/training-sets`: `{population, features, purpose, actor, context, from, to}`.
        case trainingSet
    }

    public var subjects: [Subject]
    public var features: [String]
    public var purpose: String
    public var actor: Actor
    public var context: RequestContext
    /// The training set's period, `[from, to)` (nil for online reads).
    public var from: Date?
    public var to: Date?

    public static func decode(value: JSONValue, as kind: Kind) throws(RequestError) -> GateRequest {
        let root = try JSONObject(value, path: "")
        let subjectsKey = kind == .online ? "subjects" : "population"
        try root.allow([subjectsKey, "features", "purpose", "actor", "context"] + (kind == .online ? [] : ["from", "to"]))
        guard let list = root[subjectsKey]?.arrayValue, !list.isEmpty else {
            throw RequestError(path: subjectsKey, message: "must be a non-empty list of {id, age, jurisdiction}")
        }
        var subjects: [Subject] = []
        subjects.reserveCapacity(list.count)
        for (i, item) in list.enumerated() { subjects.append(try Subject(JSONObject(item, in: subjectsKey, at: i))) }
        guard let features = try root.strings("features"), !features.isEmpty else {
            throw RequestError(path: "features", message: "must be a non-empty list of feature names")
        }
        var request = GateRequest(
            subjects: subjects, features: features, purpose: try root.string("purpose", required: true)!,
            actor: try Actor(root.object("actor", required: true)!),
            context: try root.object("context").map(RequestContext.init) ?? RequestContext())
        if kind == .trainingSet {
            request.from = try root.date("from", required: true)
            request.to = try root.date("to", required: true)
        }
        return request
    }
}

/// The first line of a client training set (`POST /v1/training-sets/decide`, JSON Lines):
/// `{purpose, actor, context, subjects, id}` — `subjects` (`[{id, age, jurisdiction}]`) optional, `id` the training
/// set's id (else one is made).
public struct ClientTrainingSetHeader: Sendable, Equatable {
    public var id: String?
    public var purpose: String
    public var actor: Actor
    public var context: RequestContext
    public var subjects: [Subject]

    public static func decode(value: JSONValue) throws(RequestError) -> ClientTrainingSetHeader {
        let root = try JSONObject(value, path: "")
        try root.allow(["id", "purpose", "actor", "context", "subjects"])
        var subjects: [Subject] = []
        if let list = root["subjects"] {
            guard let items = list.arrayValue else {
                throw RequestError(path: "subjects", message: "must be a list of {id, age, jurisdiction}")
            }
            for (i, item) in items.enumerated() { subjects.append(try Subject(JSONObject(item, in: "subjects", at: i))) }
        }
        let id = try root.string("id")
        if let id, id.isEmpty || id.utf8.count > 128 || id.contains("/") {
            throw RequestError(path: "id", message: "must be 1 to 128 characters without '/'")
        }
        return ClientTrainingSetHeader(
            id: id, purpose: try root.string("purpose", required: true)!, actor: try Actor(root.object("actor", required: true)!),
            context: try root.object("context").map(RequestContext.init) ?? RequestContext(), subjects: subjects)
    }
}
