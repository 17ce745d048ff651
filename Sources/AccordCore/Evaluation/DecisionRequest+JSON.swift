import Foundation

/// A request that could not be read, with a JSON path to the problem.
public struct RequestError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

extension DecisionRequest {
    /// Reads a request from its JSON form (see `docs/requests.md`). Strict: unknown keys, wrong types and keys
    /// said twice are errors.
    public static func decode(json data: Data) throws(RequestError) -> DecisionRequest {
        try decode(json: [UInt8](data))
    }

    /// The same, from bytes: `JSONReader`'s failures become request errors (a repeated key at its path).
    public static func decode(json bytes: [UInt8]) throws(RequestError) -> DecisionRequest {
        if let common = decodeCommon(json: bytes) { return common }
        let value: JSONValue
        do {
            value = try JSONReader.parse(bytes)
        } catch {
            if case .duplicateKey(let key) = error.kind {
                throw RequestError(
                    path: error.path.isEmpty ? key : "\(error.path).\(key)", message: "duplicate key; a request must say each thing once")
            }
            throw RequestError(path: "", message: "invalid JSON: \(error)")
        }
        return try decode(value: value)
    }

    /// Reads a request from a `JSONSerialization` or YAML object (strings, numbers, booleans, null, lists, maps).
    public static func decode(object: Any) throws(RequestError) -> DecisionRequest {
        guard let value = JSONValue(any: object) else { throw RequestError(path: "", message: "holds a value JSON cannot") }
        return try decode(value: value)
    }

    /// Reads a request from its JSON value.
    public static func decode(value: JSONValue) throws(RequestError) -> DecisionRequest {
        let root = try JSONObject(value, path: "")
        try root.allow(["id", "actor", "subject", "purpose", "action", "resources", "context", "consent"])
        let actor = try Actor(root.object("actor", required: true)!)
        let subject = try Subject(root.object("subject", required: true)!)
        var resources: [ResourceReference] = []
        guard let list = root["resources"]?.arrayValue else {
            throw RequestError(path: root.child("resources"), message: root["resources"] == nil ? "required" : "must be a list")
        }
        resources.reserveCapacity(list.count)
        for (i, item) in list.enumerated() {
            if case .string(let name) = item {
                resources.append(ResourceReference(feature: name))
                continue
            }
            let resource = try JSONObject(item, in: root.child("resources"), at: i)
            try resource.allow(["feature", "category", "type", "id", "properties", "collected_at"])
            let feature = try resource.string("feature"), category = try resource.string("category")
            if let type = try resource.string("type") {
                guard feature == nil, category == nil else {
                    throw RequestError(path: resource.path, message: "an entity resource ('type' and 'id') names no feature or category")
                }
                guard let id = try resource.string("id") else {
                    throw RequestError(path: resource.child("id"), message: "required with 'type'")
                }
                resources.append(
                    ResourceReference(
                        type: type, id: id, properties: try resource.properties(), collectedAt: try resource.date("collected_at")))
                continue
            }
            if resource["id"] != nil || resource["properties"] != nil {
                throw RequestError(path: resource.path, message: "'id' and 'properties' belong to an entity resource, which needs 'type'")
            }
            if feature == nil && category == nil {
                throw RequestError(path: resource.path, message: "needs 'feature', 'category', or 'type' and 'id'")
            }
            resources.append(ResourceReference(feature: feature, category: category, collectedAt: try resource.date("collected_at")))
        }
        let context = try root.object("context").map(RequestContext.init) ?? RequestContext()
        var consent: ConsentState?
        if let consentObject = try root.object("consent") {
            try consentObject.allow(["grants", "objections", "opt_outs"])
            var grants: [ConsentGrant] = []
            if let list = consentObject["grants"] {
                guard let items = list.arrayValue else {
                    throw RequestError(path: consentObject.child("grants"), message: "must be a list")
                }
                for (i, item) in items.enumerated() {
                    let grant = try JSONObject(item, in: consentObject.child("grants"), at: i)
                    try grant.allow(["scope", "version", "granted_at", "by_guardian"])
                    grants.append(
                        ConsentGrant(
                            scope: try grant.string("scope", required: true)!,
                            version: try grant.int("version", in: 1...1_000_000) ?? 1,
                            grantedAt: try grant.date("granted_at", required: true)!,
                            byGuardian: try grant.bool("by_guardian") ?? false))
                }
            }
            consent = ConsentState(
                grants: grants, objections: try consentObject.strings("objections") ?? [],
                optOuts: try consentObject.strings("opt_outs") ?? [])
        }
        return DecisionRequest(
            id: try root.string("id"), actor: actor, subject: subject,
            purpose: try root.string("purpose", required: true)!, action: try root.string("action", required: true)!,
            resources: resources, context: context, consent: consent)
    }
}

/// Strict reading of one JSON object.
// MARK: - The parts every request shares, read alike wherever they appear

