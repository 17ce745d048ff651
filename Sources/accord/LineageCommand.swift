import AccordCore
import AccordStore
import ArgumentParser
import Foundation

/// `accord lineage`: the training sets that included a person, and the models trained on them.
struct LineageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lineage",
        abstract: "List the training sets (and the models registered against them) that included a person."
    )

    @Option(help: "The person's id, as requests name them.")
    var subject: String

    @OptionGroup var store: StoreOptions

    func run() throws {
        guard FileManager.default.fileExists(atPath: store.db) else {
            throw CommandFailure(code: .usage, message: "\(store.db): error: no such database")
        }
        let lineage: SQLiteLineageStore
        do {
            lineage = try SQLiteLineageStore(path: store.db, subjectKeyPath: store.subjectKey)
        } catch {
            throw CommandFailure(code: .internalError, message: "\(store.db): error: cannot open the lineage: \(error)")
        }
        for set in try lineage.trainingSets(including: subject) {
            let manifest = (try? JSONSerialization.jsonObject(with: Data(set.manifest.utf8))).map(JSONValue.init(foundation:)) ?? .null
            print(
                JSONValue.object([
                    ("training_set", .string(set.id)), ("created_at", .string(Timestamps.format(set.createdAt))),
                    ("purpose", .string(set.purpose)), ("actor", .string(set.actor)), ("revision", .string(set.revision)),
                    ("models", .array(set.models.map(JSONValue.string))), ("manifest", manifest),
                ]).serialized())
        }
    }
}
