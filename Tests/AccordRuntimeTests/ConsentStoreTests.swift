import AccordCore
import AccordRuntime
import AccordTestSupport
import Foundation
import GRDB
import Testing

@testable import AccordStore

/// The consent store on a real SQLite file, read by decisions.
@Suite struct ConsentStoreTests {
    static let asOf = Fixtures.asOf  // 2026-06-01
    static func at(_ text: String) -> Date { Timestamps.parse(text)! }

    /// Example request `index` with its inline consent taken away: the store has to supply it.
    static func withoutConsent(_ index: Int) throws -> DecisionRequest {
        var request = try Fixtures.exampleRequests()[index]
        request.consent = ConsentState()
        request.consentIsInline = false
        return request
    }

    func store() throws -> (URL, SQLiteConsentStore) {
        let folder = try Fixtures.temporaryFolder("accord-consent")
        return (folder, try SQLiteConsentStore(path: folder.appendingPathComponent("accord.sqlite").path, durability: .normal))
    }

    @Test func grantPermitsAndWithdrawalDeniesTheVeryNextDecision() throws {
        let (folder, store) = try store()
        defer { try? FileManager.default.removeItem(at: folder) }
        let plan = try Fixtures.referencePlan()
        let request = try Self.withoutConsent(0)  // u-1001, personalization.recommendations, EU
        #expect(
            DecisionPoint(plan: plan, consent: store).judge(request, asOf: Self.asOf).resources[0].reasons.map(\.code) == [.consentMissing])

        let granted = try store.record(
            [ConsentEvent(kind: .grant, target: "personalization", version: 3, occurredAt: Self.at("2026-01-10T00:00:00Z"))],
            subject: "u-1001")
        let permitted = DecisionPoint(plan: plan, consent: store).judge(request, asOf: Self.asOf)
        #expect(permitted.resources[0].effect == .permit)
        #expect(permitted.resources[0].consentEvents == [granted[0].id], "the decision names the event it relied on")
        // The same decision as with the consent inline.
        var inline = request
        inline.consent = ConsentState(grants: [
            ConsentGrant(scope: "personalization", version: 3, grantedAt: Self.at("2026-01-10T00:00:00Z"))
        ])
        inline.consentIsInline = true
        #expect(plan.evaluate(inline, asOf: Self.asOf).resources.map(\.effect) == permitted.resources.map(\.effect))

