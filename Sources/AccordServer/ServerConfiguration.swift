import AccordStore

/// How `accord serve` runs.
public struct ServerConfiguration: Sendable {
    public var policies: String
    public var database: String
    public var host: String
    public var port: Int
    /// Required (as `Authorization: Bearer …`) by admin and consent-writing endpoints; nil refuses them all.
    public var token: String?
    public var maxBodyBytes: Int
    public var durability: Durability
    /// Checkpoints signed in the background: after this many new records, or this long after the last one when
    /// records came in meanwhile (nil: only on request).
    public var checkpointEvery: CheckpointSchedule?
    /// Where each background checkpoint is published as a C2SP signed note (a file appended to, or a folder).
    public var publishCheckpoints: String?
    /// Most evaluations or requests one batch may carry (413 `request.too_many_items` above it).
    public var maxItems: Int
    /// Decision endpoints require the token too (they are open by default, for a server behind a gateway).
    public var tokenForDecisions: Bool
    /// Aggregates under a budgeted differential-privacy obligation spend from the privacy-budget ledger (as
    /// `accord eval --budgets` does); false decides them without it.
    public var spendBudgets: Bool
    /// The base URL clients reach the server by (behind a TLS terminator, say), named in the AuthZEN discovery
    /// document; nil names the scheme-less address the request came to (its `Host`), else the listening address.
    public var publicURL: String?
    /// The purpose of an AuthZEN evaluation that names none in `context.purpose` (nil: such a request is denied
    /// with `request.no_purpose`).
    public var defaultPurpose: String?
    /// Decision responses to callers without the token carry rule locations too (by default only token holders
    /// see them).
    public var showLocations: Bool

    public init(
        policies: String = "policies", database: String = "accord.sqlite", host: String = "127.0.0.1", port: Int = 8181,
        token: String? = nil, maxBodyBytes: Int = 1 << 20, durability: Durability = .full,
        checkpointEvery: CheckpointSchedule? = nil, publishCheckpoints: String? = nil, maxItems: Int = 1_000,
        tokenForDecisions: Bool = false, spendBudgets: Bool = true, publicURL: String? = nil,
        defaultPurpose: String? = nil, showLocations: Bool = false
    ) {
        self.policies = policies
        self.database = database
        self.host = host
        self.port = port
        self.token = token
        self.maxBodyBytes = maxBodyBytes
        self.durability = durability
        self.checkpointEvery = checkpointEvery
        self.publishCheckpoints = publishCheckpoints
        self.maxItems = maxItems
        self.tokenForDecisions = tokenForDecisions
        self.spendBudgets = spendBudgets
        self.publicURL = publicURL
        self.defaultPurpose = defaultPurpose
        self.showLocations = showLocations
    }
}

/// When the server checkpoints on its own: every N records, or every T seconds (if anything was recorded).
public enum CheckpointSchedule: Sendable, Equatable {
    case records(Int)
    case seconds(Int)

    /// `10000` (records) or `30s`, `5m` (time).
    public init?(_ text: String) {
        if let n = Int(text), n > 0 { self = .records(n); return }
        guard let unit = text.last, let n = Int(text.dropLast()), n > 0 else { return nil }
        switch unit {
        case "s": self = .seconds(n)
        case "m": self = .seconds(n * 60)
        case "h": self = .seconds(n * 3_600)
        default: return nil
        }
    }
}
