import Foundation

/// Where an ssh_config keyword was written, for messages: `file:line`.
public struct SSHConfigOrigin: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var description: String { "\(file):\(line)" }
}

/// A problem with an ssh_config file itself (unreadable, too big, bad quoting), with its place.
public struct SSHConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var origin: SSHConfigOrigin?
    public var file: String
    public var message: String

    init(_ file: String, line: Int? = nil, _ message: String) {
        self.file = file
        self.origin = line.map { SSHConfigOrigin(file: file, line: $0) }
        self.message = message
    }

    init(_ origin: SSHConfigOrigin, _ message: String) {
        self.file = origin.file
        self.origin = origin
        self.message = message
    }

    public var description: String { "ssh_config \(origin?.description ?? file): \(message)" }
}

/// A reason without a place; the caller adds the file and line.
struct SSHConfigMessage: Error, Sendable, CustomStringConvertible, ExpressibleByStringInterpolation {
    var description: String
    init(stringLiteral value: String) { description = value }
    init(stringInterpolation: DefaultStringInterpolation) { description = String(stringInterpolation: stringInterpolation) }
}
