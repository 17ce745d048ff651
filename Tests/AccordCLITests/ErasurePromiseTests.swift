import AccordStore
import AccordTestSupport
import Foundation
import GRDB
import Testing

/// "Erased" means the person's data is gone from every store and every file Accord wrote — through the real
/// binary, on the demo's workspace (a feature store of 300 people × 17 weeks, consent, a training set, purges).
@Suite(.serialized) struct ErasurePromiseTests {
    @Test func eraseRemovesTheSubjectFromEveryStoreAndEveryFile() throws {
        let folder = try Fixtures.temporaryFolder("accord-erase")
        defer { try? FileManager.default.removeItem(at: folder) }
        let workspace = folder.appendingPathComponent("workspace").path
        #expect(try runAccord(["demo", "--workspace", workspace]).status == 0)
        let db = workspace + "/accord.sqlite"
        let person = "user-0007"
        func held() throws -> Int {
            try DatabaseQueue(path: db).read {
                try Int.fetchOne($0, sql: "SELECT count(*) FROM feature_value WHERE entity_key = ?", arguments: [person]) ?? 0
            }
        }
        let before = try held()
        #expect(before > 0, "the demo stores the person's features")
        #expect(try filesContaining(person, in: workspace).contains("accord.sqlite"), "the clear id is in the feature store before erasure")

        // Before: the export names their purged values as purges, not as refused uses.
        let export = try runAccord(["audit", "export", "--subject", person, "--db", db, "--format", "json"])
        let exported = try jsonObject(export.stdout)
        let kinds = Set((exported["records"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String })
        #expect(kinds == ["decision", "retention_purge"], "\(kinds)")
        #expect((exported["feature_values"] as? [Any])?.isEmpty == false)
        let text = try runAccord(["audit", "export", "--subject", person, "--db", db]).stdout
        #expect(text.contains("deleted your stored values of") && text.contains("retention purge"))

        let erase = try runAccord(["audit", "erase", "--subject", person, "--db", db])
        #expect(erase.status == 0, "\(erase.stderr)")
        #expect(erase.stdout.contains("feature store:  \(before) values removed"), "\(erase.stdout)")
        #expect(try held() == 0)
        let leaks = try filesContaining(person, in: workspace)
        #expect(leaks.isEmpty, "the clear id is still in \(leaks)")
        #expect(try runAccord(["audit", "verify", "--db", db]).status == 0, "the trail still verifies")
        let after = try jsonObject(try runAccord(["audit", "export", "--subject", person, "--db", db, "--format", "json"]).stdout)
        #expect(after["nothing_held"] as? Bool == true && (after["records"] as? [Any])?.isEmpty == true)
        #expect(try runAccord(["audit", "export", "--subject", person, "--db", db]).stdout.contains("Nothing is held about this person"))
        #expect(try filesContaining(person, in: workspace).isEmpty, "reading the export wrote nothing of theirs back")
    }

    /// The names of the files under `folder` whose bytes contain `needle`.
    func filesContaining(_ needle: String, in folder: String) throws -> [String] {
        let bytes = Data(needle.utf8)
        return try FileManager.default.contentsOfDirectory(atPath: folder).sorted().filter { name in
            let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
            return data.range(of: bytes) != nil
        }
    }
}
