import Foundation
import Yams

/// The one way patchctl reads a YAML file (inventories, policies, compliance rule sets): bounded
/// in size, nesting, aliases and expanded nodes before Yams builds its tree, so a hostile or
/// broken file is a clear error instead of minutes of CPU, gigabytes of memory or a crash.
///
/// Why a pass of its own: Yams' composer shares an aliased node rather than copying it, but it
/// hashes every map's keys to find duplicates, so `? *a9` over ten levels of ten-fold aliases
/// walks 10^10 nodes before any of our code runs; and the walks after it (vault check, variable
/// conversion) follow aliases too. `YAMLReader+Budget.swift` counts the expansion on libyaml's
/// event stream, where it costs one pass over the text.
public enum YAMLReader {
    /// The documented limits (docs/inventory.md "Limits of input files").
    public struct Limits: Sendable, Equatable {
        /// Bytes in the file.
        public var maxBytes: Int
        /// Nodes after every alias is expanded (each alias counts the whole node it names).
        public var maxNodes: Int
        /// Alias uses (`*name`, including merge keys' `<<: *name`).
        public var maxAliases: Int
        /// Nested maps and lists, counted through aliases.
        public var maxDepth: Int

        public init(maxBytes: Int, maxNodes: Int, maxAliases: Int, maxDepth: Int) {
            self.maxBytes = maxBytes
            self.maxNodes = maxNodes
            self.maxAliases = maxAliases
            self.maxDepth = maxDepth
        }

        /// 32 MiB, 2,000,000 nodes, 100,000 aliases, 64 levels: far above any inventory of
        /// 50,000 hosts, far below what exhausts a controller.
        public static let standard = Limits(maxBytes: 32 << 20, maxNodes: 2_000_000, maxAliases: 100_000, maxDepth: 64)
    }

    /// A limit was exceeded; `line` and `column` (1-based) point at the node that crossed it.
    public struct LimitExceeded: Error, Equatable, Sendable {
        public var line: Int?
        public var column: Int?
        public var message: String
    }

    /// Why a file could not be read as text; the caller wraps it into its own error kind.
    public enum ReadProblem: Error, Equatable, Sendable {
        case unreadable
        case tooLarge(limit: Int)
        case notUTF8

        /// `what` is "inventory", "policy", "rule set".
        public func message(for what: String) -> String {
            switch self {
            case .unreadable: "cannot read the \(what) file"
            case let .tooLarge(limit): "the \(what) file is larger than \(limit >> 20) MiB, the limit for YAML files"
            case .notUTF8: "the \(what) is not UTF-8 text"
            }
        }
    }

    /// The file's text, reading at most `limits.maxBytes` + 1 bytes (a device or an endless
    /// file stops there).
    public static func text(atPath path: String, limits: Limits = .standard) -> Result<String, ReadProblem> {
        guard let handle = FileHandle(forReadingAtPath: path) else { return .failure(.unreadable) }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: limits.maxBytes + 1) ?? Data()
        } catch {
            return .failure(.unreadable)
        }
        guard data.count <= limits.maxBytes else { return .failure(.tooLarge(limit: limits.maxBytes)) }
        guard let text = String(data: data, encoding: .utf8) else { return .failure(.notUTF8) }
        return .success(text)
    }

    /// Yams' node tree of `yaml`, after checking it stays within `limits`. Throws
    /// `LimitExceeded`, or Yams' `YamlError` for a syntax error.
    public static func compose(_ yaml: String, limits: Limits = .standard) throws -> Node? {
        guard yaml.utf8.count <= limits.maxBytes else {
            throw LimitExceeded(line: nil, column: nil,
                                message: "the file is larger than \(limits.maxBytes >> 20) MiB, the limit for YAML files")
        }
        try checkBudget(yaml, limits: limits)
        return try Yams.compose(yaml: yaml)
    }
}
