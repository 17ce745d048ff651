import AccordCore
import AccordStore
import AccordTestSupport
import Foundation
import Testing

/// `ConsentSource`'s contract (Sources/AccordStore/Consent/ConsentSource.swift), for every backend.
@Suite struct ConsentSourceContract {
    static let day = 86_400.0
    static let asOf = Date(timeIntervalSince1970: 1_780_000_000)

    static func event(_ kind: ConsentEvent.Kind, _ target: String, daysAgo: Double) -> ConsentEvent {
        ConsentEvent(kind: kind, target: target, version: kind == .grant ? 1 : nil, occurredAt: asOf.addingTimeInterval(-daysAgo * day))
    }

    @Test(arguments: StorageBackends.names) func aWithdrawalIsInForceForTheVeryNextRead(backend: String) throws {
        try StorageBackends.with(backend) { stores in
            try stores.consent.record([Self.event(.grant, "personalization", daysAgo: 10)], subject: "u-1", at: Self.asOf)
            #expect(try stores.consent.consent(subject: "u-1", asOf: Self.asOf).state.grants.map(\.scope) == ["personalization"])
            try stores.consent.record([Self.event(.withdraw, "personalization", daysAgo: 1)], subject: "u-1", at: Self.asOf)
            #expect(try stores.consent.consent(subject: "u-1", asOf: Self.asOf).state.grants.isEmpty)
            #expect(try stores.consent.consent(subject: "u-2", asOf: Self.asOf).state.grants.isEmpty, "nobody else's")
        }
    }

    @Test(arguments: StorageBackends.names) func historyIsInTheOrderEventsOccurred(backend: String) throws {
        try StorageBackends.with(backend) { stores in
            // Recorded out of order: the later event first.
            try stores.consent.record([Self.event(.withdraw, "analytics", daysAgo: 2)], subject: "u-1", at: Self.asOf)
            try stores.consent.record([Self.event(.grant, "analytics", daysAgo: 5)], subject: "u-1", at: Self.asOf)
            #expect(try stores.consent.history(subject: "u-1").map(\.event.kind) == [.grant, .withdraw])
            #expect(try stores.consent.consent(subject: "u-1", asOf: Self.asOf).state.grants.isEmpty, "folded in that order")
        }
    }

    @Test(arguments: StorageBackends.names) func consentAsOfAnInstantFoldsOnlyWhatHadOccurred(backend: String) throws {
        try StorageBackends.with(backend) { stores in
            try stores.consent.record(
                [Self.event(.grant, "analytics", daysAgo: 5), Self.event(.withdraw, "analytics", daysAgo: 2)],
                subject: "u-1", at: Self.asOf)
            let before = Self.asOf.addingTimeInterval(-3 * Self.day)
            #expect(try stores.consent.consent(subject: "u-1", asOf: before).state.grants.map(\.scope) == ["analytics"])
            #expect(try stores.consent.consent(subject: "u-1", asOf: Self.asOf).state.grants.isEmpty)
        }
    }

    @Test(arguments: StorageBackends.names) func eventsAreCountedByKindAndTargetInAWindow(backend: String) throws {
        try StorageBackends.with(backend) { stores in
            try stores.consent.record(
                [
                    ("u-1", Self.event(.grant, "analytics", daysAgo: 5)), ("u-2", Self.event(.grant, "analytics", daysAgo: 4)),
                    ("u-1", Self.event(.withdraw, "analytics", daysAgo: 1)),
                ], at: Self.asOf)
            let counts = try stores.consent.eventCounts(from: Self.asOf.addingTimeInterval(-4.5 * Self.day), to: nil)
            #expect(counts.map { "\($0.kind) \($0.target) \($0.events)" } == ["grant analytics 1", "withdraw analytics 1"])
        }
    }
}
