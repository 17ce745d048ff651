import AccordCore
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `accord serve`, the real binary, on a loopback port: requests over real HTTP.
public final class RunningServer: @unchecked Sendable {
    public let process = Process()
    public let port: Int
    public let folder: URL
    public let token = "test-token-0123456789"
    public var base: String { "http://127.0.0.1:\(port)" }
    public var db: String { folder.appendingPathComponent("accord.sqlite").path }
    public var policies: String { folder.appendingPathComponent("policies").path }

    /// `policies` is a folder of the repository, copied beside the database.
    public init(_ name: String, policies source: String = "policies", arguments: [String] = []) throws {
        folder = try Fixtures.temporaryFolder(name)
        try FileManager.default.copyItem(atPath: Repository.path(source), toPath: folder.appendingPathComponent("policies").path)
        port = 20_000 + Int.random(in: 0..<20_000)
        process.executableURL = URL(fileURLWithPath: Repository.accordBinary)
        process.arguments = ["serve", "--policies", policies, "--db", db, "--port", "\(port)", "--durability", "normal"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["ACCORD_TOKEN"] = token
        process.environment = environment
        // What the server logs (standard output and error), for tests that read it.
        _ = FileManager.default.createFile(atPath: folder.appendingPathComponent("server.log").path, contents: nil)
        let log = try FileHandle(forWritingTo: folder.appendingPathComponent("server.log"))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        // Up within thirty seconds (a loaded 2-core CI machine runs several suites at once), or the test fails.
        for _ in 0..<300 {
            if (try? get("/healthz").status) == 200 { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        stop()
        throw CorpusError("the server did not start on port \(port)")
    }

    public func stop() {
        if process.isRunning { process.terminate(); process.waitUntilExit() }
    }

    /// Everything the server has logged so far.
    public var log: String { (try? String(contentsOf: folder.appendingPathComponent("server.log"), encoding: .utf8)) ?? "" }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: folder)
    }

    public struct Reply {
        public var status: Int
        public var headers: [String: String]
        public var body: [String: Any]
    }

    public func send(_ method: String, _ path: String, body: Any? = nil, raw: Data? = nil, headers: [String: String] = [:]) throws -> Reply
    {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        if let body { request.httpBody = try JSONSerialization.data(withJSONObject: body) }
        if let raw { request.httpBody = raw }
        // As a JSON client sends it (Foundation would otherwise label a body form-encoded); a test may override it.
        if request.httpBody != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.timeoutInterval = 30
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<(Data, HTTPURLResponse), Error> = .failure(CorpusError("no reply"))
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error { result = .failure(error) } else { result = .success((data ?? Data(), response as! HTTPURLResponse)) }
            done.signal()
        }.resume()
        done.wait()
        let (data, response) = try result.get()
        var fields: [String: String] = [:]
        for (key, value) in response.allHeaderFields { fields[String(describing: key).lowercased()] = String(describing: value) }
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return Reply(status: response.statusCode, headers: fields, body: object)
    }

    public func get(_ path: String, headers: [String: String] = [:]) throws -> Reply { try send("GET", path, headers: headers) }
    public func post(_ path: String, _ body: Any, headers: [String: String] = [:]) throws -> Reply {
        try send("POST", path, body: body, headers: headers)
    }
    public var auth: [String: String] { ["Authorization": "Bearer \(token)"] }
}

/// Requests the server tests send, with consent fresh as of today.
public enum ServerFixtures {
    public static let fresh = Timestamps.format(Date().addingTimeInterval(-86_400))
    public static var granted: [String: Any] {
        ["grants": [["scope": "personalization", "version": 3, "granted_at": Timestamps.format(Date().addingTimeInterval(-30 * 86_400))]]]
    }

    public static func item(_ feature: String, consent: [String: Any]? = granted) -> [String: Any] {
        var context: [String: Any] = ["purpose": "personalization.recommendations", "processing_region": "EU", "actor": ["id": "recsys"]]
        if let consent { context["consent"] = consent }
        return [
            "subject": ["type": "user", "id": "u-1", "properties": ["age": 34, "jurisdiction": "EU"]], "action": ["name": "read_online"],
            "resource": ["type": "feature", "id": feature, "properties": ["collected_at": fresh]], "context": context,
        ]
    }
}
