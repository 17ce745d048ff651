import AccordCore
import Foundation

/// What many tests start from: the reference policies compiled, the example requests, a scratch folder.
public enum Fixtures {
    /// The instant most stored-trail tests decide at: 2026-06-01, as the examples are.
    public static let asOf = Timestamps.parse("2026-06-01T00:00:00Z")!

    /// An IAB TCF v2 core segment made by an independent encoder (see TCStringTests).
    public static let tcString = "COxSKBCOxSKCCBcABCENAgCMAPzAAEPAAAqIDaQBQAMgAgABqAR0A2gDaQAwAMgAgANoAAA"

    /// `policies/` compiled (once per test run).
    public static func referencePlan() throws -> DecisionPlan { try compiled.get() }

    private static let compiled = Result<DecisionPlan, Error> {
        guard let set = PolicySetValidator.validate(paths: [Repository.path("policies")]).policySet else {
            throw CorpusError("the reference policies do not validate")
        }
        return DecisionPlan.compile(set)
    }

    /// The requests of `examples/requests.jsonl`, in order.
    public static func exampleRequests() throws -> [DecisionRequest] {
        try String(contentsOfFile: Repository.path("examples/requests.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try DecisionRequest.decode(json: Data($0.utf8)) }
    }

    /// A new empty folder under the system's temporary folder; the caller removes it.
    public static func temporaryFolder(_ prefix: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}
