import Foundation

extension DecisionRequest {
    /// The request in `bytes` when it has the common shape — the fields most callers send, in plain ASCII, each
    /// once — read straight from the bytes; nil when it holds anything else, to be read by the strict path
    /// (`JSONReader` and `decode(value:)`), which then gives the same request or the error.
    ///
    /// The common shape: `id`, `purpose`, `action` (strings); `actor` `{id}`; `subject` `{id, age, jurisdiction}`
    /// with an age of at most three digits; `resources`, a list of feature names or `{feature, category,
    /// collected_at}` objects; `context` `{processing_region, gpc, environment}`. Nothing here is lenient: any
    /// byte it does not expect — an escape, a non-ASCII or control byte, `null`, a number other than a plain age,
    /// a repeated or unknown key, a missing required field, an unreadable timestamp, anything after the value —
    /// gives nil. `DecisionRequestCommonJSONTests` holds it to the strict path on valid and damaged bodies.
    public static func decodeCommon(json bytes: [UInt8]) -> DecisionRequest? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = CommonReader(bytes: buffer)
            guard let request = reader.request(), reader.atEnd() else { return nil }
            return request
        }
    }

    /// `{"requests": [...]}` where every request has the common shape (see `decodeCommon(json:)`); nil otherwise.
    public static func decodeCommonBatch(json bytes: [UInt8]) -> [DecisionRequest]? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = CommonReader(bytes: buffer)
            guard reader.skip("{"), let key = reader.key(), reader.equals(key, "requests"), reader.skip("[") else { return nil }
            var requests: [DecisionRequest] = []
            if !reader.skip("]") {
                repeat {
                    guard let request = reader.request() else { return nil }
                    requests.append(request)
                } while reader.skip(",")
                guard reader.skip("]") else { return nil }
            }
            guard reader.skip("}"), reader.atEnd() else { return nil }
            return requests
        }
    }
}

