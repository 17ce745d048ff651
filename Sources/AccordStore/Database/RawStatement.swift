import Foundation
import GRDB
import GRDBSQLite

/// A prepared statement driven through SQLite's C interface: binding and stepping without building
/// `DatabaseValue`s, for the append path. Text and blobs are copied into one scratch buffer per statement
/// and bound in place (SQLite would otherwise allocate and copy each value); bindings are cleared after each
/// step, so none outlives the buffer.
struct RawStatement {
    let statement: OpaquePointer
    private let scratch: Scratch

    init(_ db: Database, _ sql: String) throws {
        statement = try db.cachedStatement(sql: sql).sqliteStatement
        scratch = Scratch()
    }

    final class Scratch {
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: 16_384, alignment: 8)
        deinit { bytes.deallocate() }
    }

    /// Binds with `bind` (in parameter order) and steps once to completion.
    func run(_ db: Database, _ bind: (inout Binder) -> Void) throws {
        var binder = Binder(statement: statement, scratch: scratch.bytes)
        bind(&binder)
        let code = sqlite3_step(statement)
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }

    /// Binds, then hands each row to `row` (read its columns with `Columns`) until there are no more.
    func rows(_ db: Database, _ bind: (inout Binder) -> Void, _ row: (Columns) throws -> Void) throws {
        var binder = Binder(statement: statement, scratch: scratch.bytes)
        bind(&binder)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        while true {
            switch sqlite3_step(statement) {
            case SQLITE_ROW: try row(Columns(statement: statement))
            case SQLITE_DONE: return
            case let code:
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
        }
    }

    /// The current row's columns, valid only inside the `rows` callback.
    struct Columns {
        let statement: OpaquePointer

        func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }
        func double(_ column: Int32) -> Double { sqlite3_column_double(statement, column) }
        func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }

        /// The column as text (a BLOB's bytes read as UTF-8).
        func text(_ column: Int32) -> String {
            guard let pointer = sqlite3_column_text(statement, column) else { return "" }
            return String(decoding: UnsafeBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(statement, column))), as: UTF8.self)
        }

        /// The first byte of a text column (0 if empty or NULL): enough to tell a short closed set of words apart.
        func firstByte(_ column: Int32) -> UInt8 {
            guard let pointer = sqlite3_column_text(statement, column), sqlite3_column_bytes(statement, column) > 0 else { return 0 }
            return pointer.pointee
        }
    }

    /// Binds, steps once and returns the first column of the row as bytes, or nil when there is no row.
    func blob(_ db: Database, _ bind: (inout Binder) -> Void) throws -> Data? {
        var binder = Binder(statement: statement, scratch: scratch.bytes)
        bind(&binder)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        switch sqlite3_step(statement) {
        case SQLITE_ROW:
            guard let pointer = sqlite3_column_blob(statement, 0) else { return Data() }
            return Data(bytes: pointer, count: Int(sqlite3_column_bytes(statement, 0)))
        case SQLITE_DONE: return nil
        case let code:
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }

    struct Binder {
        let statement: OpaquePointer
        let scratch: UnsafeMutableRawBufferPointer
        var index: Int32 = 1
        private var used = 0
        private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

        init(statement: OpaquePointer, scratch: UnsafeMutableRawBufferPointer) {
            self.statement = statement
            self.scratch = scratch
        }

        /// `bytes` in the scratch buffer (or, if it is full, copied by SQLite) as the next parameter.
        private mutating func bindBytes(_ bytes: UnsafeRawBufferPointer, text: Bool) {
            var pointer = bytes.baseAddress ?? UnsafeRawPointer(scratch.baseAddress!)
            var destructor: sqlite3_destructor_type? = Self.transient
            if used + bytes.count <= scratch.count {
                let target = scratch.baseAddress! + used
                if bytes.count > 0 { target.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
                pointer = UnsafeRawPointer(target)
                destructor = nil  // SQLITE_STATIC: valid until the bindings are cleared after the step
                used += bytes.count
            }
            if text {
                sqlite3_bind_text(statement, index, pointer.assumingMemoryBound(to: CChar.self), Int32(bytes.count), destructor)
            } else {
                sqlite3_bind_blob(statement, index, pointer, Int32(bytes.count), destructor)
            }
            index += 1
        }

        mutating func bind(_ value: Int64) {
            sqlite3_bind_int64(statement, index, value)
            index += 1
        }

        mutating func bind(_ value: String?) {
            guard var value else {
                sqlite3_bind_null(statement, index)
                index += 1
                return
            }
            value.withUTF8 { bindBytes(UnsafeRawBufferPointer($0), text: true) }
        }

        mutating func bind(_ digest: SHA256Digest) {
            digest.withUnsafeBytes { bindBytes($0, text: false) }
        }

        mutating func bind(_ value: Data) {
            value.withUnsafeBytes { bindBytes($0, text: false) }
        }
    }
}
