import AccordCore
import Foundation

// The decision benchmark: a generated workload of the size real users have, decided by the compiled plan
// on one core. Run with `swift run -c release accord-bench` (add `--quick` for a smaller run).

let quick = CommandLine.arguments.contains("--quick")
/// `--only single` runs just the single-feature requests (for profiling).
let only = CommandLine.arguments.firstIndex(of: "--only").map { CommandLine.arguments[$0 + 1] }
var random = SplitMix(seed: 42)

print("Accord decision benchmark (release build: \(isReleaseBuild()))")
let workload = Workload.generate(rules: 120, random: &random)
let loadStart = now()
let result = PolicySetValidator.validate(files: [("bench/policies.yaml", Array(workload.yaml.utf8))])
guard let set = result.policySet else {
    print("generated policies are invalid: \(result.diagnostics.prefix(5))")
    exit(3)
}
let validateSeconds = seconds(since: loadStart)
let plan = DecisionPlan.compile(set)
print(
    "workload: \(set.features.count) features, \(set.categories.count) categories, \(set.purposes.count) purposes, "
        + "\(set.jurisdictions.count) jurisdictions, \(set.rules.count) rules; validated in \(format(validateSeconds * 1000)) ms")

let subjects = 10_000
let requestCount = quick ? 20_000 : 200_000
let asOf = Date(timeIntervalSince1970: 1_780_000_000)
if only == "repeat" {
    // One request decided over and over: for profiling the decision path alone.
    let request = workload.request(subject: 7, features: 1, asOf: asOf, random: &random)
    var count = 0
    let start = now()
    for _ in 0..<2_000_000 { count &+= plan.evaluate(request, asOf: asOf).resources.count }
    print("repeat: \(format(Double(now() - start) / 2_000_000)) ns per single-feature decision (\(count))")
    exit(0)
}
let single = (0..<requestCount).map { i in workload.request(subject: i % subjects, features: 1, asOf: asOf, random: &random) }
let twenty = (0..<requestCount).map { i in workload.request(subject: i % subjects, features: 20, asOf: asOf, random: &random) }

let mainPlan = plan

func run(_ name: String, _ requests: [DecisionRequest], using other: DecisionPlan? = nil) {
    let plan = other ?? mainPlan
    // Warm up, then time batches of 1,000 requests; report the median batch.
    var sink = 0
    for request in requests.prefix(2_000) { sink &+= plan.evaluate(request, asOf: asOf).resources.count }
    var perResource: [Double] = []
    var permits = 0, resources = 0
    let start = now()
    var index = 0
    while index < requests.count {
        let end = min(index + 1_000, requests.count)
        let batchStart = now()
        var batchResources = 0
        for i in index..<end {
            let decision = plan.evaluate(requests[i], asOf: asOf)
            batchResources += decision.resources.count
            for resource in decision.resources where resource.effect == .permit { permits += 1 }
        }
        perResource.append(Double(now() - batchStart) / Double(batchResources))
        resources += batchResources
        index = end
    }
    let total = seconds(since: start)
    perResource.sort()
    let median = perResource[perResource.count / 2]
    let p99 = perResource[min(perResource.count - 1, perResource.count * 99 / 100)]
    // The same batches again, each decided twice in a row: the second pass runs with the batch in cache,
    // as a server deciding a request it has just parsed would.
    var warm: [Double] = []
    index = 0
    while index < requests.count {
        let end = min(index + 1_000, requests.count)
        for i in index..<end { sink &+= plan.evaluate(requests[i], asOf: asOf).resources.count }
        let batchStart = now()
        var batchResources = 0
        for i in index..<end { batchResources += plan.evaluate(requests[i], asOf: asOf).resources.count }
        warm.append(Double(now() - batchStart) / Double(batchResources))
        index = end
    }
    warm.sort()
    print(
        "\(name): \(requests.count) requests, \(resources) resource decisions (\(format(Double(permits) * 100 / Double(resources)))% permitted)"
    )
    print("  streaming (each request decided once): median \(format(median)) ns per resource decision (p99 batch \(format(p99)) ns)")
    print("  in cache (batch of 1,000 decided again): median \(format(warm[warm.count / 2])) ns per resource decision")
    print(
        "  \(format(Double(resources) / total)) resource decisions/s, \(format(Double(requests.count) / total)) requests/s on one core (streaming)"
    )
    if sink == -1 { print(sink) }
}

