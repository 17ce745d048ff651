import AccordCore
import Foundation

/// The reference policies, compiled once, for deciding fuzzed requests.
let referencePlan: DecisionPlan? = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("policies").path
    return PolicySetValidator.validate(paths: [root]).policySet.map(DecisionPlan.compile)
}()

/// The reference policies' consent scopes, for mapping fuzzed TC strings.
let referenceScopes: [ConsentScope]? = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("policies").path
    return PolicySetValidator.validate(paths: [root]).policySet.map { Array($0.scopes.values) }
}()

/// libFuzzer's entry point. Every input goes through the whole front end (bytes, hazard scan, Yams,
/// validation, compilation), through the condition parser and the TC string decoder as text, and through the
/// request decoder and the evaluator as JSON. Any crash, hang or leak is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let result = PolicySetValidator.validate(files: [("fuzz.yaml", bytes)])
    if let set = result.policySet { _ = DecisionPlan.compile(set) }
    let text = String(decoding: bytes.prefix(4_096), as: UTF8.self)
    _ = Condition.read(text, at: SourceRange(file: "fuzz.yaml", line: 1, column: 1), singleLine: true, columnOffset: 0)
    // Untrusted consent signals: a TC string is decoded or refused, never trusted half-read.
    if let tc = try? TCString(decoding: text), let set = referenceScopes { _ = tc.grantedScopes(in: set) }
    // The common-shape reader never takes a body the strict path refuses, and reads what it takes alike.
    let strict = (try? JSONReader.parse(bytes)).flatMap { try? DecisionRequest.decode(value: $0) }
    if let common = DecisionRequest.decodeCommon(json: bytes), common != strict {
        fatalError("the common-shape reader and the strict path disagree on \(text.prefix(200))")
    }
    if let plan = referencePlan, let request = try? DecisionRequest.decode(json: Data(bytes)) {
        let decision = plan.evaluate(request, asOf: Date(timeIntervalSince1970: 1_780_272_000), options: EvaluationOptions(explain: true))
        // The answer written directly is the tree's, byte for byte.
        if decision.jsonBytes(decisionID: "fuzz") != decision.json(decisionID: "fuzz").serializedBytes() {
            fatalError("the answer written directly differs from its JSONValue tree for \(text.prefix(200))")
        }
    }
    return 0
}

// SwiftPM links an executable's entry point as `AccordFuzz_main`; hand control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("AccordFuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&count, &arguments, fuzz)
}
