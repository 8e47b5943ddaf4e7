import Foundation
import Yams

extension Policy {
    /// Reads a policy file. Every failure is a `PatchError.policy` naming the file and, when one
    /// node is at fault, its 1-based line and column.
    public static func load(path: String) throws(PatchError) -> Policy {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw PatchError.policy(file: path, line: nil, column: nil, message: "policy file not found")
        }
        guard !isDirectory.boolValue else {
            throw PatchError.policy(file: path, line: nil, column: nil, message: "is a folder; expected a YAML policy file")
        }
        let yaml: String
        switch YAMLReader.text(atPath: path) {
        case let .success(text): yaml = text
        case let .failure(problem):
            throw PatchError.policy(file: path, line: nil, column: nil, message: problem.message(for: "policy"))
        }
        var policy = try parse(yaml, file: path)
        policy.file = path
        return policy
    }

    /// Parses policy text. `file` names it in error messages only: the result's `file` is ""
    /// (`load(path:)` sets it).
    public static func parse(_ yaml: String, file: String) throws(PatchError) -> Policy {
        let root: Node?
        do {
            root = try YAMLReader.compose(yaml)
        } catch {
            throw syntaxError(error, file: file, yaml: yaml)
        }
        return try PolicyParser(file: file).parse(root: root)
    }

    /// `reference` is a path when such a file exists, or it contains "/", or it ends in .yml or
    /// .yaml; otherwise it is a policy name, looked up as NAME.yml then NAME.yaml in each of
    /// `directories` in order.
    public static func find(_ reference: String, directories: [String]) throws(PatchError) -> Policy {
        var isDirectory: ObjCBool = false
        let isFile = FileManager.default.fileExists(atPath: reference, isDirectory: &isDirectory) && !isDirectory.boolValue
        if isFile || reference.contains("/") || reference.hasSuffix(".yml") || reference.hasSuffix(".yaml") {
            return try load(path: reference)
        }
        guard PolicyParser.isPlainName(reference) else {
            throw PatchError.policy(file: reference, line: nil, column: nil,
                                    message: "not a policy name (letters, digits, '.', '_' and '-') nor an existing file")
        }
        var candidates: [String] = []
        for directory in directories {
            for fileName in ["\(reference).yml", "\(reference).yaml"] {
                let path = directory.hasSuffix("/") ? directory + fileName : directory + "/" + fileName
                if FileManager.default.fileExists(atPath: path) { return try load(path: path) }
                candidates.append(path)
            }
        }
        let looked = candidates.isEmpty ? "no policy directory to search" : "looked for \(candidates.joined(separator: ", "))"
        throw PatchError.policy(file: reference, line: nil, column: nil, message: "no policy named '\(reference)': \(looked)")
    }

    /// Where bare policy names are looked up: each folder of `$PATCHCTL_POLICY_DIR` (if set;
    /// several may be separated by ':'), then ./policies, then /etc/patchctl/policies.
    public static func searchDirectories(environment: [String: String], currentDirectory: String) -> [String] {
        let absolute = { (path: String) in path.hasPrefix("/") ? path : currentDirectory + "/" + path }
        var directories: [String] = []
        if let variable = environment["PATCHCTL_POLICY_DIR"] {
            directories += variable.split(separator: ":").map { absolute(String($0)) }
        }
        directories += [absolute("policies"), "/etc/patchctl/policies"]
        return directories
    }

    // MARK: Yams errors

    /// Maps Yams' errors to one PatchError with the position libyaml reported, as the inventory
    /// loader does.
    static func syntaxError(_ error: any Error, file: String, yaml: String) -> PatchError {
        if let limit = error as? YAMLReader.LimitExceeded {
            return .policy(file: file, line: limit.line, column: limit.column, message: limit.message)
        }
        guard let yamlError = error as? YamlError else {
            return .policy(file: file, line: nil, column: nil, message: "invalid YAML: \(error)")
        }
        switch yamlError {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            if problem == "but found another document" {
                return .policy(file: file, line: mark.line, column: mark.column,
                               message: "a policy is a single YAML document; remove this second '---' document")
            }
            var message = "invalid YAML: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))" }
            if Inventory.lineStartsWithTab(mark.line, in: yaml) { message += "; YAML indentation must use spaces, not tabs" }
            return .policy(file: file, line: mark.line, column: mark.column, message: message)
        case let .reader(problem, offset, _, _):
            let location = offset.map { Inventory.position(ofCharacterOffset: $0, in: yaml) }
            return .policy(file: file, line: location?.line, column: location?.column, message: "invalid YAML: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            // Yams points at the first occurrence; the second is the line to delete or rename.
            let key = duplicates.first ?? "?"
            let first = context.mark
            if let second = Inventory.secondOccurrence(of: key, after: first, in: yaml) {
                return .policy(file: file, line: second.line, column: second.column,
                               message: "duplicate key '\(key)': already at line \(first.line), column \(first.column) of the same map")
            }
            return .policy(file: file, line: first.line, column: first.column,
                           message: "duplicate key '\(key)' in this map: each key may appear only once")
        default:
            return .policy(file: file, line: nil, column: nil, message: "invalid YAML: \(yamlError)")
        }
    }
}

extension Policy {
    /// Every `install:` item of every readable policy in `directories` (`NAME` and `NAME@VERSION`):
    /// what `package prune` must never remove. Unreadable policies are skipped (prune lists them).
    public static func installReferences(directories: [String]) -> Set<String> {
        var references = Set<String>()
        for directory in directories {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where file.hasSuffix(".yml") || file.hasSuffix(".yaml") {
                guard let policy = try? Policy.load(path: directory + "/" + file) else { continue }
                for item in policy.install { references.insert(item.reference) }
            }
        }
        return references
    }
}
