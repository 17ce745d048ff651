import Foundation
import GRDB
import GRDBSQLite

/// Keeps WAL checkpoints off the commit path.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses its threshold: that commit — and every
/// request waiting on it — pays for copying the whole WAL back into the database and syncing it (tens of
/// milliseconds at 64 MiB, against under a millisecond for a commit). Here the
/// writer's commits instead ask one background thread to checkpoint (PASSIVE: it never waits for, or blocks,
/// readers and the writer) once the WAL holds `backgroundFrames`, again every `backgroundStep` frames, and
/// once more when the writer has been quiet for `trailingDelay`; the thread uses a connection of its own. A
/// checkpoint that keeps up leaves little for anyone else, but the WAL only starts again from its beginning
/// when a writer finds it wholly copied back, which under a steady stream of commits it seldom does: from
/// `inlineFrames` on, the writer itself runs a passive checkpoint after its commit — short, since the
/// background has copied nearly everything — so that the next transaction restarts the WAL.
enum WALCheckpointer {
    /// WAL frames (pages) from which a commit asks for a background checkpoint.
    static let backgroundFrames: Int32 = 4_096
    /// Frames written since the last request before the next: a checkpoint asked for at every commit past
    /// `backgroundFrames` would run back to back (a connection opened, the WAL and the database synced each
    /// time) for a handful of new frames each, taking a core and the disk from the commits it serves.
    static let backgroundStep: Int32 = 1_024
    /// WAL frames from which the writer checkpoints after its commit itself.
    static let inlineFrames: Int32 = 16_384

    /// One database whose writer asks for checkpoints. It lives as long as the process: SQLite holds a pointer
    /// to it for as long as the writer's connection is open, which nothing here can see end (a few dozen bytes
    /// for each database opened).
    final class Target: @unchecked Sendable {
        let path: String
        /// Whether a checkpoint is queued (guarded by `WALCheckpointer.lock`).
        var queued = false
        /// The WAL's size in frames when a checkpoint was last asked for (guarded by `WALCheckpointer.lock`).
        var requestedAt: Int32 = 0
        /// Whether commits past `backgroundFrames` came after its last checkpoint began (guarded likewise).
        var unfinished = false
        /// When the writer last committed past `backgroundFrames` (uptime nanoseconds; guarded likewise).
        var lastCommit: UInt64 = 0

        init(path: String) { self.path = path }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var waiting: [Target] = []
    private static let wake = DispatchSemaphore(value: 0)
    nonisolated(unsafe) private static var started = false

    /// Makes the connection that writes `path` checkpoint as described above, in place of SQLite's automatic
    /// checkpoints. Call on the writer connection, once.
    static func install(on db: Database, path: String) {
        let target = Unmanaged.passRetained(Target(path: path)).toOpaque()
        sqlite3_wal_hook(db.sqliteConnection, walHook, target)
    }

    /// Databases committed to past `backgroundFrames` since their last checkpoint began: each gets one more
    /// once its writer has made no commit for `trailingDelay`, so that the commits after the last request are
    /// copied back too and the WAL can start over. (Quiet means no commit: counted from the last request
    /// instead, it would sync the WAL and the database twenty times a second under steady load.)
    nonisolated(unsafe) private static var unfinished: [Target] = []
    static let trailingDelay = 0.05

    /// Called by the writer's hook for each commit that leaves `frames` in the WAL (at least `backgroundFrames`).
    fileprivate static func committed(_ target: Target, frames: Int32) {
        lock.lock()
        if !started {
            started = true
            let thread = Thread { run() }
            thread.name = "accord.wal.checkpoint"
            thread.start()
        }
        target.lastCommit = DispatchTime.now().uptimeNanoseconds
        // A database newly left with uncopied commits wakes the thread too, which may be sleeping without a
        // deadline (nothing was unfinished when it last looked): from then on it waits at most `trailingDelay`.
        let newlyUnfinished = !target.unfinished
        if newlyUnfinished {
            target.unfinished = true
            unfinished.append(target)
        }
        // A WAL that started again from its beginning is smaller than when last asked for.
        let due = frames < target.requestedAt || frames - target.requestedAt >= backgroundStep
        let enqueue = due && !target.queued
        if enqueue {
            target.requestedAt = frames
            target.queued = true
            waiting.append(target)
        }
        lock.unlock()
        if enqueue || newlyUnfinished { wake.signal() }
    }

    private static func run() {
        while true {
            lock.lock()
            let trailing = !unfinished.isEmpty
            lock.unlock()
            // With nothing left uncopied, sleep until asked (a signal that finds nothing to do just loops).
            if trailing { _ = wake.wait(timeout: .now() + trailingDelay) } else { wake.wait() }
            lock.lock()
            // What was asked for first; else the trailing checkpoint of a database left with uncopied commits,
            // once its writer is quiet (looked for at every turn, so a busy database cannot put off a quiet one).
            var target: Target? = waiting.isEmpty ? nil : waiting.removeFirst()
            if target == nil {
                let now = DispatchTime.now().uptimeNanoseconds
                target = unfinished.first { now &- $0.lastCommit >= UInt64(trailingDelay * 1e9) }
            }
            if let target {
                target.queued = false
                if target.unfinished {
                    target.unfinished = false
                    unfinished.removeAll { $0 === target }
                }
            }
            lock.unlock()
            if let target { checkpoint(target.path) }
        }
    }

    /// A passive checkpoint of `path` on a connection of its own. A database that has gone (closed and deleted)
    /// is left alone: the connection never creates one.
    private static func checkpoint(_ path: String) {
        var connection: OpaquePointer?
        guard sqlite3_open_v2(path, &connection, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK else {
            sqlite3_close_v2(connection)
            return
        }
        defer { sqlite3_close_v2(connection) }
        // The checkpoint syncs the WAL before copying from it and the database before it may be restarted.
        sqlite3_exec(connection, "PRAGMA synchronous = FULL", nil, nil, nil)
        sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
    }
}

/// Called by SQLite after each commit on the writer, with the number of frames in the WAL.
private func walHook(_ context: UnsafeMutableRawPointer?, _ connection: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ frames: Int32)
    -> Int32
{
    guard let context else { return SQLITE_OK }
    if frames >= WALCheckpointer.inlineFrames {
        sqlite3_wal_checkpoint_v2(connection, name, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
    } else if frames >= WALCheckpointer.backgroundFrames {
        WALCheckpointer.committed(Unmanaged<WALCheckpointer.Target>.fromOpaque(context).takeUnretainedValue(), frames: frames)
    }
    return SQLITE_OK
}
