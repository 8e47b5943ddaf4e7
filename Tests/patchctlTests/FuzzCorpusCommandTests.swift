import Foundation
import Testing

/// The inventory and policy fuzz corpus (Fuzz/corpus/{inventory,policy}, written by
/// scripts/fuzz-corpus.py plus hand-written cases): every file, through the real binary, ends in
/// exit 0 or 65 within 10 s, never a signal. Nothing is contacted: `scan --limit '!all'` loads
/// and checks the inventory, then selects no host; `approve` loads and checks the policy, then
/// records one approval in a scratch database.
@Suite("patchctl fuzz corpus CLI")
struct FuzzCorpusCommandTests {
    static let corpus = CLI.repository.appendingPathComponent("Fuzz/corpus")

    static func files(_ kind: String) throws -> [String] {
        let folder = corpus.appendingPathComponent(kind).path
        return try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yml") }.sorted()
            .map { folder + "/" + $0 }
    }

    /// Runs `command(file)` for every file, two at a time (the machine has two cores), and
    /// returns one line per file that broke the rule.
    /// Waited for on a thread of its own, so the half minute of runs does not hold one of Swift
    /// Testing's shared threads (see `CLI.runWaiting`).
    static func violations(_ files: [String], _ command: @escaping @Sendable (String) -> [String]) async -> [String] {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: blockingViolations(files, command)) }
        }
    }

    static func blockingViolations(_ files: [String], _ command: @escaping @Sendable (String) -> [String]) -> [String] {
        let lock = NSLock()
        nonisolated(unsafe) var found: [String] = []
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for file in files.enumerated().filter({ $0.offset % 2 == worker }).map(\.element) {
                let problem: String?
                do {
                    var run = try CLI.run(command(file), within: 10)
                    // A hang is reproducible; a machine busy with other suites is not: an overrun
                    // counts only when the file overruns a second time.
                    if run.timedOut { run = try CLI.run(command(file), within: 10) }
                    if run.timedOut {
                        problem = "still running after 10 s"
                    } else if let signal = run.signal {
                        problem = "killed by signal \(signal): \(run.result.stderr.suffix(300))"
                    } else if run.result.status != 0 && run.result.status != 65 {
                        problem = "exit \(run.result.status): \(run.result.stderr.prefix(300))"
                    } else if run.result.status == 65 && !run.result.stderr.hasPrefix("patchctl: \(file)") {
                        problem = "exit 65 without naming the file: \(run.result.stderr.prefix(300))"
                    } else {
                        problem = nil
                    }
                } catch {
                    problem = "could not run: \(error)"
                }
                if let problem {
                    lock.lock()
                    found.append("\((file as NSString).lastPathComponent): \(problem)")
                    lock.unlock()
                }
            }
        }
        return found.sorted()
    }

    @Test func everyInventoryEndsInExitZeroOr65() async throws {
        let files = try Self.files("inventory")
        #expect(files.count >= 100, "the corpus went missing: run scripts/fuzz-corpus.py")
        let db = try CLI.temporaryDirectory().appendingPathComponent("h.db").path
        let problems = await Self.violations(files) { ["scan", "-i", $0, "--limit", "!all", "--db", db] }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test func everyPolicyEndsInExitZeroOr65() async throws {
        let files = try Self.files("policy")
        #expect(files.count >= 100, "the corpus went missing: run scripts/fuzz-corpus.py")
        // One database per file: the runs overlap, and each valid policy records one approval.
        let folder = try CLI.temporaryDirectory()
        let problems = await Self.violations(files) { file in
            ["approve", "--policy", file, "fuzz-pkg@1", "--force", "--db", folder.appendingPathComponent(UUID().uuidString + ".db").path]
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test func theCorpusHoldsEveryCategory() throws {
        // What the issue asks the corpus to cover; a regenerated corpus must keep it.
        let names = try Self.files("inventory").map { ($0 as NSString).lastPathComponent }
            + Self.files("policy").map { ($0 as NSString).lastPathComponent }
        for category in ["truncated", "deep", "alias", "type", "number", "unicode", "bytes-nul", "bytes-bom", "bytes-long-line", "hand-"] {
            #expect(names.contains { $0.contains(category) }, "no \(category) case in Fuzz/corpus")
        }
    }
}
