import AccordTestSupport
import Foundation
import Testing

/// What the docs said and the tool did not (issue 14, "smaller truths"), each through the real binary.
@Suite(.serialized) struct SmallerTruthsTests {
    /// docs/requests.md: a stream is answered line by line "as it arrives" — for a FIFO too, not only for `-`.
    @Test func evalAnswersEachLineOfAFIFOAsItArrives() throws {
        let folder = try Fixtures.temporaryFolder("accord-fifo")
        defer { try? FileManager.default.removeItem(at: folder) }
        let fifo = folder.appendingPathComponent("requests").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let lines = try String(contentsOfFile: Repository.path("examples/requests.jsonl"), encoding: .utf8).split(separator: "\n")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Repository.accordBinary)
        process.arguments = ["eval", "--policies", Repository.path("policies"), "--requests", fifo, "--as-of", "2026-06-01T00:00:00Z"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let writer = try #require(FileHandle(forWritingAtPath: fifo))  // waits until the command opens the FIFO
        final class Reader: @unchecked Sendable {
            let handle: FileHandle
            var buffer = Data()
            init(_ handle: FileHandle) { self.handle = handle }
            /// The next line, or nil if none comes within the timeout (the stream was held back).
            func line(timeout: TimeInterval) -> String? {
                let deadline = Date().addingTimeInterval(timeout)
                while Date() < deadline {
                    if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                        defer { buffer = Data(buffer[buffer.index(after: newline)...]) }
                        return String(decoding: buffer[..<newline], as: UTF8.self)
                    }
                    let done = DispatchSemaphore(value: 0)
                    nonisolated(unsafe) var chunk = Data()
                    DispatchQueue.global().async {
                        chunk = self.handle.availableData; done.signal()
                    }
                    guard done.wait(timeout: .now() + deadline.timeIntervalSinceNow) == .success else { return nil }
                    if chunk.isEmpty { return nil }
                    buffer.append(chunk)
                }
                return nil
            }
        }
        let reader = Reader(output.fileHandleForReading)
        for line in lines.prefix(3) {
            writer.write(Data((line + "\n").utf8))
            // The answer comes while the FIFO is still open for writing.
            let answer = try #require(reader.line(timeout: 10), "no answer to a line while the FIFO stays open")
            #expect(answer.contains("\"effect\""))
        }
        try writer.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test func consentForAScopeNoPolicyDeclaresIsRefused() throws {
        let folder = try Fixtures.temporaryFolder("accord-scope-check")
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("consent.sqlite").path
        let typo = try runAccord([
            "consent", "grant", "u-1", "--scope", "personalisation", "--policies", Repository.path("policies"), "--db", db,
        ])
        #expect(typo.status == 2)
        #expect(
            typo.stderr.contains("no consent scope 'personalisation'") && typo.stderr.contains("did you mean 'personalization'"),
            "\(typo.stderr)")
        #expect(typo.stderr.contains("known scopes: ads, analytics, health_insights, personalization"))
        // Found in the working folder (./policies) without --policies, for withdrawals too.
        let found = try runAccord(["consent", "withdraw", "u-1", "--scope", "nonsense", "--db", db], in: Repository.root.path)
        #expect(found.status == 2 && found.stderr.contains("no consent scope 'nonsense'"))
        if FileManager.default.fileExists(atPath: db) {
            #expect(try !runAccord(["consent", "history", "u-1", "--db", db]).stdout.contains("grant"), "nothing was recorded")
        }
        let good = try runAccord(["consent", "grant", "u-1", "--scope", "personalization", "--version", "3", "--db", db])
        #expect(good.status == 0, "\(good.stderr)")
        // Without any policies to check against, the grant is recorded as before.
        let elsewhere = try runAccord(["consent", "grant", "u-2", "--scope", "anything", "--db", db], in: folder.path)
        #expect(elsewhere.status == 0)
    }

    @Test func piaTakesDbLikeEveryOtherCommand() throws {
        let folder = try Fixtures.temporaryFolder("accord-pia-db")
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("trail.sqlite").path
        #expect(
            try runAccord([
                "eval", "--policies", Repository.path("policies"), "--requests", Repository.path("examples/requests.jsonl"),
                "--record", "--db", db,
            ]).status == 0)
        let byDB = try runAccord([
            "pia", "--policies", Repository.path("policies"), "--db", db, "--format", "json", "--as-of", "2030-01-01T00:00:00Z",
        ])
        let byAudit = try runAccord([
            "pia", "--policies", Repository.path("policies"), "--audit", db, "--format", "json", "--as-of", "2030-01-01T00:00:00Z",
        ])
        #expect(byDB.status == 0 && byDB.stdout == byAudit.stdout, "\(byDB.stderr)")
        #expect(((try jsonObject(byDB.stdout))["evidence"] as? [String: Any])?["records"] as? Int == 16)
    }
}
