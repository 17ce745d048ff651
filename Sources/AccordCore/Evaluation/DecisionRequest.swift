import Foundation

/// A request to use a person's data: who asks, about whom, for what, doing what, on which resources,
/// in which context, and the subject's consent state — carried inline, or left for a consent store to supply.
public struct DecisionRequest: Sendable, Hashable {
    public var id: String?
    public var actor: Actor
    public var subject: Subject
    public var purpose: String
    /// One of `Action`'s raw values; anything else is denied.
    public var action: String
    public var resources: [ResourceReference]
    public var context: RequestContext
    public var consent: ConsentState
    /// Whether the request carried the subject's consent state itself. If not, a consent store may supply it;
    /// without one, the subject counts as having given no consent.
    public var consentIsInline: Bool

    /// `consent: nil` leaves the consent state to a store (empty until one fills it).
    public init(
        id: String? = nil, actor: Actor, subject: Subject, purpose: String, action: String,
        resources: [ResourceReference], context: RequestContext = RequestContext(), consent: ConsentState? = nil
    ) {
        self.id = id
        self.actor = actor
        self.subject = subject
        self.purpose = purpose
        self.action = action
        self.resources = resources
        self.context = context
        self.consent = consent ?? ConsentState()
        self.consentIsInline = consent != nil
    }
}

/// The service or person making the request.
public struct Actor: Sendable, Hashable {
    public var id: String
    public var roles: [String]
    public var type: String?
    /// Declared attributes sent with the request (`actor.properties.<name>`); the rest come from entity data.
    public var properties: [String: AttributeValue]

    public init(id: String, roles: [String] = [], type: String? = nil, properties: [String: AttributeValue] = [:]) {
        self.id = id
        self.roles = roles
        self.type = type
        self.properties = properties
    }
}

/// The person whose data is used.
public struct Subject: Sendable, Hashable {
    public var id: String
    /// Age in whole years, if known.
    public var age: Int?
    /// A declared jurisdiction id; unknown or absent means the fallback jurisdiction.
    public var jurisdiction: String?
    /// The entity type (else the policies' data-subject type): entity data is found by type and id.
    public var type: String?
    /// Declared attributes sent with the request (`subject.properties.<name>`); the rest come from entity data.
    public var properties: [String: AttributeValue]

    public init(
        id: String, age: Int? = nil, jurisdiction: String? = nil, type: String? = nil, properties: [String: AttributeValue] = [:]
    ) {
        self.id = id
        self.age = age
        self.jurisdiction = jurisdiction
        self.type = type
        self.properties = properties
    }
}

/// A feature (from the catalog), a bare data category, or an entity of a declared type (a `todo`, a `route`), with
/// when its data was collected.
public struct ResourceReference: Sendable, Hashable {
    public var feature: String?
    public var category: String?
    /// When the data was collected; needed where a retention rule applies.
    public var collectedAt: Date?
    /// An entity resource's type, id and properties, held apart so that a feature resource (most of a training
    /// set's rows) stays small and copies without reference counting them.
    private let entity: EntityResource?

    /// An entity resource's declared type (its category is the type's).
    public var type: String? { entity?.type }
    /// An entity resource's id.
    public var id: String? { entity?.id }
    /// Declared attributes sent with the request (`resource.properties.<name>`); the rest come from entity data.
    public var properties: [String: AttributeValue] { entity?.properties ?? [:] }

    public init(feature: String? = nil, category: String? = nil, collectedAt: Date? = nil) {
        self.feature = feature
        self.category = category
        self.collectedAt = collectedAt
        self.entity = nil
    }

    /// An entity of a declared type.
    public init(type: String, id: String, properties: [String: AttributeValue] = [:], collectedAt: Date? = nil) {
        self.entity = EntityResource(type: type, id: id, properties: properties)
        self.collectedAt = collectedAt
    }

    /// `feature`, `category:<name>` or `<type>:<id>`, as decisions name resources.
    public var name: String {
        if let feature { return feature }
        if let entity { return "\(entity.type):\(entity.id)" }
        return category.map { "category:\($0)" } ?? "<unnamed>"
    }
}

/// The entity part of a resource reference. Immutable; compared by value.
final class EntityResource: Sendable, Hashable {
    let type: String
    let id: String
    let properties: [String: AttributeValue]

    init(type: String, id: String, properties: [String: AttributeValue]) {
        (self.type, self.id, self.properties) = (type, id, properties)
    }

    static func == (lhs: EntityResource, rhs: EntityResource) -> Bool {
        lhs.type == rhs.type && lhs.id == rhs.id && lhs.properties == rhs.properties
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        hasher.combine(id)
        hasher.combine(properties)
    }
}

/// Where and how the request is processed.
public struct RequestContext: Sendable, Hashable {
    /// The region where the data will be processed.
    public var processingRegion: String?
    /// The Global Privacy Control signal (`Sec-GPC: 1`).
    public var gpc: Bool
    public var environment: String?

    public init(processingRegion: String? = nil, gpc: Bool = false, environment: String? = nil) {
        self.processingRegion = processingRegion
        self.gpc = gpc
        self.environment = environment
    }
}

/// The subject's consent state, as of the request.
public struct ConsentState: Sendable, Hashable {
    public var grants: [ConsentGrant]
    /// Purposes the subject objected to (GDPR Art. 21); covers their children.
    public var objections: [String]
    /// Purposes, or purpose flags such as `sale_or_share`, the subject opted out of (CCPA §1798.120).
    public var optOuts: [String]

    public init(grants: [ConsentGrant] = [], objections: [String] = [], optOuts: [String] = []) {
        self.grants = grants
        self.objections = objections
        self.optOuts = optOuts
    }
}

/// One consent a subject gave.
public struct ConsentGrant: Sendable, Hashable {
    public var scope: String
    public var version: Int
    public var grantedAt: Date
    /// Given by a parent or guardian, for subjects below the age of digital consent (GDPR Art. 8).
    public var byGuardian: Bool
    /// The consent store's event this grant comes from (nil for consent carried in the request).
    public var event: Int64?

    public init(scope: String, version: Int, grantedAt: Date, byGuardian: Bool = false, event: Int64? = nil) {
        self.scope = scope
        self.version = version
        self.grantedAt = grantedAt
        self.byGuardian = byGuardian
        self.event = event
    }
}
