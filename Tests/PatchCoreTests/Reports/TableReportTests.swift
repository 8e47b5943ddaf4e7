import Foundation
import Testing
@testable import PatchCore

/// Issue 14 #6: every text renderer, fed what hostile endpoints said (replayed from history, as
/// every later report is), prints control characters visibly: no byte below 0x20 but the table's
/// own newlines, no DEL, no C1, no bidi control.
@Suite("Text reports neutralise control characters")
struct TableReportTests {
    typealias G = GeneratedHistory
    typealias H = GeneratedHistory.Hostile

    static func expectInert(_ text: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!text.utf8.contains(0x1B), "\(what): ESC byte", sourceLocation: sourceLocation)
        #expect(!text.utf8.contains(0x7F), "\(what): DEL byte", sourceLocation: sourceLocation)
        #expect(H.offending(text).isEmpty, "\(what): \(H.offending(text))", sourceLocation: sourceLocation)
    }

    @Test func scanTableWithDetails() throws {
        let runs = try G.hostile()
        let text = TableReport.scan(try runs.history.store.run(id: runs.secondScan), details: true)
        Self.expectInert(text, "scan --details")
        #expect(text.contains("web\\u202e1  ok      Debian\\x1b[8m 12\\u009b31m"), "\(text)")
        #expect(text.contains("pkg\\x1b]0;pwned\\x07\\x1b[2J  1.0\\x1b[8m\\r2.0  1.1\\x7f\\x08"))
        #expect(text.contains("repo\\x1b]52;c;Y3VybCBldmlsfHNo\\x07\\u202e"))
        #expect(text.contains("db1: error: remote said \\x1b]0;pwned\\x07\\nweb1: ok\n"))
        // The forged row stays inside its cell: no line starts with what followed the newline.
        #expect(text.contains("fake\\nweb9  ok\\tx") && !text.split(separator: "\n").contains { $0.hasPrefix("web9") })
        #expect(text.contains("2\\u0085\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\t\\x0b\\x0c\\r\\x0e"), "every C0 and C1 in one value")
        #expect(text.contains("\\x1e\\x1f\\x7f\\u0080\\u0081") && text.contains("\\u009e\\u009f"))
        // Rows: header + 2 hosts, blank, host header, packages header + 4 packages, blank, failure, blank, summary.
        #expect(text.split(separator: "\n", omittingEmptySubsequences: false).count == 15, "\(text)")
    }

    @Test func execOutputKeepsItsLinesAndShowsTheRest() throws {
        let runs = try G.hostile()
        let text = TableReport.exec(try runs.history.store.execRun(id: runs.exec))
        Self.expectInert(text, "exec")
        // LF and CRLF end lines; a lone CR does not.
        #expect(text.hasPrefix("""
            db1 | unreachable | 0ms | connect: \\x1b]0;pwned\\x07
            web\\u202e1 | ok | rc=0 | 5ms
                up \\x1b[2J3 days
                load\\x1b]52;c;Y3VybCBldmlsfHNo\\x07
                warn\\u009b31m
                last\\rover


            """), "\(text)")
    }

    @Test func deployTablesPlansAndRings() throws {
        let runs = try G.hostile()
        let run = try runs.history.store.deployRunReport(id: runs.deploy)
        for details in [false, true] {
            let text = TableReport.deploy(run, details: details)
            Self.expectInert(text, "deploy details=\(details)")
            #expect(text.contains("web\\u202e1  canary\\x1b[2J  failed"), "\(text)")
            #expect(text.contains("  failed: dpkg said \\x1b]0;pwned\\x07\n"))
            #expect(text.contains("  deferred: users \\x1b[8m logged in\n") && text.contains("  repair with: dpkg --configure -a \\x1b[2J\n"))
            #expect(text.contains("(now 0\\u009b31m): E: \\x1b]52;c;Y3VybCBldmlsfHNo\\x07"))
            #expect(text.contains("rings: canary\\x1b[2J ran (1 host, 1 failed); prod waiting (0 hosts)\n"))
            #expect(text.contains("note: note \\x1b]0;pwned\\x07\n"))
            if details {
                #expect(text.contains("  command apt-get install \\x1b]0;pwned\\x07\n") && text.contains("  ok      fake\\nweb9  ok\\tx 1\\u2066 -> 2\\u0085"))
            } else {
                #expect(text.contains("  waits   fake\\nweb9  ok\\tx 2\\u0085"))
            }
        }
        var plan = run
        plan.dryRun = true
        plan.policy = "weekly\(H.title)"
        let text = TableReport.deploy(plan, details: false)
        Self.expectInert(text, "deploy plan")
        #expect(text.hasPrefix("PLAN for policy weekly\\x1b]0;pwned\\x07 (dry run: nothing is changed)\n"))
    }

    @Test func listsOfRunsApprovalsEventsExceptionsAndPackages() async throws {
        let runs = try G.hostile()
        let store = runs.history.store
        let history = TableReport.history(try store.runs())
        Self.expectInert(history, "history list")
        #expect(history.contains("policy weekly\\x1b]0;pwned\\x07 by op\\x1b[8m") && history.contains("inv\\x1b]0;pwned\\x07.yml"))

        let approvals = TableReport.approvals(try store.approvals(policy: nil, all: true))
        Self.expectInert(approvals, "approvals list")
        #expect(approvals.contains("pkg\\x1b]0;pwned\\x07\\x1b[2J@1.1\\x7f\\x08") && approvals.contains("me\\u009b31m: no\\x1b]52;c;"))

        let events = TableReport.events(try store.events())
        Self.expectInert(events, "history events")
        #expect(events.contains("me\\u009b31m"))

        let exceptions = TableReport.exceptionList(try store.exceptions(), at: G.day(2))
        Self.expectInert(exceptions, "exception list")
        #expect(exceptions.contains("#1  web\\u202e*  pkg\\x1b]0;pwned\\x07  ops\\x1b[8m") && exceptions.contains("vendor\\x1b]52;c;Y3VybCBldmlsfHNo\\x07\\nfix"))
        #expect(exceptions.split(separator: "\n").count == 2)

        let repository = PackageRepository(store: store)
        _ = try await repository.add(.init(path: nil, name: "hello", version: "1.0", architecture: "amd64\(H.title)", format: .apt),
                               by: "op\(H.conceal)", at: G.day(4))
        let packages = TableReport.packages(try repository.list())
        Self.expectInert(packages, "package list")
        #expect(packages.contains("amd64\\x1b]0;pwned\\x07") && packages.contains("op\\x1b[8m 2026-01-05"))
    }

    @Test func diffAndComplianceReports() throws {
        let runs = try G.hostile()
        let diff = TableReport.diff(try FindingsDiff.build(store: runs.history.store, since: "last"))
        Self.expectInert(diff, "diff")
        #expect(diff.contains("\nweb\\u202e1:\n  + =cmd|'/c calc'!A1 -2+3 [security]\n  + fake\\nweb9  ok\\tx 2\\u0085"), "\(diff)")
        #expect(diff.contains("\n  + pkg\\x1b]0;pwned\\x07\\x1b[2J 1.1\\x7f\\x08 [security]\n"))
        #expect(diff.contains("\ndb1:\n  error: remote said \\x1b]0;pwned\\x07\\nweb1: ok\n"))

        let report = try ComplianceReport.build(runs.history.request(asOf: G.day(4), inventory: runs.inventory))
        for kind in [ComplianceRequest.Kind.compliance, .hosts, .trend] {
            let text = try report.rendered(kind, as: .table)
            Self.expectInert(text, "report \(kind) table")
        }
        let text = try report.rendered(.compliance, as: .table)
        #expect(text.contains("web\\u202e1") && text.contains("Debian\\x1b[8m 12\\u009b31m") && text.contains("weekly\\x1b]0;pwned\\x07"), "\(text)")
        #expect(text.contains("vendor\\x1b]52;c;Y3VybCBldmlsfHNo\\x07\\nfix"))
        // HTML shows them the same way (and entity-escapes markup, as before).
        let html = try report.rendered(.compliance, as: .html)
        Self.expectInert(html.replacingOccurrences(of: "\t", with: " "), "report html")
        #expect(html.contains("pkg\\x1b]0;pwned\\x07\\x1b[2J") && html.contains("web\\u202e1"))
    }

    @Test func historyKeepsTheOriginalBytesAndJSONEscapesThem() throws {
        let runs = try G.hostile()
        let run = try runs.history.store.run(id: runs.secondScan)
        let names = Set(run.hosts.flatMap(\.updates).map(\.name))
        #expect(names.contains(H.package.name) && names.contains(H.forged.name))
        let json = try JSONOutput.encode(run, pretty: false)
        #expect(json.contains(#""name":"pkg\u001b]0;pwned\u0007\u001b[2J""#), "JSON: escaped by the encoder, unchanged by neutralisation")
    }
}
