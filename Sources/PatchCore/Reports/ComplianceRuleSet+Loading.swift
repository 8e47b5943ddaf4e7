import Foundation
import Yams

extension ComplianceRuleSet {
    static let topKeys = ["id", "name", "description", "stale_days", "rules"]
    static let ruleKeys = ["name", "reference", "updates", "min_severity", "kev", "within_days", "defined_by", "note"]
    /// Documented ranges, in days (docs/policies.md "Ranges of numbers").
    public static let staleDaysRange = 1...3650
    public static let withinDaysRange = 0...3650

    /// `reference` is a path when such a file exists, or it contains "/", or it ends in .yml or
    /// .yaml; otherwise a standard's id, looked up as ID.yml in each of `directories`, then among
    /// the built-in rule sets.
    public static func find(_ reference: String, directories: [String]) throws(PatchError) -> ComplianceRuleSet {
        var isDirectory: ObjCBool = false
        let isFile = FileManager.default.fileExists(atPath: reference, isDirectory: &isDirectory) && !isDirectory.boolValue
        if isFile || reference.contains("/") || reference.hasSuffix(".yml") || reference.hasSuffix(".yaml") {
            return try load(path: reference)
        }
        let id = reference.lowercased()
        for directory in directories {
            let path = (directory.hasSuffix("/") ? directory : directory + "/") + id + ".yml"
            if FileManager.default.fileExists(atPath: path) { return try load(path: path) }
        }
        guard let text = builtin[id] else {
            throw PatchError.ruleSet(file: reference, line: nil, column: nil,
                                     message: "no standard named '\(reference)': use \(builtin.keys.sorted().joined(separator: ", ")) or a rule set file")
        }
        return try parse(text, file: "built-in:\(id)", source: "built-in:\(id)")
    }

    /// Where standard ids are looked up before the built-in copies: each folder of
    /// `$PATCHCTL_COMPLIANCE_DIR` (':'-separated), ./compliance, /etc/patchctl/compliance.
    public static func searchDirectories(environment: [String: String], currentDirectory: String) -> [String] {
        let absolute = { (path: String) in path.hasPrefix("/") ? path : currentDirectory + "/" + path }
        var directories: [String] = []
        if let variable = environment["PATCHCTL_COMPLIANCE_DIR"] {
            directories += variable.split(separator: ":").map { absolute(String($0)) }
        }
        return directories + [absolute("compliance"), "/etc/patchctl/compliance"]
    }

    public static func load(path: String) throws(PatchError) -> ComplianceRuleSet {
        let yaml: String
        switch YAMLReader.text(atPath: path) {
        case let .success(text): yaml = text
        case let .failure(problem):
            throw PatchError.ruleSet(file: path, line: nil, column: nil, message: problem.message(for: "rule set"))
        }
        return try parse(yaml, file: path, source: path)
    }

    /// Every error is a `PatchError.ruleSet` with the file and, when one node is at fault, its line and column.
    public static func parse(_ yaml: String, file: String, source: String) throws(PatchError) -> ComplianceRuleSet {
        // The policy parser's value readers give the same messages; only the error's kind differs.
        let values = PolicyParser(file: file)
        do throws(PatchError) {
            let root: Node?
            do {
                root = try YAMLReader.compose(yaml)
            } catch {
                throw Policy.syntaxError(error, file: file, yaml: yaml)
            }
            guard let root, case .mapping = root else {
                throw PatchError.policy(file: file, line: root?.mark?.line ?? 1, column: root?.mark?.column ?? 1,
                                        message: "a rule set must be a map with id, name, description, stale_days and rules")
            }
            let fields = try values.fields(of: root, in: "the rule set", allowed: topKeys)
            let id = try values.nonEmptyString(try values.required(fields, "id", hint: "give a short id such as pci-dss"), label: "id")
            let name = try values.nonEmptyString(try values.required(fields, "name", hint: "give the standard's name"), label: "name")
            let description = try fields.value("description").map { node throws(PatchError) in try values.string(node, label: "description") } ?? ""
            var staleDays = 7
            if let node = fields.value("stale_days") {
                staleDays = try values.integer(node, label: "stale_days", in: Self.staleDaysRange)
            }
            let rulesNode = try values.required(fields, "rules", hint: "list at least one rule with updates and within_days")
            guard case let .sequence(sequence) = rulesNode, !sequence.isEmpty else {
                throw values.failure(at: rulesNode, "'rules' must be a non-empty list of rules")
            }
            var rules: [Rule] = []
            for (index, node) in sequence.enumerated() {
                rules.append(try rule(node, number: index + 1, values: values))
            }
            return ComplianceRuleSet(id: id, name: name, description: description.trimmingCharacters(in: .whitespacesAndNewlines),
                                     staleDays: staleDays, rules: rules, source: source)
        } catch {
            guard case let .policy(file, line, column, message) = error else { throw error }
            throw PatchError.ruleSet(file: file, line: line, column: column, message: message)
        }
    }

    private static func rule(_ node: Node, number: Int, values: PolicyParser) throws(PatchError) -> Rule {
        guard case .mapping = node else { throw values.failure(at: node, "rule \(number) must be a map (name, updates, within_days...)") }
        let fields = try values.fields(of: node, in: "rule \(number)", allowed: ruleKeys)
        let name = try values.nonEmptyString(try values.required(fields, "name", hint: "name the rule"), label: "name")
        let updates: UpdateSelection.Kind = try values.choice(
            try values.required(fields, "updates", hint: "security or all"), label: "updates", what: "update kind")
        var minSeverity: Severity?
        if let severityNode = fields.value("min_severity") {
            let text = try values.string(severityNode, label: "min_severity")
            guard let severity = Severity(text: text) else {
                throw values.failure(at: severityNode, "unknown severity '\(text)': expected none, low, medium, high or critical (moderate and important are read as medium and high)")
            }
            minSeverity = severity
        }
        let kev = try fields.value("kev").map { node throws(PatchError) in try values.bool(node, label: "kev") } ?? false
        let daysNode = try values.required(fields, "within_days", hint: "how many days an update may stay missing")
        let days = try values.integer(daysNode, label: "within_days", in: Self.withinDaysRange)
        let definedBy: DefinedBy = try fields.value("defined_by").map { node throws(PatchError) in
            try values.choice(node, label: "defined_by", what: "origin")
        } ?? .organisation
        let reference = try fields.value("reference").map { node throws(PatchError) in try values.string(node, label: "reference") }
        let note = try fields.value("note").map { node throws(PatchError) in
            try values.string(node, label: "note").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return Rule(name: name, reference: reference, updates: updates, minSeverity: minSeverity, kev: kev, withinDays: days,
                    definedBy: definedBy, note: note)
    }
}