        // Warm cache, then a withdrawal: in force for the next decision.
        _ = DecisionPoint(plan: plan, consent: store).judge(request, asOf: Self.asOf)
        try store.record(
            [ConsentEvent(kind: .withdraw, target: "personalization", occurredAt: Self.at("2026-05-31T00:00:00Z"))], subject: "u-1001")
        let after = DecisionPoint(plan: plan, consent: store).judge(request, asOf: Self.asOf)
        #expect(after.resources.allSatisfy { $0.effect == .deny })
        #expect(after.resources[0].reasons.map(\.code) == [.consentMissing])
        // Decided as of a moment before the withdrawal, the grant still stood.
        #expect(
            DecisionPoint(plan: plan, consent: store).judge(request, asOf: Self.at("2026-05-30T00:00:00Z")).resources[0].effect == .permit)
        // A request that brings its own consent is decided on it, not on the store.
        #expect(DecisionPoint(plan: plan, consent: store).judge(inline, asOf: Self.asOf).resources[0].effect == .permit)
    }

    @Test func aWriteFromAnotherConnectionIsSeenAtOnce() throws {
        let (folder, store) = try store()
        defer { try? FileManager.default.removeItem(at: folder) }
        let plan = try Fixtures.referencePlan()
        let request = try Self.withoutConsent(0)
        try store.record(
            [ConsentEvent(kind: .grant, target: "personalization", version: 3, occurredAt: Self.at("2026-01-10T00:00:00Z"))],
            subject: "u-1001")
        #expect(DecisionPoint(plan: plan, consent: store).judge(request, asOf: Self.asOf).resources[0].effect == .permit)  // cached now
        let other = try SQLiteConsentStore(path: store.path, durability: .normal)
        try other.record(
            [ConsentEvent(kind: .withdraw, target: "personalization", occurredAt: Self.at("2026-05-01T00:00:00Z"))], subject: "u-1001")
        #expect(
            DecisionPoint(plan: plan, consent: store).judge(request, asOf: Self.asOf).resources[0].effect == .deny, "never a stale cache")
        // An unrelated write (the audit trail, in the same file) leaves the consent cache alone but correct.
        let trail = try SQLiteAuditTrail(path: store.path, durability: .normal)
        try trail.record(plan.evaluate(request, asOf: Self.asOf), for: request, decisionID: "x")
        #expect(DecisionPoint(plan: plan, consent: store).judge(request, asOf: Self.asOf).resources[0].effect == .deny)
    }

    @Test func expiryObjectionOptOutAndMinors() throws {
        let (folder, store) = try store()
        defer { try? FileManager.default.removeItem(at: folder) }
        let plan = try Fixtures.referencePlan()

        // Expiry by instant: personalization lapses one year after it was given.
        try store.record(
            [ConsentEvent(kind: .grant, target: "personalization", version: 3, occurredAt: Self.at("2025-06-15T00:00:00Z"))],
            subject: "u-1001")
        let request = try Self.withoutConsent(0)
        #expect(DecisionPoint(plan: plan, consent: store).judge(request, asOf: Self.asOf).resources[0].effect == .permit)
        #expect(
            DecisionPoint(plan: plan, consent: store).judge(request, asOf: Self.at("2026-06-15T00:00:00Z")).resources[0].reasons.map(\.code)
                == [.consentExpired])

        // Objection to a purpose pursued under legitimate interest (analytics.product in the EU).
        var analytics = try Self.withoutConsent(11)  // u-1008
        #expect(DecisionPoint(plan: plan, consent: store).judge(analytics, asOf: Self.asOf).resources[0].effect == .permit)
        try store.record([ConsentEvent(kind: .object, target: "analytics", occurredAt: Self.at("2026-05-01T00:00:00Z"))], subject: "u-1008")
        analytics.id = "again"
        #expect(
            DecisionPoint(plan: plan, consent: store).judge(analytics, asOf: Self.asOf).resources[0].reasons.map(\.code) == [.objection])

        // Opting out of sale/share in US-CA (as a Global Privacy Control signal would record it).
        let ads = try Self.withoutConsent(8)  // u-2002, ads.targeting, US-CA, no GPC signal
        #expect(DecisionPoint(plan: plan, consent: store).judge(ads, asOf: Self.asOf).resources[0].effect == .permit)
        try store.record(
            [ConsentEvent(kind: .optOut, target: "sale_or_share", source: .gpc, occurredAt: Self.at("2026-05-01T00:00:00Z"))],
            subject: "u-2002")
        #expect(
            DecisionPoint(plan: plan, consent: store).judge(ads, asOf: Self.asOf).resources[0].reasons.map(\.code) == [.optOutRequested])

        // A 14-year-old in the EU: their own consent is not enough below the age of digital consent; a guardian's is.
        let minor = try Self.withoutConsent(14)  // u-1011, model.training, age 14, EU
        try store.record(
            [ConsentEvent(kind: .grant, target: "personalization", version: 3, occurredAt: Self.at("2026-01-10T00:00:00Z"))],
            subject: "u-1011")
        #expect(
            DecisionPoint(plan: plan, consent: store).judge(minor, asOf: Self.asOf).resources[0].reasons.map(\.code).contains(
                .consentGuardianRequired))
        try store.record(
            [
                ConsentEvent(
                    kind: .grant, target: "personalization", version: 3, byGuardian: true, occurredAt: Self.at("2026-02-10T00:00:00Z"))
            ],
            subject: "u-1011")
        #expect(DecisionPoint(plan: plan, consent: store).judge(minor, asOf: Self.asOf).resources[0].effect == .permit)
    }

    @Test func historyIsAppendOnlyAndPseudonymous() throws {
        let (folder, store) = try store()
        defer { try? FileManager.default.removeItem(at: folder) }
        try store.record(
            [
                ConsentEvent(
                    kind: .grant, target: "ads", version: 1, source: .tcf, occurredAt: Self.at("2026-02-01T00:00:00Z"),
                    evidence: #"{"cmp": 7}"#),
                ConsentEvent(kind: .grant, target: "analytics", occurredAt: Self.at("2026-01-01T00:00:00Z")),
                ConsentEvent(kind: .withdraw, target: "ads", occurredAt: Self.at("2026-03-01T00:00:00Z")),
            ], subject: "person-with-a-long-recognisable-id")
        let history = try store.history(subject: "person-with-a-long-recognisable-id")
        #expect(history.map(\.event.target) == ["analytics", "ads", "ads"], "in the order they occurred")
        #expect(history.map(\.event.kind) == [.grant, .grant, .withdraw])
        #expect(history[1].event.source == .tcf && history[1].event.evidence == #"{"cmp": 7}"#)
        #expect(try store.history(subject: "someone-else").isEmpty)
        let state = try store.consent(subject: "person-with-a-long-recognisable-id", asOf: Self.asOf)
        #expect(state.state.grants.map(\.scope) == ["analytics"])
        #expect(state.lastEvent == history.last?.id)

        let raw = try DatabaseQueue(path: store.path)
        #expect(throws: DatabaseError.self) { try raw.write { try $0.execute(sql: "UPDATE consent_event SET kind = 'grant'") } }
        #expect(throws: DatabaseError.self) { try raw.write { try $0.execute(sql: "DELETE FROM consent_event") } }
        let bytes =
            try Data(contentsOf: URL(fileURLWithPath: store.path))
            + ((try? Data(contentsOf: URL(fileURLWithPath: store.path + "-wal"))) ?? Data())
        #expect(bytes.range(of: Data("person-with-a-long-recognisable-id".utf8)) == nil)
    }

    @Test func theAuditRecordNamesTheConsentEvent() throws {
        let (folder, store) = try store()
        defer { try? FileManager.default.removeItem(at: folder) }
        let trail = try SQLiteAuditTrail(path: store.path, durability: .normal)
        let event = try store.record(
            [ConsentEvent(kind: .grant, target: "personalization", version: 3, occurredAt: Self.at("2026-01-10T00:00:00Z"))],
            subject: "u-1001")[0]
        let decider = DecisionPoint(plan: try Fixtures.referencePlan(), consent: store, trail: trail)
        let decided = decider.decide([try Self.withoutConsent(0)], asOf: Self.asOf)[0]
        let (decision, record) = (decided.decision, decided.record)
        #expect(decision.resources[0].consentEvents == [event.id])
        let outcomes = try #require(record).resourceOutcomes
        #expect(outcomes[0].consentEvents == [event.id])
        #expect(try #require(record).resources.contains("\"consent_events\":[\(event.id)]"), "inside the hashed record")
        #expect(try trail.verify().isIntact)
    }
}

