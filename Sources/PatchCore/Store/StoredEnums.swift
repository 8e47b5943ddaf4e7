import GRDB

// Enums history stores as their raw values. Read back with `row.decode(_:forColumn:)`: a value
// this version does not know is a decoding error naming the column and row, never a default.
extension RunKind: DatabaseValueConvertible {}
extension RunState: DatabaseValueConvertible {}
extension EventAction: DatabaseValueConvertible {}
extension ApprovalState: DatabaseValueConvertible {}
extension PackageFormat: DatabaseValueConvertible {}
extension OSFamily: DatabaseValueConvertible {}