/// The reader behind `decodeCommon`: every method either reads what it expects (skipping whitespace before it) or
/// answers nil/false, after which the whole body goes to the strict path.
private struct CommonReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    mutating func whitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    /// Skips `byte` (after whitespace) if it is next.
    mutating func skip(_ byte: Unicode.Scalar) -> Bool {
        whitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: byte) else { return false }
        position += 1
        return true
    }

    mutating func atEnd() -> Bool {
        whitespace()
        return position == bytes.count
    }

    /// A string of printable ASCII without escapes: the range of its text.
    mutating func rawString() -> Range<Int>? {
        guard skip("\"") else { return nil }
        let start = position
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return start..<(position - 1)
            }
            // Escapes, control characters and non-ASCII text are the strict reader's to judge.
            guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") else { return nil }
            position += 1
        }
        return nil
    }

    mutating func string() -> String? {
        guard let range = rawString() else { return nil }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// A key and the colon after it.
    mutating func key() -> Range<Int>? {
        guard let range = rawString(), skip(":") else { return nil }
        return range
    }

    func equals(_ range: Range<Int>, _ word: StaticString) -> Bool {
        guard range.count == word.utf8CodeUnitCount else { return false }
        let start = word.utf8Start
        for offset in 0..<range.count where bytes[range.lowerBound + offset] != start[offset] { return false }
        return true
    }

    /// An age: one to three digits, no leading zero (a lone 0 allowed), at most 150.
    mutating func age() -> Int? {
        whitespace()
        var value = 0, digits = 0
        while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
            if digits == 1 && value == 0 { return nil }
            value = value * 10 + Int(bytes[position] - UInt8(ascii: "0"))
            digits += 1
            position += 1
            if digits > 3 { return nil }
        }
        guard digits > 0, value <= 150, position < bytes.count else { return nil }
        // A fraction or exponent makes it another number.
        switch bytes[position] {
        case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): return nil
        default: return value
        }
    }

    mutating func bool() -> Bool? {
        whitespace()
        if literal("true") { return true }
        if literal("false") { return false }
        return nil
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count, equals(position..<(position + count), word) else { return false }
        position += count
        return true
    }

    /// Reads an object's members, calling `member` with each key (the reader then at its value); nil when a key
    /// repeats (by `slot`, its bit) or `member` fails.
    mutating func object(_ member: (inout CommonReader, Range<Int>) -> Int?) -> Bool {
        guard skip("{") else { return false }
        if skip("}") { return true }
        var seen = 0
        repeat {
            guard let key = key(), let slot = member(&self, key) else { return false }
            guard seen & (1 << slot) == 0 else { return false }
            seen |= 1 << slot
        } while skip(",")
        return skip("}")
    }

    /// A member's value read into `target`: its `slot` (for `object`'s repeat check), or nil when it could not be read.
    static func set<T>(_ target: inout T?, _ value: T?, slot: Int) -> Int? {
        guard let value else { return nil }
        target = value
        return slot
    }

    mutating func request() -> DecisionRequest? {
        var id: String?, actor: Actor?, subject: Subject?, purpose: String?, action: String?
        var resources: [ResourceReference]?, context = RequestContext()
        let read = object { reader, key in
            if reader.equals(key, "actor") {
                var actorID: String?
                guard
                    reader.object({ reader, key in
                        guard reader.equals(key, "id"), let text = reader.string() else { return nil }
                        actorID = text
                        return 0
                    }), let actorID
                else { return nil }
                actor = Actor(id: actorID)
                return 0
            }
            if reader.equals(key, "subject") { return Self.set(&subject, reader.subject(), slot: 1) }
            if reader.equals(key, "purpose") { return Self.set(&purpose, reader.string(), slot: 2) }
            if reader.equals(key, "action") { return Self.set(&action, reader.string(), slot: 3) }
            if reader.equals(key, "resources") { return Self.set(&resources, reader.resources(), slot: 4) }
            if reader.equals(key, "context") {
                guard let read = reader.context() else { return nil }
                context = read
                return 5
            }
            if reader.equals(key, "id") { return Self.set(&id, reader.string(), slot: 6) }
            return nil
        }
        guard read, let actor, let subject, let purpose, let action, let resources else { return nil }
        return DecisionRequest(
            id: id, actor: actor, subject: subject, purpose: purpose, action: action, resources: resources, context: context)
    }

    mutating func subject() -> Subject? {
        var id: String?, age: Int?, jurisdiction: String?
        let read = object { reader, key in
            if reader.equals(key, "id") { return Self.set(&id, reader.string(), slot: 0) }
            if reader.equals(key, "age") { return Self.set(&age, reader.age(), slot: 1) }
            if reader.equals(key, "jurisdiction") { return Self.set(&jurisdiction, reader.string(), slot: 2) }
            return nil
        }
        guard read, let id else { return nil }
        return Subject(id: id, age: age, jurisdiction: jurisdiction)
    }

    mutating func resources() -> [ResourceReference]? {
        guard skip("[") else { return nil }
        var list: [ResourceReference] = []
        if skip("]") { return list }
        repeat {
            whitespace()
            guard position < bytes.count else { return nil }
            if bytes[position] == UInt8(ascii: "\"") {
                guard let name = string() else { return nil }
                list.append(ResourceReference(feature: name))
                continue
            }
            var feature: String?, category: String?, collectedAt: Date?
            let read = object { reader, key in
                if reader.equals(key, "feature") { return Self.set(&feature, reader.string(), slot: 0) }
                if reader.equals(key, "category") { return Self.set(&category, reader.string(), slot: 1) }
                if reader.equals(key, "collected_at") {
                    return Self.set(&collectedAt, reader.string().flatMap(Timestamps.parse), slot: 2)
                }
                return nil
            }
            guard read, feature != nil || category != nil else { return nil }
            list.append(ResourceReference(feature: feature, category: category, collectedAt: collectedAt))
        } while skip(",")
        return skip("]") ? list : nil
    }

    mutating func context() -> RequestContext? {
        var context = RequestContext()
        let read = object { reader, key in
            if reader.equals(key, "processing_region") { return Self.set(&context.processingRegion, reader.string(), slot: 0) }
            if reader.equals(key, "gpc") {
                guard let gpc = reader.bool() else { return nil }
                context.gpc = gpc
                return 1
            }
            if reader.equals(key, "environment") { return Self.set(&context.environment, reader.string(), slot: 2) }
            return nil
        }
        return read ? context : nil
    }
}