/// The consent commands and `eval --consent-store` through the real binary.
@Suite struct ConsentCLITests {
    @Test func grantDecideWithdrawDecideAndHistory() throws {
        let folder = try Fixtures.temporaryFolder("accord-consent-cli")
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("accord.sqlite").path
        var request = try jsonObject(
            String(
                try String(contentsOfFile: Repository.path("examples/requests.jsonl"), encoding: .utf8)
                    .split(separator: "\n")[0]))
        request["consent"] = nil
        let requestFile = folder.appendingPathComponent("request.json")
        try JSONSerialization.data(withJSONObject: request).write(to: requestFile)
        func decide() throws -> [String: Any] {
            let eval = try runAccord([
                "eval", "--policies", "policies", "--request", requestFile.path, "--as-of", "2026-06-01T00:00:00Z",
                "--consent-store", "--record", "--db", db,
            ])
            #expect(eval.status == 0, "\(eval.stderr)")
            return try jsonObject(eval.stdout)
        }
        #expect(try decide()["effect"] as? String == "deny")

        let grant = try runAccord([
            "consent", "grant", "u-1001", "--scope", "personalization", "--version", "3",
            "--at", "2026-01-10T00:00:00Z", "--evidence", #"{"form": "signup-v3"}"#, "--db", db,
        ])
        #expect(grant.status == 0, "\(grant.stderr)")
        let granted = try decide()
        #expect(granted["effect"] as? String == "partial")
        let first = try #require((granted["resources"] as? [[String: Any]])?.first)
        #expect(first["effect"] as? String == "permit")
        #expect(first["consent_events"] as? [Int] == [1])

        #expect(
            try runAccord(["consent", "withdraw", "u-1001", "--scope", "personalization", "--at", "2026-05-20T00:00:00Z", "--db", db])
                .status == 0)
        #expect(try decide()["effect"] as? String == "deny")

