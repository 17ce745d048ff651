import AccordTestSupport
import Foundation
import Testing

@testable import AccordStore

/// WAL checkpoints run beside the writer, not inside its commits, and the WAL still starts over.
@Suite struct WALCheckpointTests {
    private func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Commits of 600 KB each: 40 of them put 24 MB in the WAL.
    private func write(_ store: SQLiteFeatureStore, commits: Int, from first: Int) throws {
        let payload = String(repeating: "x", count: 3_000)
        for commit in first..<(first + commits) {
            try store.write(
                (0..<200).map { row in
                    FeatureRow(
                        entity: "e\(commit)-\(row)", feature: "blob", value: .string(payload),
                        eventTime: Date(timeIntervalSince1970: 1_700_000_000))
                })
        }
    }

    @Test func checkpointsHappenInTheBackgroundAndTheWALStartsOver() throws {
        let folder = try Fixtures.temporaryFolder("wal")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("store.sqlite").path
        let database = try StoreDatabase(path: path, durability: .normal)
        let store = SQLiteFeatureStore(database: database)
        let before = size(path)
        try write(store, commits: 40, from: 0)
        // SQLite's own checkpoint would wait for 64 MiB of WAL; the background one starts at 16 and copies
        // everything back while the database stays open.
        var copied = size(path)
        for _ in 0..<100 where copied < 20_000_000 {
            Thread.sleep(forTimeInterval: 0.1)
            copied = size(path)
        }
        #expect(copied > before + 20_000_000, "the WAL's pages reached the database file while it was open (\(before) -> \(copied) bytes)")
        // Wait until the checkpoint has caught up with the last commit (the file stops growing).
        var settled = -1
        for _ in 0..<50 where settled != copied {
            settled = copied
            Thread.sleep(forTimeInterval: 0.2)
            copied = size(path)
        }
        let wal = size(path + "-wal")
        #expect(wal >= 16_000_000)
        // Everything copied back: the next commits write the WAL from its start again instead of growing it.
        try write(store, commits: 10, from: 40)
        #expect(size(path + "-wal") == wal, "the WAL was reused, not grown")
        #expect(try store.online(entities: ["e0-0", "e49-199"], features: ["blob"], asOf: Date()).count == 2)
    }
}
