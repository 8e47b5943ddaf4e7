import Foundation
import Yams

/// Reads every `-i` source into one `InventoryParser`, as Ansible's inventory manager does:
/// files by format, folders entry by entry, executables as dynamic inventories; then the
/// `group_vars/` and `host_vars/` folders beside each source. Resolution happens once, at the end.
struct InventorySources {
    var parser: InventoryParser
    /// Folders whose group_vars/ and host_vars/ apply: a folder source itself, a file's folder.
    private var varsFolders: [String] = []
    private var filesRead = 0

    init(parser: InventoryParser) {
        self.parser = parser
    }

    /// Ansible's INVENTORY_IGNORE_EXTS (REJECT_EXTS plus .orig, .cfg, .retry) and the names it
    /// always skips in an inventory folder.
    static let ignoredSuffixes = [".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry"]
    static let ignoredNames: Set<String> = ["host_vars", "group_vars", "vars_plugins"]
    /// Ansible's YAML_FILENAME_EXTENSIONS, tried after the bare name for vars files.
    static let varsExtensions = ["", ".yml", ".yaml", ".json"]
    /// Folders nested deeper, or more files, are refused (a symlink loop, a wrong folder).
    static let maximumDepth = 16
    static let maximumFiles = 10_000

    static func ignored(_ name: String) -> Bool {
        name.hasPrefix(".") || ignoredNames.contains(name) || ignoredSuffixes.contains { name.hasSuffix($0) }
    }

    private static func folder(of path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent().path
    }