        let history = try runAccord(["consent", "history", "u-1001", "--db", db, "--format", "jsonl"])
        let events = try history.stdout.split(separator: "\n").map { try jsonObject(String($0)) }
        #expect(events.compactMap { $0["kind"] as? String } == ["grant", "withdraw"])
        #expect(events.first?["version"] as? Int == 3)
        #expect(events.allSatisfy { $0["source"] as? String == "api" })
        let table = try runAccord(["consent", "history", "u-1001", "--db", db])
        #expect(table.stdout.contains("personalization") && table.stdout.contains("(2 events)"))

        let show = try runAccord(["consent", "show", "u-1001", "--as-of", "2026-02-01T00:00:00Z", "--policies", "policies", "--db", db])
        let state = try jsonObject(show.stdout)
        let grants = try #require(state["grants"] as? [[String: Any]])
        #expect(grants.first?["expires_at"] as? String == "2027-01-10T00:00:00Z")
        #expect(grants.first?["expired"] as? Bool == false)

        let bad = try runAccord(["consent", "grant", "u-1", "--scope", "ads", "--source", "carrier-pigeon", "--db", db])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--source must be api, tcf, gpc or import"))
        #expect(try runAccord(["audit", "verify", "--db", db]).status == 0)
    }
}

/// TC strings and Global Privacy Control through the binary.
@Suite struct ConsentSignalCLITests {
    @Test func decodeRecordAndGPC() throws {
        let folder = try Fixtures.temporaryFolder("accord-signals")
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("accord.sqlite").path
        let decoded = try runAccord(["consent", "decode-tcf", Fixtures.tcString, "--policies", "policies"])
        #expect(decoded.status == 0, "\(decoded.stderr)")
        let object = try jsonObject(decoded.stdout)
        #expect(object["purpose_consents"] as? [Int] == [1, 2, 3, 4, 5, 6, 9, 10])
        #expect(object["granted_scopes"] as? [String] == ["ads", "analytics", "personalization"])
        let bad = try runAccord(["consent", "decode-tcf", "not-a-tc-string!"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("not a TCF v2 TC string"))

        #expect(try runAccord(["consent", "tcf", "u-2002", Fixtures.tcString, "--db", db]).status == 0)
        let history = try runAccord(["consent", "history", "u-2002", "--db", db, "--format", "jsonl"])
        #expect(history.stdout.split(separator: "\n").count == 3)
        #expect(history.stdout.contains("\"source\":\"tcf\""))

        // GPC opts a California subject out of ads targeting (sale/share) and nothing else.
        var request = try jsonObject(
            String(
                try String(contentsOfFile: Repository.path("examples/requests.jsonl"), encoding: .utf8)
                    .split(separator: "\n")[8]))  // u-2002, ads.targeting, US-CA
        request["consent"] = nil
        let file = folder.appendingPathComponent("ads.json")
        try JSONSerialization.data(withJSONObject: request).write(to: file)
        func effect() throws -> String? {
            let eval = try runAccord([
                "eval", "--policies", "policies", "--request", file.path, "--as-of", "2026-06-01T00:00:00Z",
                "--consent-store", "--db", db,
            ])
            return try jsonObject(eval.stdout)["effect"] as? String
        }
        #expect(try effect() == "permit")
        #expect(try runAccord(["consent", "gpc", "u-2002", "--at", "2026-05-01T00:00:00Z", "--db", db]).status == 0)
        #expect(try effect() == "deny")
    }
}

/// Imports: every bad line named with its number, and nothing imported unless every line is good.
@Suite struct ConsentImportTests {
    @Test func goodFilesImportInOneGoInBothFormats() throws {
        let jsonl = """
            {"subject": "u-1", "kind": "grant", "target": "ads", "version": 1, "occurred_at": "2026-01-01T00:00:00Z"}

            {"subject": "u-1", "kind": "withdraw", "target": "ads", "occurred_at": "2026-02-01T00:00:00Z", "evidence": {"form": "prefs"}}
            {"subject": "u-2", "kind": "opt_out", "target": "sale_or_share", "source": "gpc", "occurred_at": "2026-02-01T00:00:00Z"}
            """
        let events = try ConsentImport.read(jsonl, csv: false, file: "in.jsonl").get()
        #expect(events.map(\.subject) == ["u-1", "u-1", "u-2"])
        #expect(events.map(\.event.kind) == [.grant, .withdraw, .optOut])
        #expect(events[0].event.source == .import && events[0].event.evidence == #"{"file":"in.jsonl","line":1}"#)
        #expect(events[1].event.evidence == #"{"form":"prefs"}"#)
        #expect(events[2].event.source == .gpc)

        let csv = """
            subject,kind,target,version,occurred_at,by_guardian,evidence
            u-1,grant,personalization,3,2026-01-10T00:00:00Z,true,"{""form"": ""signup, v3""}"
            u-1,object,analytics,,2026-03-01T00:00:00Z,,
            """
        let rows = try ConsentImport.read(csv, csv: true, file: "in.csv").get()
        #expect(rows.count == 2)
        #expect(rows[0].event.version == 3 && rows[0].event.byGuardian)
        #expect(rows[0].event.evidence == #"{"form": "signup, v3"}"#, "a quoted cell with commas and doubled quotes")
        #expect(rows[1].event.kind == .object && rows[1].event.version == nil)
    }

