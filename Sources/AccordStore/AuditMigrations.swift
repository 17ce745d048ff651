import GRDB

/// The stores' schema, as numbered migrations written in SQL. A released migration is never edited
/// (a test pins each one's text); changes come as new ones.
enum AuditMigrations {
    static let migrations: [(name: String, sql: String)] = [
        ("0001-audit-trail", """
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
            """),
    ]

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in migrations {
            migrator.registerMigration(migration.name) { db in try db.execute(sql: migration.sql) }
        }
        return migrator
    }
}
