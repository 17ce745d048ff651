import GRDB

/// The audit trail's schema, as numbered migrations written in SQL. A released migration is never edited;
/// changes come as new ones.
enum AuditMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("0001-audit-trail") { db in
            try db.execute(sql: """
                CREATE TABLE audit_record (
                    sequence INTEGER PRIMARY KEY,
                    decision_id TEXT NOT NULL UNIQUE,
                    recorded_at TEXT NOT NULL,
                    revision TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    purpose TEXT NOT NULL,
                    action TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    jurisdiction TEXT,
                    effect TEXT NOT NULL,
                    resources TEXT NOT NULL,
                    processing_region TEXT,
                    previous_hash TEXT NOT NULL,
                    hash TEXT NOT NULL,
                    mac TEXT NOT NULL
                );
                CREATE INDEX audit_record_subject ON audit_record (subject, sequence);
                CREATE INDEX audit_record_purpose ON audit_record (purpose, sequence);
                CREATE INDEX audit_record_time ON audit_record (recorded_at);
                CREATE TRIGGER audit_record_no_update BEFORE UPDATE ON audit_record
                    BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
                CREATE TRIGGER audit_record_no_delete BEFORE DELETE ON audit_record
                    BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;

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
                """)
        }
        return migrator
    }
}