if only == nil || only == "single" { run("single-feature requests", single) }
if only == nil || only == "twenty" { run("20-feature requests", twenty) }
if only == "attributes" {
    // The same workload with its conditions reading declared attributes from entity data (the subject's among
    // 10,000 people, the service's), against the fixed attributes the request carries: the same decisions, timed.
    var declaredRandom = SplitMix(seed: 42)
    let declared = Workload.generate(rules: 120, declared: true, random: &declaredRandom)
    let declaredStart = now()
    guard let declaredSet = PolicySetValidator.validate(files: [("bench/declared.yaml", Array(declared.yaml.utf8))]).policySet else {
        print("the declared-attribute workload is invalid")
        exit(3)
    }
    print("declared-attribute workload (10,001 entities) validated in \(format(seconds(since: declaredStart) * 1000)) ms")
    let declaredPlan = DecisionPlan.compile(declaredSet)
    var requestRandom = SplitMix(seed: 7)
    let singleDeclared = (0..<requestCount).map { i in
        declared.request(subject: i % subjects, features: 1, asOf: asOf, random: &requestRandom)
    }
    requestRandom = SplitMix(seed: 7)
    let singleFixed = (0..<requestCount).map { i in workload.request(subject: i % subjects, features: 1, asOf: asOf, random: &requestRandom)
    }
    let twentyDeclared = (0..<requestCount).map { i in
        declared.request(subject: i % subjects, features: 20, asOf: asOf, random: &requestRandom)
    }
    requestRandom = SplitMix(seed: 7)
    _ = (0..<requestCount).map { i in workload.request(subject: i % subjects, features: 1, asOf: asOf, random: &requestRandom) }
    let twentyFixed = (0..<requestCount).map { i in
        workload.request(subject: i % subjects, features: 20, asOf: asOf, random: &requestRandom)
    }
    run("single-feature, fixed attributes", singleFixed)
    run("single-feature, declared attributes from entity data", singleDeclared, using: declaredPlan)
    run("20-feature, fixed attributes", twentyFixed)
    run("20-feature, declared attributes from entity data", twentyDeclared, using: declaredPlan)
    exit(0)
}
if only == "decode" { runDecodeBenchmark(asOf: asOf) }
if only == "audit" { runAuditBenchmark(plan: plan, requests: single, asOf: asOf, quick: quick) }
if only == "gate" { runGateBenchmark(asOf: asOf, quick: quick) }
if only == "consent" { runConsentBenchmark(plan: plan, requests: single, asOf: asOf, quick: quick) }
if only == "audit-append" { runAuditBenchmark(plan: plan, requests: single, asOf: asOf, quick: quick, appendOnly: true) }
if only != nil && only != "large" { exit(0) }

// Compile time for a large policy set.
let large = Workload.generate(rules: quick ? 2_000 : 10_000, random: &random)
let largeStart = now()
let largeResult = PolicySetValidator.validate(files: [("bench/large.yaml", Array(large.yaml.utf8))])
let largeValidate = seconds(since: largeStart)
guard let largeSet = largeResult.policySet else { print("large set invalid: \(largeResult.diagnostics.prefix(3))"); exit(3) }
let compileStart = now()
let largePlan = DecisionPlan.compile(largeSet)
let largeCompile = seconds(since: compileStart)
print("large policy set: \(largeSet.rules.count) rules (\(large.yaml.utf8.count / 1024) KiB of YAML)")
let lintStart = now()
_ = PolicyLint.check(largeSet)
let largeLint = seconds(since: lintStart)
print(
    "  read + validate \(format(largeValidate * 1000)) ms (of which the lints \(format(largeLint * 1000)) ms), compile \(format(largeCompile * 1000)) ms"
)
let largeRequests = (0..<20_000).map { i in large.request(subject: i % subjects, features: 20, asOf: asOf, random: &random) }
let largeStartEval = now()
var largeResources = 0
for request in largeRequests { largeResources += largePlan.evaluate(request, asOf: asOf).resources.count }
print("  \(format(Double(now() - largeStartEval) / Double(largeResources))) ns per resource decision against \(largeSet.rules.count) rules")
if only == "large" { exit(0) }

runAuditBenchmark(plan: plan, requests: single, asOf: asOf, quick: quick)
runConsentBenchmark(plan: plan, requests: single, asOf: asOf, quick: quick)
runGateBenchmark(asOf: asOf, quick: quick)

var usage = rusage()
getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
print("peak memory (max RSS): \(format(Double(usage.ru_maxrss) / 1024)) MiB")

// MARK: - Support

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
func seconds(since start: UInt64) -> Double { Double(now() - start) / 1e9 }
func format(_ value: Double) -> String {
    value >= 100 ? String(Int(value.rounded())) : String(format: "%.1f", value)
}
func isReleaseBuild() -> Bool {
    #if DEBUG
        return false
    #else
        return true
    #endif
}

struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
