import Foundation

/// A request that could not be read, with a JSON path to the problem.
public struct RequestError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

extension DecisionRequest {
    /// Reads a request from its JSON form (see `docs/requests.md`). Strict: unknown keys and wrong types are errors.
    public static func decode(json data: Data) throws(RequestError) -> DecisionRequest {
        if let duplicate = JSONDuplicateKeys.find(in: [UInt8](data)) {
            let path = duplicate.path.isEmpty ? duplicate.key : "\(duplicate.path).\(duplicate.key)"
            throw RequestError(path: path, message: "duplicate key; a request must say each thing once")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw RequestError(path: "", message: "invalid JSON: \(Self.describe(error))")
        }
        return try decode(object: object)
    }

    private static func describe(_ error: Error) -> String {
        let ns = error as NSError
        return (ns.userInfo[NSDebugDescriptionErrorKey] as? String) ?? ns.localizedDescription
    }

    /// Reads a request from a `JSONSerialization` object.
    public static func decode(object: Any) throws(RequestError) -> DecisionRequest {
        let root = try JSONObject(object, path: "")
        try root.allow(["id", "actor", "subject", "purpose", "action", "resources", "context", "consent"])
        let actorObject = try root.object("actor", required: true)!
        try actorObject.allow(["id", "roles", "type"])
        let actor = Actor(id: try actorObject.string("id", required: true)!, roles: try actorObject.strings("roles") ?? [],
                          type: try actorObject.string("type"))
        let subjectObject = try root.object("subject", required: true)!
        try subjectObject.allow(["id", "age", "jurisdiction"])
        let subject = Subject(id: try subjectObject.string("id", required: true)!, age: try subjectObject.int("age", in: 0...150),
                              jurisdiction: try subjectObject.string("jurisdiction"))
        var resources: [ResourceReference] = []
        guard let list = root.values["resources"] as? [Any] else {
            throw RequestError(path: root.child("resources"), message: root.values["resources"] == nil ? "required" : "must be a list")
        }
        for (i, item) in list.enumerated() {
            let path = root.child("resources") + "[\(i)]"
            if let name = item as? String {
                resources.append(ResourceReference(feature: name))
                continue
            }
            let resource = try JSONObject(item, path: path)
            try resource.allow(["feature", "category", "collected_at"])
            let feature = try resource.string("feature"), category = try resource.string("category")
            if feature == nil && category == nil { throw RequestError(path: path, message: "needs 'feature' or 'category'") }
            resources.append(ResourceReference(feature: feature, category: category, collectedAt: try resource.date("collected_at")))
        }
        var context = RequestContext()
        if let contextObject = try root.object("context") {
            try contextObject.allow(["processing_region", "gpc", "environment"])
            context = RequestContext(processingRegion: try contextObject.string("processing_region"),
                                     gpc: try contextObject.bool("gpc") ?? false, environment: try contextObject.string("environment"))
        }
        var consent: ConsentState?
        if let consentObject = try root.object("consent") {
            try consentObject.allow(["grants", "objections", "opt_outs"])
            var grants: [ConsentGrant] = []
            if let list = consentObject.values["grants"] {
                guard let items = list as? [Any] else { throw RequestError(path: consentObject.child("grants"), message: "must be a list") }
                for (i, item) in items.enumerated() {
                    let grant = try JSONObject(item, path: consentObject.child("grants") + "[\(i)]")
                    try grant.allow(["scope", "version", "granted_at", "by_guardian"])
                    grants.append(ConsentGrant(scope: try grant.string("scope", required: true)!,
                                               version: try grant.int("version", in: 1...1_000_000) ?? 1,
                                               grantedAt: try grant.date("granted_at", required: true)!,
                                               byGuardian: try grant.bool("by_guardian") ?? false))
                }
            }
            consent = ConsentState(grants: grants, objections: try consentObject.strings("objections") ?? [],
                                   optOuts: try consentObject.strings("opt_outs") ?? [])
        }
        return DecisionRequest(id: try root.string("id"), actor: actor, subject: subject,
                               purpose: try root.string("purpose", required: true)!, action: try root.string("action", required: true)!,
                               resources: resources, context: context, consent: consent)
    }
}

/// Strict reading of one JSON object.
struct JSONObject {
    let values: [String: Any]
    let path: String

    init(_ any: Any, path: String) throws(RequestError) {
        guard let values = any as? [String: Any] else { throw RequestError(path: path, message: "must be an object") }
        self.values = values
        self.path = path
    }

    func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func allow(_ keys: [String]) throws(RequestError) {
        for key in values.keys.sorted() where !keys.contains(key) {
            let hint = Suggestion.closest(to: key, in: keys).map { " (did you mean '\($0)'?)" } ?? ""
            throw RequestError(path: child(key), message: "unknown field\(hint)")
        }
    }

    func object(_ key: String, required: Bool = false) throws(RequestError) -> JSONObject? {
        guard let value = values[key], !(value is NSNull) else {
            if required { throw RequestError(path: child(key), message: "required") }
            return nil
        }
        return try JSONObject(value, path: child(key))
    }

    func string(_ key: String, required: Bool = false) throws(RequestError) -> String? {
        guard let value = values[key], !(value is NSNull) else {
            if required { throw RequestError(path: child(key), message: "required") }
            return nil
        }
        guard let text = value as? String else { throw RequestError(path: child(key), message: "must be a string") }
        return text
    }

    func strings(_ key: String) throws(RequestError) -> [String]? {
        guard let value = values[key], !(value is NSNull) else { return nil }
        guard let list = value as? [Any], list.allSatisfy({ $0 is String }) else {
            throw RequestError(path: child(key), message: "must be a list of strings")
        }
        return list as? [String]
    }

    func bool(_ key: String) throws(RequestError) -> Bool? {
        guard let value = values[key], !(value is NSNull) else { return nil }
        guard let number = value as? NSNumber, Self.isBool(number) else {
            throw RequestError(path: child(key), message: "must be true or false")
        }
        return number.boolValue
    }

    private static func isBool(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws(RequestError) -> Int? {
        guard let value = values[key], !(value is NSNull) else { return nil }
        guard let number = value as? NSNumber, !Self.isBool(number), number.doubleValue == number.doubleValue.rounded(),
              let int = Int(exactly: number.doubleValue)
        else { throw RequestError(path: child(key), message: "must be a whole number") }
        guard range.contains(int) else {
            throw RequestError(path: child(key), message: "must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return int
    }

    func date(_ key: String, required: Bool = false) throws(RequestError) -> Date? {
        guard let text = try string(key, required: required) else { return nil }
        guard let date = Timestamps.parse(text) else {
            throw RequestError(path: child(key), message: "must be an RFC 3339 timestamp such as 2026-01-31T00:00:00Z")
        }
        return date
    }
}
