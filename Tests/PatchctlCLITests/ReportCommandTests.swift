import Foundation
import LabSupport
import Testing
import PatchCore

/// `patchctl report`, `exception` and `diff` as a sysadmin or auditor runs them, parsed and run
/// in-process on a history recorded through the store (see `ScannedHistory`): no binary, no lab.
@Suite("patchctl report/exception/diff CLI")
struct ReportCommandTests {
    typealias CLI = InProcessCLI

    static func isoDate(daysFromNow days: Double) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date().addingTimeInterval(days * 86_400))
    }

    @Test func complianceInEveryFormatWithTheSameNumbers() async throws {
        let s = try ScannedHistory.make()
        let common = ["--db", s.db, "-i", s.inventory]

        let table = await CLI.run(["report", "compliance"] + common)
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.hasPrefix("PCI DSS v4.0.1 compliance as of "))
        #expect(table.stdout.contains("down: never scanned successfully") && table.stdout.contains("spare: never scanned successfully"))
        #expect(table.stdout.contains("down: warning: last contact failed"))
        #expect(table.stdout.contains("4 hosts: 2 compliant (50.0%), 2 non-compliant; 0 stale, 2 never scanned, 1 unreachable"))
        #expect(table.stdout.contains("reproduce: patchctl report compliance --db "))

        let jsonRun = await CLI.run(["report", "compliance", "--format", "json"] + common)
        #expect(jsonRun.status == 0)
        JSONSchema.validate(jsonRun.stdout, schema: "compliance-report")
        let json = try CLI.json(jsonRun.stdout)
        let summary = try #require(json["summary"] as? [String: Any])
        #expect(summary["hosts"] as? Int == 4 && summary["compliant"] as? Int == 2 && summary["percent_compliant"] as? Double == 50.0)
        let evidence = try #require(json["evidence"] as? [String: Any])
        #expect((evidence["runs"] as? [String]).map(Set.init) == Set(s.runs) && evidence["database"] as? String == s.db)

        // The evidence's command prints the same bytes again.
        let command = try #require(evidence["command"] as? String)
        #expect(command.hasPrefix("patchctl report compliance "))
        let again = await CLI.run(Array(CLI.words(command).dropFirst()))
        #expect(again.status == 0 && again.stdout == jsonRun.stdout, "\(again.stderr)")

        // CSV: same hosts, same verdicts, same counts.
        let asOf = try #require(evidence["generated_at"] as? String)
        let csvRun = await CLI.run(["report", "compliance", "--format", "csv", "--as-of", asOf] + common)
        let rows = try CSV.parse(csvRun.stdout)
        let header = try #require(rows.first)
        #expect(header.prefix(5) == ["as_of", "host", "groups", "compliant", "host_reasons"] && header.contains("age_days") && header.contains("due_at"))
        let records = rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
        let hosts = try #require(json["hosts"] as? [[String: Any]])
        for host in hosts {
            let name = try #require(host["name"] as? String)
            let mine = records.filter { $0["host"] == name }
            let updates = try #require(host["updates"] as? [[String: Any]])
            #expect(mine.count == max(1, updates.count) && mine.allSatisfy { $0["compliant"] == String(host["compliant"] as? Bool ?? false) })
            #expect(Set(mine.compactMap { $0["package"] }.filter { !$0.isEmpty }) == Set(updates.compactMap { $0["package"] as? String }))
        }
        let missing = try #require(summary["missing"] as? [String: Any])
        #expect(records.filter { $0["security"] == "true" }.count == missing["security"] as? Int)
        #expect(records.allSatisfy { $0["as_of"] == asOf })

        // HTML to a file: the format comes from the extension; same --as-of, same bytes.
        let html = s.folder.appendingPathComponent("patch-report.html").path
        let written = await CLI.run(["report", "compliance", "-o", html, "--as-of", asOf] + common)
        #expect(written.status == 0 && written.stdout.isEmpty && written.stderr.contains("wrote \(html): 4 hosts: 2 compliant"))
        let first = try Data(contentsOf: URL(fileURLWithPath: html))
        _ = await CLI.run(["report", "compliance", "-o", html, "--as-of", asOf] + common)
        #expect(try Data(contentsOf: URL(fileURLWithPath: html)) == first)
        #expect(String(decoding: first, as: UTF8.self).hasPrefix("<!DOCTYPE html>"))

        // `report hosts --output json | jq '.[] | select(.compliant == false)'`
        let hostsRun = await CLI.run(["report", "hosts", "--output", "json"] + common)
        JSONSchema.validate(hostsRun.stdout, schema: "compliance-hosts")
        let array = try #require(try JSONSerialization.jsonObject(with: Data(hostsRun.stdout.utf8)) as? [[String: Any]])
        #expect(array.filter { $0["compliant"] as? Bool == false }.compactMap { $0["name"] as? String } == ["down", "spare"])
        let ndjson = await CLI.run(["report", "hosts", "--format", "ndjson"] + common)
        #expect(ndjson.stdout.split(separator: "\n").count == 4)
        JSONSchema.validate(ndjson.stdout, schema: "compliance-host-line", lines: true)
        let trendJSON = await CLI.run(["report", "trend", "--since", "2d", "--format", "json"] + common)
        #expect(trendJSON.status == 0, "\(trendJSON.stderr)")
        JSONSchema.validate(trendJSON.stdout, schema: "compliance-trend")

        let trend = await CLI.run(["report", "trend", "--since", "2d", "--format", "csv"] + common)
        #expect(trend.status == 0 && trend.stdout.hasPrefix("day,at,hosts,scanned,compliant,percent_compliant,overdue,missing_security\r\n"))
        #expect(trend.stdout.split(separator: "\r\n").count == 4, "header and three days")
    }

    @Test func exceptionsExcuseUntilTheyExpire() async throws {
        let s = try ScannedHistory.make()
        let common = ["--db", s.db, "-i", s.inventory, "--stale-days", "90", "--format", "json"]
        let add = await CLI.run(["exception", "add", "web1", "apt", "--until", "40d", "--reason", "vendor fix pending", "--owner", "ops", "--db", s.db])
        #expect(add.status == 0 && add.stdout.hasPrefix("exception #1: web1 may miss apt until "), "\(add.stderr)")
        let cve = await CLI.run(["exception", "add", "web*", "cve-2026-1234", "--until", "40d", "--reason", "not exploitable here", "--db", s.db, "--output", "json"])
        #expect(try CLI.json(cve.stdout)["target"] as? String == "CVE-2026-1234")

        func finding(_ report: [String: Any], host: String, package: String) throws -> [String: Any] {
            let hosts = try #require(report["hosts"] as? [[String: Any]])
            let updates = try #require(hosts.first { $0["name"] as? String == host }?["updates"] as? [[String: Any]])
            return try #require(updates.first { $0["package"] as? String == package })
        }
        // A month on, apt is past PCI's 30 days: excused on web1 while the exception lasts, not on web2.
        let duringRun = await CLI.run(["report", "compliance", "--as-of", Self.isoDate(daysFromNow: 31)] + common)
        JSONSchema.validate(duringRun.stdout, schema: "compliance-report")
        let during = try CLI.json(duringRun.stdout)
        #expect(try finding(during, host: "web1", package: "apt")["status"] as? String == "excepted")
        #expect(try finding(during, host: "web2", package: "apt")["status"] as? String == "overdue")
        let exceptions = try #require(during["exceptions"] as? [[String: Any]])
        #expect(exceptions.map { $0["state"] as? String } == ["active", "active"] && exceptions.last?["matches"] as? Int == 0)
        #expect((exceptions.last?["note"] as? String)?.contains("apt reports none") == true)
        // After it expired, web1's apt counts again and the reason names the exception.
        let afterRun = await CLI.run(["report", "compliance", "--as-of", Self.isoDate(daysFromNow: 45)] + common)
        JSONSchema.validate(afterRun.stdout, schema: "compliance-report")
        let after = try CLI.json(afterRun.stdout)
        #expect(try finding(after, host: "web1", package: "apt")["status"] as? String == "overdue")
        let web1 = try #require((after["hosts"] as? [[String: Any]])?.first { $0["name"] as? String == "web1" })
        #expect((web1["reasons"] as? [String])?.contains { $0.contains("exception #1 expired") } == true)

        let list = await CLI.run(["exception", "list", "--db", s.db])
        #expect(list.stdout.contains("#1  web1  apt            ops") && list.stdout.contains("active"), "\(list.stdout)")
        #expect(await CLI.run(["exception", "remove", "#1", "--db", s.db]).stdout == "removed exception #1 (web1 apt)\n")
        let again = await CLI.run(["exception", "remove", "1", "--db", s.db])
        #expect(again.status == 1 && again.stderr.contains("exception #1 was already removed"))
        let remaining = await CLI.run(["exception", "list", "--db", s.db, "--output", "json"])
        #expect((try JSONSerialization.jsonObject(with: Data(remaining.stdout.utf8)) as? [Any])?.count == 1)
        let all = await CLI.run(["exception", "list", "--all", "--db", s.db, "--output", "ndjson"])
        #expect(all.stdout.split(separator: "\n").count == 2)
        // Audited in the event trail.
        let events = await CLI.run(["history", "events", "--db", s.db])
        #expect(events.stdout.contains("exception-remove") && events.stdout.contains("vendor fix pending"))
    }

    /// Issue 13: `--until 2027-01-31` read back as `2027-02-01T00:00`. Flag → stored → table and
    /// JSON: the day given, through its end in local time; JSON holds that exact moment in UTC.
    @Test func untilABareDayRoundTripsAsThatDayInclusive() async throws {
        let s = try ScannedHistory.make()
        let add = await CLI.run(["exception", "add", "web1", "apt", "--until", "2099-01-31", "--reason", "vendor fix", "--db", s.db])
        #expect(add.status == 0 && add.stdout.contains(" until 2099-01-31 (inclusive) "), "\(add.stdout)\(add.stderr)")
        let table = await CLI.run(["exception", "list", "--db", s.db])
        #expect(table.stdout.contains("2099-01-31 (inclusive)") && !table.stdout.contains("2099-02-01"), "\(table.stdout)")

        // Independently of patchctl's parser: local midnight starting 1 February, less a millisecond.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .current
        let end = try #require(calendar.date(from: DateComponents(year: 2099, month: 2, day: 1))).addingTimeInterval(-0.001)
        let json = await CLI.run(["exception", "list", "--db", s.db, "--output", "json"])
        let until = try #require((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])?.first?["until"] as? String)
        #expect(until == Timestamp.format(end))

        // A time of day keeps its time, with the zone it was read in.
        let evening = await CLI.run(["exception", "add", "web2", "apt", "--until", "2099-01-31T18:00", "--reason", "x", "--db", s.db])
        #expect(evening.stdout.contains(" until 2099-01-31 18:00 "), "\(evening.stdout)")
    }

    @Test func diffSinceTheLastScan() async throws {
        let s = try ScannedHistory.make()
        let diff = await CLI.run(["diff", "--since", "last", "--db", s.db])
        #expect(diff.status == 0, "\(diff.stderr)")
        #expect(diff.stdout.contains("web1  unchanged") && diff.stdout.contains("down  unreachable"))
        #expect(diff.stdout.hasSuffix("3 hosts: 0 new findings (0 security), 0 gone, 0 new versions; 0 first scanned, 1 not scanned\n"))
        let json = try CLI.json(await CLI.run(["diff", "--db", s.db, "--output", "json"]).stdout)
        let base = try #require(json["base_run"] as? String)
        let byId = await CLI.run(["diff", "--since", String(base.prefix(20)), "--db", s.db, "--format", "csv"])
        #expect(byId.status == 0 && byId.stdout.hasPrefix("host,change,package,from_version,to_version,installed_version,security,source,base_run,target_run\r\n"))
        #expect(await CLI.run(["diff", "--db", s.db, "--format", "html"]).status == 64)
        let help = await CLI.run(["diff", "--help"])
        #expect(help.stdout.contains("table, json, ndjson, csv") && !help.stdout.contains("html"), "diff --help offers only what it prints: \(help.stdout)")
    }

    @Test func diffNarrowedByInventoryAndPattern() async throws {
        let s = try ScannedHistory.make()
        func hosts(_ arguments: [String]) async throws -> [String] {
            let result = await CLI.run(["diff", "--db", s.db, "--output", "json"] + arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            return (try CLI.json(result.stdout)["hosts"] as? [[String: Any]])?.compactMap { $0["host"] as? String ?? $0["name"] as? String } ?? []
        }
        #expect(try await hosts([]) == ["down", "web1", "web2"])
        // Without an inventory the pattern reads the hosts history knows; with one, its groups too.
        #expect(try await hosts(["-l", "web1"]) == ["web1"])
        #expect(try await hosts(["-i", s.inventory, "-l", "web"]) == ["web1", "web2"])
        #expect(try await hosts(["-i", s.inventory, "--limit", "all:!web2"]) == ["down", "web1"])
        let summary = try CLI.json(await CLI.run(["diff", "--db", s.db, "--output", "json", "-i", s.inventory, "-l", "db"]).stdout)["summary"] as? [String: Any]
        #expect(summary?["hosts"] as? Int == 1, "the summary counts the hosts shown: \(summary ?? [:])")
        #expect(await CLI.run(["diff", "--db", s.db, "-l", "nosuchhost"]).status == 65)
    }

    @Test func mistakesAndTheirExitCodes() async throws {
        let folder = try CLI.temporaryDirectory()
        let missing = folder.appendingPathComponent("none.db").path
        let noDb = await CLI.run(["report", "compliance", "--db", missing])
        #expect(noDb.status == 1 && noDb.stderr.contains("no history database here") && !FileManager.default.fileExists(atPath: missing))
        let s = try ScannedHistory.make()
        let rules = folder.appendingPathComponent("ours.yml").path
        try "id: ours\nname: Ours\nrules:\n  - {name: all, updates: every, within_days: 10}\n".write(toFile: rules, atomically: true, encoding: .utf8)
        let badRules = await CLI.run(["report", "compliance", "--db", s.db, "--standard", rules])
        #expect(badRules.status == 65 && badRules.stderr.contains("\(rules):4:"), "\(badRules.stderr)")
        let unknown = await CLI.run(["report", "compliance", "--db", s.db, "--standard", "iso-27001"])
        #expect(unknown.status == 65 && unknown.stderr.contains("no standard named 'iso-27001'"))
        #expect(await CLI.run(["report", "compliance", "--db", s.db, "--as-of", "yesterday"]).status == 64)
        #expect(await CLI.run(["report", "compliance", "--db", s.db, "-o", "report.txt"]).status == 64)
        #expect(await CLI.run(["report", "compliance", "--db", s.db, "--limit", "nosuchhost"]).status == 65)
        #expect(await CLI.run(["exception", "add", "web1", "not a package", "--until", "1d", "--reason", "x", "--db", s.db]).status == 64)
        #expect(await CLI.run(["exception", "add", "web1", "apt", "--until", "2020-01-01", "--reason", "x", "--db", s.db]).status == 1)
        #expect(await CLI.run(["exception", "remove", "7", "--db", s.db]).stderr.contains("no exception #7"))
        // A rule set of one's own, from a file: 10 days for every update.
        try "id: ours\nname: Ours\nstale_days: 3\nrules:\n  - {name: everything, updates: all, within_days: 10}\n".write(toFile: rules, atomically: true, encoding: .utf8)
        let ours = try CLI.json(await CLI.run(["report", "compliance", "--db", s.db, "--standard", rules, "--format", "json",
                                             "--as-of", Self.isoDate(daysFromNow: 2)]).stdout)
        let standard = try #require(ours["standard"] as? [String: Any])
        #expect(standard["source"] as? String == rules && standard["stale_days"] as? Int == 3)
        #expect((ours["summary"] as? [String: Any])?["compliant"] as? Int == 2)
    }
}

/// RFC 4180, as the report writes it.
enum CSV {
    struct Malformed: Error {}

    static func parse(_ text: String) throws -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var scalars = Array(text.unicodeScalars)[...]
        while let c = scalars.popFirst() {
            switch (quoted, c) {
            case (true, "\""):
                if scalars.first == "\"" { scalars.removeFirst(); field.unicodeScalars.append(c) } else { quoted = false }
            case (true, _): field.unicodeScalars.append(c)
            case (false, "\""): quoted = true
            case (false, ","): row.append(field); field = ""
            case (false, "\r"):
                guard scalars.popFirst() == "\n" else { throw Malformed() }
                row.append(field); rows.append(row); row = []; field = ""
            default: field.unicodeScalars.append(c)
            }
        }
        guard !quoted, row.isEmpty, field.isEmpty else { throw Malformed() }
        return rows
    }
}
