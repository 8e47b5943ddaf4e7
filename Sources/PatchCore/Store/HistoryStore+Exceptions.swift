import Foundation
import GRDB

extension HistoryStore {
    /// Records an exception and its audit event in one transaction; returns its id.
    public func addException(host: String, target: String, until: Date, reason: String, owner: String, by user: String, at date: Date) throws -> Int64 {
        try recording { db in
            let id = try db.insertReturningID("""
                INSERT INTO compliance_exceptions (host, target, until, reason, owner, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [host, target, until, reason, owner, user, date])
            try Self.insert(EventRecord(at: date, user: user, action: .exception, host: host,
                                        detail: "#\(id) \(target) until \(JSONOutput.timestamp(until)), owner \(owner): \(reason)"), into: db)
            return id
        }
    }

    /// Marks an exception removed (it stays, for reports as of earlier dates); an unknown or already removed id is an error.
    @discardableResult
    public func removeException(id: Int64, by user: String, at date: Date) throws -> ComplianceException {
        try recording { db in
            guard let row = try db.rows("SELECT * FROM compliance_exceptions WHERE id = ?", arguments: [id]).first else {
                throw PatchError.report(message: "no exception #\(id)")
            }
            var exception = Self.exception(from: row)
            if let removed = exception.removedAt {
                throw PatchError.report(message: "exception #\(id) was already removed on \(JSONOutput.timestamp(removed)) by \(exception.removedBy ?? "?")")
            }
            try db.execute("UPDATE compliance_exceptions SET removed_at = ?, removed_by = ? WHERE id = ?", arguments: [date, user, id])
            try Self.insert(EventRecord(at: date, user: user, action: .exceptionRemove, host: exception.host,
                                        detail: "#\(id) \(exception.target)"), into: db)
            exception.removedAt = date
            exception.removedBy = user
            return exception
        }
    }

    /// Every exception created up to `date` (all when nil), oldest first; removed ones included.
    public func exceptions(createdUpTo date: Date? = nil) throws -> [ComplianceException] {
        try reading { db in
            try db.rows("SELECT * FROM compliance_exceptions\(date == nil ? "" : " WHERE created_at <= ?") ORDER BY id",
                        date.map { [$0.databaseValue] } ?? []).map(Self.exception(from:))
        }
    }

    static func exception(from row: Row) -> ComplianceException {
        ComplianceException(id: row["id"], host: row["host"], target: row["target"], until: row["until"], reason: row["reason"],
                            owner: row["owner"], createdBy: row["created_by"], createdAt: row["created_at"],
                            removedAt: row["removed_at"], removedBy: row["removed_by"])
    }
}