    @Test func everyBadLineIsNamed() {
        let jsonl = """
            {"subject": "u-1", "kind": "grant", "target": "ads", "occurred_at": "2026-01-01T00:00:00Z"}
            {"subject": "u-1", "kind": "revoke", "target": "ads", "occurred_at": "2026-01-01T00:00:00Z"}
            {"subject": "u-1", "kind": "grant", "target": "ads"}
            not json
            {"subject": "u-1", "kind": "grant", "target": "ads", "occurred_at": "2026-02-30T00:00:00Z"}
            {"subject": "u-1", "subject": "u-2", "kind": "grant", "target": "ads", "occurred_at": "2026-01-01T00:00:00Z"}
            {"subject": "u-1", "kind": "withdraw", "target": "ads", "version": 2, "occurred_at": "2026-01-01T00:00:00Z"}
            {"subject": "u-1", "kind": "grant", "target": "ads", "occurred_at": "2026-01-01T00:00:00Z", "colour": "red"}
            """
        guard case .failure(let failure) = ConsentImport.read(jsonl, csv: false, file: "bad.jsonl") else {
            Issue.record("a file with bad lines was accepted")
            return
        }
        #expect(failure.problems.map(\.line) == [2, 3, 4, 5, 6, 7, 8])
        #expect(failure.problems[0].message.contains("unknown kind 'revoke'"))
        #expect(failure.problems[1].message.contains("'occurred_at' is required"))
        #expect(failure.problems[3].message.contains("not an RFC 3339 timestamp"))
        #expect(failure.problems[4].message.contains("duplicate key 'subject'"))
        #expect(failure.problems[5].message.contains("grants only"))
        #expect(failure.problems[6].message.contains("unknown field 'colour'"))

        let csv = "subject,kind,target,occurred_at\nu-1,grant,ads\nu-1,grant,\"ads,2026-01-01T00:00:00Z\n"
        guard case .failure(let csvFailure) = ConsentImport.read(csv, csv: true, file: "bad.csv") else {
            Issue.record("a CSV with bad lines was accepted")
            return
        }
        #expect(csvFailure.problems.map(\.line) == [2, 3])
    }

