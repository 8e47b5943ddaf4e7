import Yams

/// Helpers over Yams' composed `Node` tree. The loader works on nodes rather than decoded
/// dictionaries so that every value keeps its line and column for error messages.
enum YAMLNodes {
    /// The node's tag after YAML 1.1 resolution (`yes` is a bool, `"22"` a string), as Ansible's
    /// PyYAML reads it.
    static func tag(of node: Node) -> Tag.Name {
        let written = Tag.Name(rawValue: node.tag.rawValue)
        if written == .nonSpecific, case .scalar = node { return .str }  // `! 22` is the string "22"
        return written == .implicit || written == .nonSpecific ? Resolver.default.resolveTag(of: node) : written
    }

    static func isNull(_ node: Node) -> Bool {
        if case .scalar = node { return tag(of: node) == .null }
        return false
    }

    /// "a list", "a map", "the number 3"... for messages saying what was found instead.
    static func kind(of node: Node) -> String {
        switch node {
        case .mapping: return "a map"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case let .scalar(scalar):
            switch tag(of: node) {
            case .null: return "nothing (null)"
            case .bool: return "the boolean \(scalar.string)"
            case .int, .float: return "the number \(scalar.string)"
            default: return "the string '\(scalar.string)'"
            }
        }
    }

    /// A map's pairs in written order, with YAML merge keys (`<<: *defaults`) replaced by the
    /// merged map's pairs; explicit pairs come later so they override merged ones.
    static func entries(of mapping: Node.Mapping) -> [(key: Node, value: Node)] {
        var merged: [(key: Node, value: Node)] = []
        var explicit: [(key: Node, value: Node)] = []
        for (key, value) in mapping {
            guard tag(of: key) == .merge else {
                explicit.append((key, value))
                continue
            }
            switch value {
            case let .mapping(source):
                merged += entries(of: source)
            case let .sequence(sources):
                // In a list of merged maps the first one wins, so apply them last to first.
                for case let .mapping(source) in sources.reversed() { merged += entries(of: source) }
            default:
                explicit.append((key, value))
            }
        }
        return merged + explicit
    }

    /// The first `!vault`-tagged node in `node`, depth first.
    static func vaultNode(in node: Node) -> Node? {
        switch node {
        case .scalar:
            return node.tag.rawValue == "!vault" ? node : nil
        case let .sequence(sequence):
            for item in sequence { if let found = vaultNode(in: item) { return found } }
            return nil
        case let .mapping(mapping):
            for (key, value) in mapping {
                if let found = vaultNode(in: key) ?? vaultNode(in: value) { return found }
            }
            return nil
        case .alias:
            return nil
        }
    }

    /// Converts a node to the value stored in `Host.vars`. Scalars keep their YAML 1.1 type;
    /// anything else (timestamps, custom tags such as Ansible's `!unsafe`) stays the written text.
    static func value(of node: Node) -> InventoryValue {
        switch node {
        case let .scalar(scalar):
            switch tag(of: node) {
            case .null: return .null
            case .bool: return node.bool.map(InventoryValue.bool) ?? .string(scalar.string)
            case .int: return node.int.map(InventoryValue.int) ?? .string(scalar.string)
            case .float: return node.float.map(InventoryValue.double) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case let .sequence(sequence):
            return .list(sequence.map(value(of:)))
        case let .mapping(mapping):
            var map: [String: InventoryValue] = [:]
            for (key, item) in entries(of: mapping) {
                map[key.scalar?.string ?? "\(value(of: key))"] = value(of: item)
            }
            return .map(map)
        case .alias:
            return .null
        }
    }
}

extension YAMLNodes {
    /// A Yams `Mark` for a position patchctl computed itself (INI and script inventories build
    /// node trees too, so one parser validates every format with positions). Yams gives `Mark`
    /// no public initialiser; it is two `Int`s, and the round trip below checks that the copy
    /// reads back the same numbers, else the position is left out rather than wrong.
    static func mark(line: Int, column: Int) -> Mark? {
        guard MemoryLayout<Mark>.size == MemoryLayout<(Int, Int)>.size else { return nil }
        let mark = unsafeBitCast((line, column), to: Mark.self)
        return mark.line == line && mark.column == column ? mark : nil
    }

    /// Builders for trees made from other formats; explicit tags keep each value's type.
    static func string(_ text: String, at mark: Mark?) -> Node {
        .scalar(.init(text, Tag(.str), .singleQuoted, mark))
    }

    static func null(at mark: Mark?) -> Node {
        .scalar(.init("null", Tag(.null), .plain, mark))
    }

    static func map(_ pairs: [(Node, Node)], at mark: Mark?) -> Node {
        .mapping(.init(pairs, Tag(.map), .block, mark))
    }

    static func list(_ items: [Node], at mark: Mark?) -> Node {
        .sequence(.init(items, Tag(.seq), .block, mark))
    }

    /// A Python literal from an INI file as a typed node.
    static func node(_ literal: PythonLiteral, at mark: Mark?) -> Node {
        switch literal {
        case .none: return null(at: mark)
        case let .bool(value): return .scalar(.init(value ? "true" : "false", Tag(.bool), .plain, mark))
        case let .int(value): return .scalar(.init(String(value), Tag(.int), .plain, mark))
        case let .double(value): return .scalar(.init(String(value), Tag(.float), .plain, mark))
        case let .string(value): return string(value, at: mark)
        case let .list(items): return list(items.map { node($0, at: mark) }, at: mark)
        case let .dict(pairs): return map(pairs.map { (string($0.0, at: mark), node($0.1, at: mark)) }, at: mark)
        }
    }
}
