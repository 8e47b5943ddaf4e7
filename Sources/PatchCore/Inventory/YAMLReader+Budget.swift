// Yams has no public event API; its C module (libyaml, part of the Yams package already in
// Package.swift) streams events without building anything.
internal import CYaml

extension YAMLReader {
    /// One open map or list while streaming: what it holds so far, after expansion.
    private struct Frame {
        var nodes = 1
        var depth = 1
        var anchor: String?
    }

    /// One pass over libyaml's events counting what Yams and the walkers after it would visit:
    /// every alias adds the full expanded size and depth of the node it names (the size is
    /// remembered per anchor, so the count itself stays linear). Stops at the first limit
    /// crossed. Syntax errors are left to `Yams.compose`, which reports them with context.
    static func checkBudget(_ yaml: String, limits: Limits) throws(LimitExceeded) {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        let bytes = Array(yaml.utf8)
        let failure: LimitExceeded? = bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            return scan(&parser, limits: limits)
        }
        if let failure { throw failure }
    }

    private static func scan(_ parser: inout yaml_parser_t, limits: Limits) -> LimitExceeded? {
        var anchors: [String: (nodes: Int, depth: Int)] = [:]
        var stack: [Frame] = []
        var total = 0
        var aliases = 0

        /// Adds a finished node (or an alias's expansion) to the enclosing collection.
        func add(nodes: Int, depth: Int) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].nodes += nodes
            stack[stack.count - 1].depth = max(stack[stack.count - 1].depth, depth + 1)
        }
        func exceeded(_ mark: yaml_mark_t, _ message: String) -> LimitExceeded {
            LimitExceeded(line: Int(mark.line) + 1, column: Int(mark.column) + 1, message: message)
        }
        func name(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            pointer.map { String(cString: UnsafePointer($0)) }
        }

        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
            defer { yaml_event_delete(&event) }
            let mark = event.start_mark
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return nil
            case YAML_SCALAR_EVENT:
                total += 1
                if let anchor = name(event.data.scalar.anchor) { anchors[anchor] = (1, 1) }
                add(nodes: 1, depth: 1)
            case YAML_ALIAS_EVENT:
                aliases += 1
                if aliases > limits.maxAliases {
                    return exceeded(mark, "more than \(limits.maxAliases) aliases (*name) in one file")
                }
                // An unknown alias is Yams' error to report.
                guard let anchor = name(event.data.alias.anchor), let target = anchors[anchor] else { continue }
                total += target.nodes
                if total > limits.maxNodes {
                    return exceeded(mark, "alias '*\(anchor)' expands the file past \(limits.maxNodes) nodes: aliases nested in aliases multiply (a YAML 'billion laughs'); write the values out or use fewer levels of aliases")
                }
                if stack.count + target.depth > limits.maxDepth {
                    return exceeded(mark, "alias '*\(anchor)' nests maps and lists deeper than \(limits.maxDepth) levels")
                }
                add(nodes: target.nodes, depth: target.depth)
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                total += 1
                if stack.count + 1 > limits.maxDepth {
                    return exceeded(mark, "maps and lists nested deeper than \(limits.maxDepth) levels")
                }
                let anchor = event.type == YAML_SEQUENCE_START_EVENT
                    ? name(event.data.sequence_start.anchor) : name(event.data.mapping_start.anchor)
                stack.append(Frame(anchor: anchor))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let frame = stack.popLast() else { continue }
                if let anchor = frame.anchor { anchors[anchor] = (frame.nodes, frame.depth) }
                add(nodes: frame.nodes, depth: frame.depth)
            default:
                continue
            }
            if total > limits.maxNodes {
                return exceeded(mark, "more than \(limits.maxNodes) nodes in one file")
            }
        }
    }
}