extension Actor {
    /// `{id, roles, type, properties}`: `id` required, nothing else allowed.
    init(_ object: JSONObject) throws(RequestError) {
        try object.allow(["id", "roles", "type", "properties"])
        self.init(
            id: try object.string("id", required: true)!, roles: try object.strings("roles") ?? [], type: try object.string("type"),
            properties: try object.properties())
    }
}

extension Subject {
    /// `{id, age, jurisdiction, type, properties}`: `id` required, an age from 0 to 150, nothing else allowed.
    init(_ object: JSONObject) throws(RequestError) {
        try object.allow(["id", "age", "jurisdiction", "type", "properties"])
        self.init(
            id: try object.string("id", required: true)!, age: try object.int("age", in: 0...150),
            jurisdiction: try object.string("jurisdiction"), type: try object.string("type"), properties: try object.properties())
    }
}

extension RequestContext {
    /// `{processing_region, gpc, environment}`, nothing else allowed.
    init(_ object: JSONObject) throws(RequestError) {
        try object.allow(["processing_region", "gpc", "environment"])
        self.init(
            processingRegion: try object.string("processing_region"), gpc: try object.bool("gpc") ?? false,
            environment: try object.string("environment"))
    }
}

struct JSONObject {
    let pairs: [(String, JSONValue)]
    /// Where the object is, spelled only when an error names it: the list it is in and its index there, or
    /// (with no index) its path.
    private let base: String
    private let index: Int?

    var path: String { index.map { "\(base)[\($0)]" } ?? base }

    init(_ value: JSONValue, path: String) throws(RequestError) {
        guard case .object(let pairs) = value else { throw RequestError(path: path, message: "must be an object") }
        self.pairs = pairs
        self.base = path
        self.index = nil
    }

    /// Item `index` of the list at `list`.
    init(_ value: JSONValue, in list: String, at index: Int) throws(RequestError) {
        guard case .object(let pairs) = value else { throw RequestError(path: "\(list)[\(index)]", message: "must be an object") }
        self.pairs = pairs
        self.base = list
        self.index = index
    }

    subscript(key: String) -> JSONValue? { pairs.first { $0.0 == key }?.1 }

    func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func allow(_ keys: [String]) throws(RequestError) {
        // Nearly always every key is allowed; only then are they sorted, to name the first unknown one alike.
        guard pairs.contains(where: { !keys.contains($0.0) }) else { return }
        for key in pairs.map(\.0).sorted() where !keys.contains(key) {
            let hint = Suggestion.closest(to: key, in: keys).map { " (did you mean '\($0)'?)" } ?? ""
            throw RequestError(path: child(key), message: "unknown field\(hint)")
        }
    }

    /// The value under `key`, null counting as absent.
    private func present(_ key: String, required: Bool = false) throws(RequestError) -> JSONValue? {
        guard let value = self[key], !value.isNull else {
            if required { throw RequestError(path: child(key), message: "required") }
            return nil
        }
        return value
    }

    func object(_ key: String, required: Bool = false) throws(RequestError) -> JSONObject? {
        guard let value = try present(key, required: required) else { return nil }
        return try JSONObject(value, path: child(key))
    }

    func string(_ key: String, required: Bool = false) throws(RequestError) -> String? {
        guard let value = try present(key, required: required) else { return nil }
        guard let text = value.stringValue else { throw RequestError(path: child(key), message: "must be a string") }
        return text
    }

    func strings(_ key: String) throws(RequestError) -> [String]? {
        guard let value = try present(key) else { return nil }
        guard let texts = value.stringsValue else { throw RequestError(path: child(key), message: "must be a list of strings") }
        return texts
    }

    func bool(_ key: String) throws(RequestError) -> Bool? {
        guard let value = try present(key) else { return nil }
        guard let bool = value.boolValue else { throw RequestError(path: child(key), message: "must be true or false") }
        return bool
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws(RequestError) -> Int? {
        guard let value = try present(key) else { return nil }
        guard let int = value.intValue else { throw RequestError(path: child(key), message: "must be a whole number") }
        guard range.contains(int) else {
            throw RequestError(path: child(key), message: "must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return int
    }

    /// `properties`: an object of attribute values (absent: none). Which are declared, and of which type, is the
    /// plan's to judge when a condition reads them.
    func properties() throws(RequestError) -> [String: AttributeValue] {
        guard let object = try object("properties") else { return [:] }
        var result: [String: AttributeValue] = [:]
        for (key, value) in object.pairs { result[key] = AttributeValue(value) }
        return result
    }

    func date(_ key: String, required: Bool = false) throws(RequestError) -> Date? {
        guard let text = try string(key, required: required) else { return nil }
        guard let date = Timestamps.parse(text) else {
            throw RequestError(path: child(key), message: "must be an RFC 3339 timestamp such as 2026-01-31T00:00:00Z")
        }
        return date
    }
}
