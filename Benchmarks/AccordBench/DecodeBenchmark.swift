import AccordCore
import Foundation

/// Strict decoding of request bodies as the server receives them: a native request of one resource, the same
/// with 8 (what the Feast guard sends per entity), and the answer written for each. Times the JSON reader
/// (`JSONReader.parse`: UTF-8, duplicate keys, depth, positions) and the request decoder (`DecisionRequest.decode`)
/// apart and together, and writing the decision's answer (`Decision.writeJSON`) against the `JSONValue` tree, on
/// the reference policies (`policies/`).
func runDecodeBenchmark(asOf: Date) {
    guard let set = PolicySetValidator.validate(paths: ["policies"]).policySet else {
        print("decode benchmark: run from the repository root (it reads policies/)")
        return
    }
    let plan = DecisionPlan.compile(set)
    func body(features: [String]) -> [UInt8] {
        let resources = features.map { #"{"feature":"\#($0)","collected_at":"2026-05-20T10:00:00Z"}"# }.joined(separator: ",")
        return Array(
            (#"{"actor":{"id":"recsys-online"},"subject":{"id":"u-1234","age":34,"jurisdiction":"EU"},"#
                + #""purpose":"personalization.recommendations","action":"read_online","resources":[\#(resources)],"#
                + #""context":{"processing_region":"EU"}}"#).utf8)
    }
    let catalog = ["clicks_7d", "clicks_30d", "views_30d", "purchases_90d", "age_bucket", "city", "interests_topk", "age_years"]
    print("decoding and answering (median of 200 rounds of 1,000, ns per request):")
    for (name, bytes) in [("1 resource", body(features: ["clicks_7d"])), ("8 resources", body(features: catalog))] {
        var parse: [Double] = [], decode: [Double] = [], both: [Double] = [], common: [Double] = []
        var direct: [Double] = [], tree: [Double] = []
        let value = try! JSONReader.parse(bytes)
        let request = try! DecisionRequest.decode(value: value)  // the strict path
        guard DecisionRequest.decodeCommon(json: bytes) == request else {
            print("  \(name): the common-shape reader does not give the strict reader's request")
            exit(3)
        }
        let decision = plan.evaluate(request, asOf: asOf)
        var sink = 0
        for round in 0..<210 {
            var start = now()
            for _ in 0..<1_000 { sink &+= (try? JSONReader.parse(bytes)) == nil ? 1 : 0 }
            let parsed = Double(now() - start) / 1_000
            start = now()
            for _ in 0..<1_000 { sink &+= (try? DecisionRequest.decode(value: value))?.resources.count ?? 0 }
            let decoded = Double(now() - start) / 1_000
            start = now()
            for _ in 0..<1_000 {
                sink &+= (try? JSONReader.parse(bytes)).flatMap { try? DecisionRequest.decode(value: $0) }?.resources.count ?? 0
            }
            let together = Double(now() - start) / 1_000
            start = now()
            for _ in 0..<1_000 { sink &+= DecisionRequest.decodeCommon(json: bytes)?.resources.count ?? 0 }
            let straight = Double(now() - start) / 1_000
            start = now()
            for _ in 0..<1_000 {
                var out = JSONBytes(capacity: 512 + 320 * decision.resources.count)
                decision.writeJSON(decisionID: "01a252ce-c5ce-736b-b950-b0ecf7e5a667", locations: false, into: &out)
                sink &+= out.bytes.count
            }
            let written = Double(now() - start) / 1_000
            start = now()
            for _ in 0..<1_000 {
                sink &+= decision.json(decisionID: "01a252ce-c5ce-736b-b950-b0ecf7e5a667", locations: false).serializedBytes().count
            }
            let built = Double(now() - start) / 1_000
            if round >= 10 {  // warmed up
                parse.append(parsed); decode.append(decoded); both.append(together); common.append(straight)
                direct.append(written); tree.append(built)
            }
        }
        func median(_ values: [Double]) -> String { format(values.sorted()[values.count / 2]) }
        print(
            "  \(name) (\(bytes.count) bytes): strict path (JSONReader \(median(parse)) + decode \(median(decode))) \(median(both)) ns, "
                + "common shape read straight \(median(common)) ns; "
                + "answer written directly \(median(direct)) ns, through a JSONValue tree \(median(tree)) ns")
        if sink == -1 { print(sink) }
    }
}
