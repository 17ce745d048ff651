import AccordCore
import Foundation

/// A small policy set, lint-clean, that the tests below vary one thing at a time.
public enum SmallSet {
    public static let taxonomy = """
        apiVersion: accord/v1
        kind: Taxonomy
        metadata: { name: t }
        categories:
          - name: user.behavior.clicks
          - name: user.health
            sensitive: true
        purposes:
          - name: recs
          - name: ads
        """
    public static let scopes = """
        apiVersion: accord/v1
        kind: ConsentScopes
        metadata: { name: s }
        scopes:
          - id: recs
            purposes: [recs]
            explicit_categories: [user.health]
        """
    public static let catalog = """
        apiVersion: accord/v1
        kind: Catalog
        metadata: { name: c }
        features:
          - { name: clicks, category: user.behavior.clicks, region: EU }
          - { name: pulse, category: user.health, region: EU }
        """
    public static let jurisdiction = """
        apiVersion: accord/v1
        kind: Jurisdiction
        id: EU
        fallback: true
        age_of_consent: 16
        legal_bases:
          - { purposes: [recs], basis: consent }
          - { purposes: [ads], basis: legitimate_interest }
        allowed_regions: [EU]
        """
    public static let policy = """
        apiVersion: accord/v1
        kind: Policy
        metadata: { name: p }
        rules:
          - id: recs-data
            effect: permit
            purposes: [recs]
            actions: [read_online]
            categories: [user.behavior, user.health]
          - id: ads-clicks
            effect: permit
            purposes: [ads]
            actions: [read_online]
            categories: [user.behavior.clicks]
            when: has(subject.age) && subject.age >= 18
        retention:
          - { categories: [user.behavior, user.health], max_age: 90d, on_expiry: delete }
        """

    public static func files(replacing: [String: String] = [:], extra: [String: String] = [:]) -> [(path: String, bytes: [UInt8])] {
        var files = [
            "taxonomy.yaml": taxonomy, "scopes.yaml": scopes, "catalog.yaml": catalog, "eu.yaml": jurisdiction, "policy.yaml": policy,
        ]
        for (name, text) in replacing { files[name] = text }
        for (name, text) in extra { files[name] = text }
        return files.map { ($0.key, Array(($0.value + "\n").utf8)) }
    }

    public static func validate(replacing: [String: String] = [:], extra: [String: String] = [:]) -> ValidationResult {
        PolicySetValidator.validate(files: files(replacing: replacing, extra: extra))
    }

    /// Writes the set to a new folder (for the binary).
    public static func folder(_ name: String, replacing: [String: String] = [:], extra: [String: String] = [:]) throws -> URL {
        let folder = try Fixtures.temporaryFolder(name)
        for (path, bytes) in files(replacing: replacing, extra: extra) { try Data(bytes).write(to: folder.appendingPathComponent(path)) }
        return folder
    }
}
