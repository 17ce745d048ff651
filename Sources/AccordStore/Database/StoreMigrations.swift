import Foundation
import GRDB

/// The stores' schema, as numbered migrations written in SQL. A released migration is never edited
/// (a test pins each one's text); changes come as new ones.
enum StoreMigrations {
    static let migrations: [(name: String, sql: String)] = [
        (
            "0001-audit-trail",
            """
            CREATE TABLE audit_record (
                sequence INTEGER PRIMARY KEY,
                decision_id TEXT NOT NULL UNIQUE,
                recorded_at INTEGER NOT NULL,
                revision TEXT NOT NULL,
                actor TEXT NOT NULL,
                purpose TEXT NOT NULL,
                action TEXT NOT NULL,
                subject_seal BLOB NOT NULL,
                jurisdiction TEXT,
                effect TEXT NOT NULL,
                resources TEXT NOT NULL,
                processing_region TEXT,
                previous_hash BLOB NOT NULL,
                hash BLOB NOT NULL,
                mac BLOB NOT NULL
            );
            CREATE TRIGGER audit_record_no_update BEFORE UPDATE ON audit_record
                BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
            CREATE TRIGGER audit_record_no_delete BEFORE DELETE ON audit_record
                BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;

            -- No secondary index on the records but the decision id: recorded_at never decreases along the sequence,
            -- so a time range is found by bisection, and the other filters go through the lookup tables below.
            --
            -- Postings: for each term (purpose and each purpose above it, actor, reason code, rule id) and commit,
            -- the sequences of that commit's records carrying it, as ascending LEB128 deltas. One row per term per
            -- commit, not per record. Derived, outside the chain.
            CREATE TABLE audit_term (
                term TEXT NOT NULL,
                last_sequence INTEGER NOT NULL,
                sequences BLOB NOT NULL,
                PRIMARY KEY (term, last_sequence)
            ) WITHOUT ROWID;

            -- Subject → records, by the first 8 bytes of the pseudonym, partitioned by bucket = sequence >> 12: new
            -- entries land in the newest bucket's few pages instead of all over one large tree (subjects are many
            -- and arrive in no order), and a look-up seeks once per bucket. Outside the chain: erasure deletes a
            -- subject's rows.
            CREATE TABLE audit_subject (
                bucket INTEGER NOT NULL,
                tag INTEGER NOT NULL,
                sequence INTEGER NOT NULL,
                PRIMARY KEY (bucket, tag, sequence)
            ) WITHOUT ROWID;

            -- One random key per subject pseudonym; the record's subject_seal is an HMAC under it. Erasure deletes the row.
            -- New keys go to subject_key_recent, a small table whose few pages absorb the random inserts; it is
            -- merged into subject_key in key order every few thousand subjects. A key is in one or the other.
            CREATE TABLE subject_key (
                pseudonym BLOB PRIMARY KEY,
                key BLOB NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE subject_key_recent (
                pseudonym BLOB PRIMARY KEY,
                key BLOB NOT NULL
            ) WITHOUT ROWID;

            -- That an erasure happened, and how many records it made unreadable; never whose.
            CREATE TABLE audit_erasure (
                id INTEGER PRIMARY KEY,
                erased_at INTEGER NOT NULL,
                records INTEGER NOT NULL
            );

            CREATE TABLE audit_checkpoint (
                id INTEGER PRIMARY KEY,
                size INTEGER NOT NULL,
                root TEXT NOT NULL,
                created_at TEXT NOT NULL,
                signature TEXT NOT NULL,
                public_key TEXT NOT NULL
            );
            CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint
                BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
            CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
                BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
            """
        ),
        (
            "0002-consent",
            """
            -- The consent history: one row per thing a person did about their consent, never changed or removed.
            -- `subject` is the keyed pseudonym (as for the audit trail); `target` is a consent scope (grant,
            -- withdraw, expire), a purpose (object), or a purpose or purpose flag (opt_out).
            CREATE TABLE consent_event (
                id INTEGER PRIMARY KEY,
                subject BLOB NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('grant', 'withdraw', 'expire', 'object', 'opt_out')),
                target TEXT NOT NULL,
                version INTEGER,
                by_guardian INTEGER NOT NULL DEFAULT 0,
                source TEXT NOT NULL CHECK (source IN ('api', 'tcf', 'gpc', 'import')),
                occurred_at INTEGER NOT NULL,
                recorded_at INTEGER NOT NULL,
                evidence TEXT
            );
            CREATE INDEX consent_event_subject ON consent_event (subject, occurred_at, id);
            CREATE TRIGGER consent_event_no_update BEFORE UPDATE ON consent_event
                BEGIN SELECT RAISE(ABORT, 'consent events are append-only'); END;
            CREATE TRIGGER consent_event_no_delete BEFORE DELETE ON consent_event
                BEGIN SELECT RAISE(ABORT, 'consent events are append-only'); END;

            -- Counts consent events, so that a cache of consent state can tell it is stale (from any connection)
            -- without being dropped by every other write to the database.
            CREATE TABLE consent_version (n INTEGER NOT NULL);
            INSERT INTO consent_version (n) VALUES (0);
            CREATE TRIGGER consent_event_counted AFTER INSERT ON consent_event
                BEGIN UPDATE consent_version SET n = n + 1; END;
            """
        ),
        (
            "0003-privacy-budget",
            """
            -- Epsilon spent by aggregates, per budget: the purpose, or the purpose and the subject's pseudonym.
            -- Kept in millionths of epsilon, so that sums are exact.
            CREATE TABLE budget_spend (
                id INTEGER PRIMARY KEY,
                budget TEXT NOT NULL,
                micro_epsilon INTEGER NOT NULL CHECK (micro_epsilon > 0),
                spent_at INTEGER NOT NULL,
                decision_id TEXT
            );
            CREATE INDEX budget_spend_budget ON budget_spend (budget, spent_at);
            CREATE TRIGGER budget_spend_no_update BEFORE UPDATE ON budget_spend
                BEGIN SELECT RAISE(ABORT, 'budget spends are append-only'); END;
            CREATE TRIGGER budget_spend_no_delete BEFORE DELETE ON budget_spend
                BEGIN SELECT RAISE(ABORT, 'budget spends are append-only'); END;
            """
        ),
        (
            "0004-erasure-across-stores",
            """
            -- Erasing a subject also removes their consent history and their own budget spends, which are keyed by
            -- the pseudonym. The append-only triggers let rows go only while their subject's erasure is under way
            -- (a row here, inside the erasing transaction); a deletion moves the consent counter so that no cache
            -- keeps the erased history.
            CREATE TABLE erasure_in_progress (pseudonym BLOB PRIMARY KEY) WITHOUT ROWID;
            DROP TRIGGER consent_event_no_delete;
            CREATE TRIGGER consent_event_no_delete BEFORE DELETE ON consent_event
                WHEN NOT EXISTS (SELECT 1 FROM erasure_in_progress WHERE pseudonym = OLD.subject)
                BEGIN SELECT RAISE(ABORT, 'consent events are append-only; they leave only with their subject''s erasure'); END;
            CREATE TRIGGER consent_event_erased AFTER DELETE ON consent_event
                BEGIN UPDATE consent_version SET n = n + 1; END;
            DROP TRIGGER budget_spend_no_delete;
            CREATE TRIGGER budget_spend_no_delete BEFORE DELETE ON budget_spend
                WHEN NOT EXISTS (SELECT 1 FROM erasure_in_progress WHERE OLD.budget LIKE '%#' || lower(hex(pseudonym)))
                BEGIN SELECT RAISE(ABORT, 'budget spends are append-only; a subject''s own leave only with their erasure'); END;
            """
        ),
        (
            "0005-merkle-state",
            """
            -- The Merkle tree's peaks as of each checkpoint, so that the next one hashes only the records since.
            -- A cache: checkpoints are still checked against the records by `verify`.
            CREATE TABLE audit_merkle_state (
                size INTEGER PRIMARY KEY,
                peaks BLOB NOT NULL
            );
            """
        ),
        (
            "0006-feature-store",
            """
            -- The embedded feature store, laid out as a Feast user knows it: entity key, feature, event time, value.
            CREATE TABLE feature_value (
                entity_key TEXT NOT NULL,
                feature TEXT NOT NULL,
                event_timestamp INTEGER NOT NULL,
                value,
                value_type TEXT NOT NULL CHECK (value_type IN ('int', 'double', 'string', 'bool')),
                created_timestamp INTEGER NOT NULL,
                PRIMARY KEY (entity_key, feature, event_timestamp)
            ) WITHOUT ROWID;
            """
        ),
        (
            "0007-lineage",
            """
            -- Training sets handed out by the gate, with their manifests; who was in each (by pseudonym); and the
            -- models registered against them — so that a withdrawal can be traced to the models to retrain.
            CREATE TABLE training_set (
                id TEXT PRIMARY KEY,
                created_at INTEGER NOT NULL,
                purpose TEXT NOT NULL,
                actor TEXT NOT NULL,
                revision TEXT NOT NULL,
                manifest TEXT NOT NULL
            );
            CREATE TABLE training_subject (
                pseudonym BLOB NOT NULL,
                training_set TEXT NOT NULL REFERENCES training_set (id),
                PRIMARY KEY (pseudonym, training_set)
            ) WITHOUT ROWID;
            CREATE TABLE model (
                name TEXT NOT NULL,
                version TEXT NOT NULL,
                training_set TEXT NOT NULL REFERENCES training_set (id),
                registered_at INTEGER NOT NULL,
                PRIMARY KEY (name, version, training_set)
            );
            """
        ),
        (
            "0008-pending-postings",
            """
            -- The postings of small commits, one row per commit holding all its terms (term, then its sequences as
            -- in audit_term), so that a commit of a few records writes one page here rather than one page per
            -- term in audit_term. Folded into audit_term every few hundred commits, and before any commit that
            -- writes audit_term itself: every sequence here is newer than every sequence there. Derived.
            CREATE TABLE audit_term_pending (
                first_sequence INTEGER PRIMARY KEY,
                postings BLOB NOT NULL
            );
            """
        ),
        (
            "0009-append-only-lookups",
            """
            -- The lookup tables are derived from the records, but a row removed from them hides records from `query`
            -- and `export`: they refuse UPDATE and DELETE like the records, except while their own maintenance runs
            -- inside the writing transaction (an erasure; a fold of pending postings). `verify` checks them against
            -- the records as well, since triggers stop mistakes, not someone who can drop them.
            CREATE TABLE postings_fold_in_progress (n INTEGER NOT NULL);
            CREATE TRIGGER audit_term_no_update BEFORE UPDATE ON audit_term
                BEGIN SELECT RAISE(ABORT, 'audit lookups are append-only'); END;
            CREATE TRIGGER audit_term_no_delete BEFORE DELETE ON audit_term
                BEGIN SELECT RAISE(ABORT, 'audit lookups are append-only'); END;
            CREATE TRIGGER audit_term_pending_no_update BEFORE UPDATE ON audit_term_pending
                BEGIN SELECT RAISE(ABORT, 'audit lookups are append-only'); END;
            CREATE TRIGGER audit_term_pending_no_delete BEFORE DELETE ON audit_term_pending
                WHEN NOT EXISTS (SELECT 1 FROM postings_fold_in_progress)
                BEGIN SELECT RAISE(ABORT, 'pending postings leave only when folded into audit_term'); END;
            CREATE TRIGGER audit_subject_no_update BEFORE UPDATE ON audit_subject
                BEGIN SELECT RAISE(ABORT, 'audit lookups are append-only'); END;
            CREATE TRIGGER audit_subject_no_delete BEFORE DELETE ON audit_subject
                WHEN NOT EXISTS (SELECT 1 FROM erasure_in_progress)
                BEGIN SELECT RAISE(ABORT, 'audit lookups are append-only; a subject''s entries leave only with their erasure'); END;

            -- Erasures are counted by `verify` (records no longer in the subject index must be exactly the erased
            -- ones), so each new row carries a MAC under the trail's record key; rows written before this migration
            -- (id up to `legacy_until`) have none.
            ALTER TABLE audit_erasure ADD COLUMN mac BLOB;
            CREATE TABLE audit_erasure_legacy (legacy_until INTEGER NOT NULL);
            INSERT INTO audit_erasure_legacy (legacy_until) SELECT coalesce(max(id), 0) FROM audit_erasure;
            CREATE TRIGGER audit_erasure_no_update BEFORE UPDATE ON audit_erasure
                BEGIN SELECT RAISE(ABORT, 'erasure records are append-only'); END;
            CREATE TRIGGER audit_erasure_no_delete BEFORE DELETE ON audit_erasure
                BEGIN SELECT RAISE(ABORT, 'erasure records are append-only'); END;
            """
        ),
    ]

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in migrations {
            migrator.registerMigration(migration.name) { db in try db.execute(sql: migration.sql) }
        }
        return migrator
    }
}