    private static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    mutating func add(_ path: String) throws(PatchError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            if path.contains(",") {
                try addHostList(path)
                return
            }
            throw PatchError.inventory(file: path, line: nil, column: nil, message: "inventory file not found")
        }
        let folder = isDirectory.boolValue ? Self.absolute(path) : Self.folder(of: path)
        if !varsFolders.contains(folder) { varsFolders.append(folder) }
        if isDirectory.boolValue {
            try addFolder(path, depth: 0)
        } else {
            try addFile(path)
        }
    }

    /// Ansible's `-i 'web1,db1:2222,'`: a comma-separated list of hosts (ungrouped), when no
    /// file has that name. No group_vars apply (there is no folder).
    private mutating func addHostList(_ list: String) throws(PatchError) {
        parser.file = list
        let mark = YAMLNodes.mark(line: 1, column: 1)
        let hosts = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let entries = hosts.map { (YAMLNodes.string($0, at: mark), YAMLNodes.null(at: mark)) }
        let group = YAMLNodes.map([(YAMLNodes.string("hosts", at: mark), YAMLNodes.map(entries, at: mark))], at: mark)
        try parser.add(root: YAMLNodes.map([(YAMLNodes.string("ungrouped", at: mark), group)], at: mark))
    }

    /// Every entry in name order, skipping what Ansible skips; sub-folders recursively.
    private mutating func addFolder(_ path: String, depth: Int) throws(PatchError) {
        guard depth < Self.maximumDepth else {
            throw PatchError.inventory(file: path, line: nil, column: nil, message: "inventory folders nested deeper than \(Self.maximumDepth) levels (a symbolic link loop?)")
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path).sorted { Array($0.unicodeScalars.map(\.value)).lexicographicallyPrecedes($1.unicodeScalars.map(\.value)) }
        } catch {
            throw PatchError.inventory(file: path, line: nil, column: nil, message: "cannot read the inventory folder")
        }
        for name in names where !Self.ignored(name) {
            let entry = path.hasSuffix("/") ? path + name : path + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: entry, isDirectory: &isDirectory) else { continue }  // dangling link
            if isDirectory.boolValue {
                try addFolder(entry, depth: depth + 1)
            } else {
                try addFile(entry)
            }
        }
    }

    private mutating func addFile(_ path: String) throws(PatchError) {
        filesRead += 1
        guard filesRead <= Self.maximumFiles else {
            throw PatchError.inventory(file: path, line: nil, column: nil, message: "more than \(Self.maximumFiles) inventory files")
        }
        let folder = Self.folder(of: path)
        if Self.isScript(path) {
            try addScript(path, folder: folder)
            return
        }
        let text: String
        switch YAMLReader.text(atPath: path) {
        case let .success(read): text = read
        case let .failure(problem):
            throw PatchError.inventory(file: path, line: nil, column: nil, message: problem.message(for: "inventory"))
        }
        try addText(text, file: path, folder: folder)
    }

    /// Executable with a `#!` line: a dynamic inventory. An executable bit alone (files copied from
    /// Windows shares) does not make a YAML file a program, as in Ansible.
    static func isScript(_ path: String) -> Bool {
        guard access(path, X_OK) == 0, let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 2)) == Data("#!".utf8)
    }

    /// Picks the format: `.ini` is INI; otherwise a YAML (or JSON) map is a YAML inventory, or a
    /// dynamic-inventory document when shaped like one; anything else that reads as INI is INI.
    mutating func addText(_ text: String, file: String, folder: String) throws(PatchError) {
        parser.file = file
        parser.context.baseDirectory = folder
        let suffix = URL(fileURLWithPath: file).pathExtension.lowercased()
        if suffix == "ini" {
            try addINI(text, file: file)
            return
        }
        let yamlSuffix = ["yml", "yaml", "json"].contains(suffix)
        let root: Node?
        do {
            root = try YAMLReader.compose(text)
        } catch {
            if error is YAMLReader.LimitExceeded { throw Inventory.syntaxError(error, file: file, yaml: text) }
            try addINI(text, file: file, orReport: yamlSuffix && !Inventory.looksLikeINI(text) ? Inventory.syntaxError(error, file: file, yaml: text) : nil)
            return
        }
        if let root, case .mapping = root {
            if ScriptInventory.isScriptFormat(root) {
                try addTree(ScriptInventory.tree(from: root, hostVars: nil), file: file)
            } else {
                try parser.add(root: root)
            }
            return
        }
        guard let root, !YAMLNodes.isNull(root) || !yamlSuffix else {
            try parser.add(root: root)  // reports the empty file
            return
        }
        // As Ansible: what the YAML reader cannot use is tried as INI. For a .yml file that does
        // not look like INI either, the YAML reader's complaint is the clearer one.
        var yamlProblem: PatchError?
        if yamlSuffix && !Inventory.looksLikeINI(text) {
            var probe = parser
            do {
                try probe.add(root: root)
            } catch {
                yamlProblem = error
            }
        }
        try addINI(text, file: file, orReport: yamlProblem)
    }

    /// Reads `text` as INI; when that fails and `otherProblem` is given, that error is thrown instead.
    private mutating func addINI(_ text: String, file: String, orReport otherProblem: PatchError? = nil) throws(PatchError) {
        do {
            try parser.add(root: try INIInventoryReader(file: file).read(text))
        } catch let failure as INIInventoryReader.Failure {
            throw otherProblem ?? PatchError.inventory(file: file, line: failure.line, column: failure.column, message: failure.message)
        } catch let error as PatchError {
            throw otherProblem ?? error
        } catch {
            throw otherProblem ?? PatchError.inventory(file: file, line: nil, column: nil, message: "\(error)")
        }
    }

    private mutating func addTree(_ tree: Result<Node, ScriptInventory.Failure>, file: String) throws(PatchError) {
        switch tree {
        case let .success(root): try parser.add(root: root)
        case let .failure(failure):
            throw PatchError.inventory(file: file, line: failure.line, column: failure.column, message: failure.message)
        }
    }

    /// Runs the script with `--list` (and `--host NAME` per host when its answer has no `_meta`).
    /// Positions in errors are in the script's output, named "<script> --list".
    private mutating func addScript(_ path: String, folder: String) throws(PatchError) {
        let listing = path + " --list"
        let output = try ScriptInventory.run(path, arguments: ["--list"])
        let root = try Self.composeJSON(output, file: listing)
        guard let root else {
            throw PatchError.inventory(file: listing, line: nil, column: nil, message: "the script printed nothing: it must print a JSON object of groups")
        }
        let tree = try ScriptInventory.tree(from: root) { (host: String) throws(PatchError) -> Node? in
            let label = "\(path) --host \(host)"
            let vars = try Self.composeJSON(try ScriptInventory.run(path, arguments: ["--host", host]), file: label)
            guard let vars, !YAMLNodes.isNull(vars) else { return nil }
            guard case .mapping = vars else {
                throw PatchError.inventory(file: label, line: vars.mark?.line, column: vars.mark?.column,
                                           message: "expected a JSON object of variables, found \(YAMLNodes.kind(of: vars))")
            }
            return vars
        }
        parser.file = listing
        parser.context.baseDirectory = folder
        try addTree(tree, file: listing)
    }

    private static func composeJSON(_ text: String, file: String) throws(PatchError) -> Node? {
        do {
            return try YAMLReader.compose(text)
        } catch {
            throw Inventory.syntaxError(error, file: file, yaml: text)
        }
    }

    // MARK: group_vars and host_vars

    /// Loads the vars files of every group and host the sources defined, then resolves.
    mutating func finish(top: String) throws(PatchError) -> Inventory {
        try loadVarsFiles()
        return try parser.finish(top: parser.firstSource ?? InventoryParser.Place(file: top, mark: nil))
    }

    /// Ansible's host_group_vars plugin: for each folder, `group_vars/NAME` for every group
    /// (`ungrouped` and `all` included) and `host_vars/NAME` for every host. NAME is the first of
    /// NAME, NAME.yml, NAME.yaml, NAME.json that exists; a folder NAME/ holds several files,
    /// read in name order (recursively, skipping hidden files and backups ending in `~`).
    private mutating func loadVarsFiles() throws(PatchError) {
        var groupNames = parser.groupOrder
        if !groupNames.contains("ungrouped") { groupNames.append("ungrouped") }
        for folder in varsFolders {
            var groupLayers: [String: InventoryParser.Layer] = [:]
            var hostLayers: [String: InventoryParser.Layer] = [:]
            if let directory = try Self.varsDirectory(folder + "/group_vars") {
                for name in groupNames where !name.hasPrefix("/") {
                    if let layer = try loadVars(in: directory, name: name, owner: "group_vars of group '\(name)'", folder: folder) {
                        groupLayers[name] = layer
                    }
                }
            }
            if let directory = try Self.varsDirectory(folder + "/host_vars") {
                for name in parser.hostOrder where !name.hasPrefix("/") {
                    if let layer = try loadVars(in: directory, name: name, owner: "host_vars of host '\(name)'", folder: folder) {
                        hostLayers[name] = layer
                    }
                }
            }
            parser.groupVarsFiles.append(groupLayers)
            parser.hostVarsFiles.append(hostLayers)
        }
    }

    /// The folder, nil when missing; a file by that name is an error (Ansible skips it with a warning).
    private static func varsDirectory(_ path: String) throws(PatchError) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        guard isDirectory.boolValue else {
            throw PatchError.inventory(file: path, line: nil, column: nil, message: "is a file; group_vars and host_vars must be folders of YAML files")
        }
        return path
    }

    private mutating func loadVars(in directory: String, name: String, owner: String, folder: String) throws(PatchError) -> InventoryParser.Layer? {
        var files: [String] = []
        for suffix in Self.varsExtensions {
            let candidate = directory + "/" + name + suffix
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory) else { continue }
            files = isDirectory.boolValue ? try Self.varsFiles(in: candidate, depth: 0) : [candidate]
            break
        }
        guard !files.isEmpty else { return nil }
        var merged = InventoryParser.Layer()
        for file in files {
            let text: String
            switch YAMLReader.text(atPath: file) {
            case let .success(read): text = read
            case let .failure(problem):
                throw PatchError.inventory(file: file, line: nil, column: nil, message: problem.message(for: "variables"))
            }
            if text.hasPrefix("$ANSIBLE_VAULT;") {
                throw PatchError.inventory(file: file, line: 1, column: 1, message: "is an Ansible Vault file, which patchctl cannot decrypt: use password_env/password_command for secrets")
            }
            let root: Node?
            do {
                root = try YAMLReader.compose(text)
            } catch {
                throw Inventory.syntaxError(error, file: file, yaml: text)
            }
            guard let root, !YAMLNodes.isNull(root) else { continue }
            parser.file = file
            parser.context.baseDirectory = folder
            merged.merge(try parser.parseVariables(root, owner: owner, forGroup: nil))
        }
        return merged
    }

    /// Ansible's `_get_dir_vars_files`: name order, no hidden files or `~` backups, files with no
    /// extension or a YAML one, sub-folders without an extension recursively.
    private static func varsFiles(in directory: String, depth: Int) throws(PatchError) -> [String] {
        guard depth < maximumDepth else {
            throw PatchError.inventory(file: directory, line: nil, column: nil, message: "vars folders nested deeper than \(maximumDepth) levels")
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted { Array($0.unicodeScalars.map(\.value)).lexicographicallyPrecedes($1.unicodeScalars.map(\.value)) }
        } catch {
            throw PatchError.inventory(file: directory, line: nil, column: nil, message: "cannot read the vars folder")
        }
        var found: [String] = []
        for name in names where !name.hasPrefix(".") && !name.hasSuffix("~") {
            let path = directory + "/" + name
            let suffix = URL(fileURLWithPath: name).pathExtension
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                if suffix.isEmpty { found += try varsFiles(in: path, depth: depth + 1) }
            } else if suffix.isEmpty || varsExtensions.contains("." + suffix) {
                found.append(path)
            }
        }
        return found
    }
}
