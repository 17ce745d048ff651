import AccordCore
import AccordRuntime
import AccordStore
import Foundation
import Hummingbird
import NIOCore

/// Training sets a client assembled (from Feast, pandas) decided row by row, and models registered on them, so that
/// lineage — which models a withdrawal or an erasure reaches — is recorded from Python as from the gate (token
/// required).
struct TrainingSetController {
    let server: AccordHTTPServer

    /// Rows one training set may hold (the body is read as it arrives, not held whole, so there is no body ceiling).
    static let maxRows = 5_000_000

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/training-sets/decide") { request, _ in
            await server.handle(request) { request in try await decide(&request) }
        }
        router.post("/v1/models") { request, _ in
            await server.handle(request) { request in try await register(&request) }
        }
    }

    /// `POST /v1/training-sets/decide`, JSON Lines: a header line, then one row per line, `["subject", "feature",
    /// "event time"]` (or `{"subject", "feature", "event_time"}`). The answer: the manifest, and per row in order
    /// `permit`, `permit:<mask>` or `deny:<reason>`.
    private func decide(_ request: inout Request) async throws -> Response {
        try server.requireToken(request)
        if let type = request.headers[.contentType], !Self.isLines(type), !AccordHTTPServer.isJSON(type) {
            throw Failure(.requestUnsupportedMediaType, "the body must be JSON Lines (Content-Type: application/x-ndjson), not '\(type)'")
        }
        var header: ClientTrainingSetHeader?
        var rows: [FeatureGate.RowReference] = []
        var pending: [UInt8] = []
        var line = 0
        func take(_ bytes: ArraySlice<UInt8>) throws {
            line += 1
            let trimmed = bytes.last == UInt8(ascii: "\r") ? bytes.dropLast() : bytes
            if trimmed.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { return }
            let value: JSONValue
            do { value = try JSONReader.parse(Array(trimmed)) } catch {
                throw Failure(.requestInvalidJSON, "line \(line): not valid JSON: \(error)")
            }
            if header == nil {
                do { header = try ClientTrainingSetHeader.decode(value: value) } catch {
                    throw Failure(.requestInvalid, "line \(line) (the header): \(error)")
                }
                return
            }
            guard rows.count < Self.maxRows else {
                throw Failure(.requestTooManyItems, "more than \(Self.maxRows) rows in one training set")
            }
            rows.append(try Self.row(value, line: line))
        }
        for try await buffer in request.body {
            pending.append(contentsOf: buffer.readableBytesView)
            var start = 0
            while let end = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                try take(pending[start..<end])
                start = end + 1
            }
            pending.removeFirst(start)
            if pending.count > 1 << 20 { throw Failure(.requestTooLarge, "line \(line + 1) is longer than 1 MiB") }
        }
        if !pending.isEmpty { try take(pending[...]) }
        guard let header else { throw Failure(.requestMissingField, "the body has no header line") }
        let service = server.service
        let rowsRead = rows
        let decided = try await server.gated {
            try service.gate.trainingSet(
                clientRows: rowsRead, purpose: header.purpose, actor: header.actor, subjects: header.subjects, context: header.context,
                lineage: service.stores.lineage, id: header.id ?? DecisionID.next())
        }
        let answers: [JSONValue] = decided.rows.map { row in
            if row.permitted { return .string(row.mask.map { "permit:\($0.rawValue)" } ?? "permit") }
            return .string("deny:\(row.reason ?? "denied")")
        }
        return server.json(.object([("manifest", decided.manifest.json), ("rows", .array(answers))]), request: request)
    }

    static func isLines(_ contentType: String) -> Bool {
        let media = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return ["application/x-ndjson", "application/jsonl", "application/jsonlines", "application/x-jsonlines"].contains(media)
    }

    /// One row: `[subject, feature, event time]` or `{subject, feature, event_time}`.
    static func row(_ value: JSONValue, line: Int) throws -> FeatureGate.RowReference {
        let parts: [JSONValue]
        switch value {
        case .array(let items) where items.count == 3: parts = items
        case .object:
            let allowed = ["subject", "feature", "event_time"]
            if let stray = value.objectValue?.first(where: { !allowed.contains($0.0) }) {
                throw Failure(.requestInvalid, "line \(line): unknown field '\(stray.0)' (a row is subject, feature, event_time)")
            }
            parts = allowed.map { value[$0] ?? .null }
        default: throw Failure(.requestInvalid, "line \(line): a row is [subject, feature, event time]")
        }
        guard let subject = parts[0].stringValue, !subject.isEmpty else {
            throw Failure(.requestInvalid, "line \(line): subject must be a non-empty string")
        }
        guard let feature = parts[1].stringValue, !feature.isEmpty else {
            throw Failure(.requestInvalid, "line \(line): feature must be a non-empty string")
        }
        guard let text = parts[2].stringValue, let time = Timestamps.parse(text) else {
            throw Failure(.requestInvalid, "line \(line): event time must be an RFC 3339 timestamp such as 2026-01-31T00:00:00Z")
        }
        return FeatureGate.RowReference(subject: subject, feature: feature, eventTime: time)
    }

    /// `POST /v1/models`: `{name, version, training_set}` — a model trained on a recorded training set.
    private func register(_ request: inout Request) async throws -> Response {
        try server.requireToken(request)
        let object = try await server.body(&request)
        var fields: [String: String] = [:]
        for key in ["name", "version", "training_set"] {
            guard let text = object[key]?.stringValue, !text.isEmpty, text.utf8.count <= 256 else {
                throw Failure(.requestInvalid, "\(key) is required (a string of 1 to 256 bytes)")
            }
            fields[key] = text
        }
        if let stray = object.objectValue?.first(where: { !["name", "version", "training_set"].contains($0.0) }) {
            throw Failure(.requestInvalid, "unknown field '\(stray.0)'")
        }
        let lineage = server.service.stores.lineage
        let (name, version, set) = (fields["name"]!, fields["version"]!, fields["training_set"]!)
        do {
            try await server.blocking { try lineage.register(model: name, version: version, trainingSet: set, at: Date()) }
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure(.requestInvalidValue, "cannot register \(name)@\(version) on training set '\(set)': \(error)")
        }
        return server.json(
            .object([("model", .string(name)), ("version", .string(version)), ("training_set", .string(set))]), status: .created,
            request: request)
    }
}