    @Test func theCLIImportsAllOrNothing() throws {
        let folder = try Fixtures.temporaryFolder("accord-import")
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("accord.sqlite").path
        let bad = folder.appendingPathComponent("bad.jsonl")
        try Data(
            """
            {"subject": "u-1", "kind": "grant", "target": "ads", "occurred_at": "2026-01-01T00:00:00Z"}
            {"subject": "u-1", "kind": "grant", "target": "ads", "occurred_at": "yesterday"}
            """.utf8
        ).write(to: bad)
        let refused = try runAccord(["consent", "import", bad.path, "--db", db])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("bad.jsonl:2: error: 'occurred_at' is not an RFC 3339 timestamp"))
        #expect(refused.stderr.contains("nothing imported (1 bad line)"))
        #expect(!FileManager.default.fileExists(atPath: db), "nothing was written: not even the good line")
        #expect(try runAccord(["consent", "history", "u-1", "--db", db]).status == 2, "and reading creates no database")

        let good = folder.appendingPathComponent("good.csv")
        try Data(
            "subject,kind,target,version,occurred_at\nu-1,grant,ads,1,2026-01-01T00:00:00Z\nu-1,withdraw,ads,,2026-02-01T00:00:00Z\n".utf8
        )
        .write(to: good)
        let imported = try runAccord(["consent", "import", good.path, "--db", db])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("imported 2 consent events"))
        let history = try runAccord(["consent", "history", "u-1", "--db", db, "--format", "jsonl"])
        #expect(
            history.stdout.split(separator: "\n").compactMap { try? jsonObject(String($0))["source"] as? String } == ["import", "import"])
    }
}

/// Erasing a person reaches every store in the database: no consent event or budget spend of theirs stays
/// behind to tie the audit records (which cite consent events) back to them.
@Suite struct ErasureAcrossStoresTests {
    @Test func eraseRemovesConsentHistoryAndOwnBudgetSpends() throws {
        let folder = try Fixtures.temporaryFolder("accord-erase-all")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("accord.sqlite").path
        let trail = try SQLiteAuditTrail(path: path, durability: .normal)
        let consent = try SQLiteConsentStore(path: path, durability: .normal)
        let ledger = try SQLiteBudgetLedger(path: path, durability: .normal)
        let plan = try Fixtures.referencePlan()
        try consent.record(
            [ConsentEvent(kind: .grant, target: "personalization", version: 3, occurredAt: ConsentStoreTests.at("2026-01-10T00:00:00Z"))],
            subject: "u-1001")
        try consent.record(
            [ConsentEvent(kind: .grant, target: "analytics", occurredAt: ConsentStoreTests.at("2026-01-10T00:00:00Z"))],
            subject: "u-1002")
        let request = try ConsentStoreTests.withoutConsent(0)
        let decider = DecisionPoint(plan: plan, consent: consent, trail: trail)
        #expect(decider.decide([request], asOf: Fixtures.asOf)[0].decision.resources[0].effect == .permit)
        // A per-subject budget spend for the same person.
        var aggregate = plan.evaluate(try PrivacyBudgetTests.aggregate(subject: "u-1001"), asOf: Fixtures.asOf)
        aggregate.resources[0].obligations.differentialPrivacy?.budget?.perSubject = true
        _ = ledger.spend(aggregate, for: try PrivacyBudgetTests.aggregate(subject: "u-1001"), decisionID: "a1", at: Fixtures.asOf)
        let pseudonymHex = trail.pseudonym(for: "u-1001").hexString

        #expect(try trail.erase(subject: "u-1001") == 1)
        #expect(try consent.history(subject: "u-1001").isEmpty)
        #expect(try consent.history(subject: "u-1002").count == 1, "others keep theirs")
        #expect(
            decider.decide([request], asOf: Fixtures.asOf)[0].decision.resources[0].effect == .deny,
            "no cache keeps the erased consent")
        let spends = try trail.queue.read { db in try String.fetchAll(db, sql: "SELECT budget FROM budget_spend") }
        #expect(!spends.contains { $0.contains(pseudonymHex) })
        #expect(try trail.verify().isIntact)
        // Outside an erasure, the history stays append-only.
        #expect(throws: (any Error).self) {
            try DatabaseQueue(path: path).write { try $0.execute(sql: "DELETE FROM consent_event") }
        }
    }
}
