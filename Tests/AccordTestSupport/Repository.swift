import Foundation

/// Paths into the repository and the built `accord` binary, for tests that run the real CLI.
public enum Repository {
    /// The checkout: this file is Tests/AccordTestSupport/Repository.swift.
    public static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    public static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// The `accord` executable built beside the test bundle.
    public static let accordBinary: String = {
        var candidates: [String] = []
        if let executable = Bundle.main.executablePath {
            candidates.append(URL(fileURLWithPath: executable).deletingLastPathComponent().path)
        }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path)
        for bundle in Bundle.allBundles { candidates.append(bundle.bundleURL.deletingLastPathComponent().path) }
        candidates.append(path(".build/debug"))
        for dir in candidates {
            let binary = dir + "/accord"
            if FileManager.default.isExecutableFile(atPath: binary) { return binary }
        }
        return path(".build/debug/accord")
    }()
}

/// The result of running the CLI.
public struct CommandOutput {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Held while a child's standard-input pipe is open in this process. Tests run in parallel, and a child
/// spawned meanwhile would inherit the pipe's write end and keep another child from ever seeing EOF.
public let spawnLock = NSLock()

/// Starts the real `accord` binary with pipes on its standard input and output (standard error discarded),
/// for tests that talk to it while it runs. The caller holds `spawnLock` until it has closed the input.
public func startAccord(_ arguments: [String]) throws -> (process: Process, input: Pipe, output: Pipe) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Repository.accordBinary)
    process.arguments = arguments
    process.currentDirectoryURL = Repository.root
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    return (process, input, output)
}

/// Runs the real `accord` binary with arguments and optional standard input.
/// A copy of the binary that any user can run: the checkout may sit in a folder only its owner can enter.
public let publicAccordBinary: String = {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("accord-public-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    chmod(folder.path, 0o755)
    let copy = folder.appendingPathComponent("accord").path
    try? FileManager.default.copyItem(atPath: Repository.accordBinary, toPath: copy)
    chmod(copy, 0o755)
    return copy
}()

/// `asUser`: run it as that (unprivileged) user, through `runuser`, so that file permissions apply.
public func runAccord(_ arguments: [String], stdin: Data? = nil, in directory: String = Repository.root.path, asUser user: String? = nil)
    throws
    -> CommandOutput
{
    spawnLock.lock()
    var locked = true
    defer { if locked { spawnLock.unlock() } }
    let process = Process()
    if let user {
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
        process.arguments = ["-u", user, "--", publicAccordBinary] + arguments
    } else {
        process.executableURL = URL(fileURLWithPath: Repository.accordBinary)
        process.arguments = arguments
    }
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try input.fileHandleForWriting.close()
    spawnLock.unlock()
    locked = false
    // Read both pipes before waiting so a large output cannot block the child.
    final class Box: @unchecked Sendable { var data = Data() }
    let stderrBox = Box()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        stderrBox.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave()
    }
    let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    let stderrData = stderrBox.data
    process.waitUntilExit()
    return CommandOutput(
        status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
        stderr: String(decoding: stderrData, as: UTF8.self))
}
