import Foundation
import Testing

/// Checks a JSON document patchctl printed against its schema in docs/schema/ (JSON Schema
/// draft 2020-12) with PyPI's `jsonschema` from the tests' virtualenv (scripts/test-venv.sh puts
/// it in .venv/): the documented contract is what the tests see. Each violation is a test issue.
/// Without the venv the check is skipped locally and fails under CI (CI=true), as for ansible.
public enum JSONSchema {
    public static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let python = repository + "/.venv/bin/python"
    static let folder = repository + "/docs/schema"

    /// Every file of docs/schema is registered under its name, so `common.json#/$defs/…` resolves.
    static let script = """
        import json, os, sys
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource
        folder, name, path, lines = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "lines"
        registry = Registry()
        for file in sorted(os.listdir(folder)):
            if file.endswith(".json"):
                with open(os.path.join(folder, file)) as handle:
                    schema = json.load(handle)
                Draft202012Validator.check_schema(schema)
                registry = registry.with_resource(file, Resource.from_contents(schema))
        with open(os.path.join(folder, name + ".json")) as handle:
            validator = Draft202012Validator(json.load(handle), registry=registry)
        with open(path) as handle:
            text = handle.read()
        documents = [json.loads(line) for line in text.splitlines() if line.strip()] if lines else [json.loads(text)]
        if not documents:
            print("no document to check")
        for number, document in enumerate(documents, 1):
            for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
                where = "/".join(map(str, error.absolute_path)) or "(root)"
                print(("line %d: " % number if lines else "") + where + ": " + error.message[:400])
        """

    public static var installed: Bool { FileManager.default.isExecutableFile(atPath: python) }

    /// `document` (one JSON document, or NDJSON lines with `lines`) against docs/schema/`schema`.json.
    public static func validate(_ document: String, schema: String, lines: Bool = false,
                                sourceLocation: SourceLocation = #_sourceLocation) {
        let errors: [String]
        do {
            errors = try check(document, schema: schema, lines: lines)
        } catch {
            Issue.record("\(schema).json: \(error)", sourceLocation: sourceLocation)
            return
        }
        if !errors.isEmpty {
            Issue.record(Comment(rawValue: "does not match docs/schema/\(schema).json:\n" + errors.prefix(20).joined(separator: "\n")), sourceLocation: sourceLocation)
        }
    }

    /// The validation errors, one line each; empty when the document matches. A missing venv is
    /// an error only under CI (else nothing is checked).
    public static func check(_ document: String, schema: String, lines: Bool = false) throws -> [String] {
        guard installed else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { throw Missing(message: "jsonschema is not installed in .venv: run scripts/test-venv.sh") }
            return []
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-schema-\(UUID().uuidString).json")
        try document.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script, folder, schema, file.path, lines ? "lines" : "one"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // The output is bounded by the 20 errors shown and the 400 characters each; read it all, then reap.
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else { throw Missing(message: "the schema check failed: \(text)") }
        return text.split(separator: "\n").map(String.init)
    }

    public struct Missing: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }
}
