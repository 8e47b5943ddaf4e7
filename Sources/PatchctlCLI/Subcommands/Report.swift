import ArgumentParser
import Foundation
import PatchCore

extension Patchctl {
    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compliance reports from history: per host, per group and policy, over time.",
            discussion: """
                Nothing is contacted: reports read the history database. --format (alias --output) picks table, json, ndjson, \
                csv or html; -o FILE writes there instead of stdout (and picks the format from the file's extension when \
                --format is not given). --as-of DATE reports history as it stood then; the same database and arguments \
                with --as-of give the same bytes.
                """,
            subcommands: [Compliance.self, Hosts.self, Trend.self, CVEs.self],
            defaultSubcommand: Compliance.self)
    }
}

/// What the compliance, hosts and trend reports take.
struct ReportOptions: ParsableArguments {
    @OptionGroup var database: DatabaseOption

    @OptionGroup var controllers: ControllerFilter

    @OptionGroup var output: ReportOutputOptions

    @Option(help: ArgumentHelp("pci-dss, hipaa, sox, or a rule set file (see compliance/).", valueName: "standard"))
    var standard: String = ComplianceRequest.defaultStandard

    @Option(help: ArgumentHelp("Only this deploy policy's targets and deployments (name or file).", valueName: "policy"))
    var policy: String?

    @Option(name: [.short, .long], help: ArgumentHelp("Inventory: its groups, and its hosts never scanned (default PATCHCTL_INVENTORY; without one, every host in history).", valueName: "file"))
    var inventory: String?

    @Option(help: ArgumentHelp("Host pattern, as for scan.", valueName: "pattern"))
    var limit: String?

    @Option(help: ArgumentHelp("Report history as of this moment (2026-11-30 means its last second, UTC; or 2026-11-30T12:00:00Z). Default: now.", valueName: "date"))
    var asOf: String?

    @Option(help: ArgumentHelp("Start of the trend and time-to-patch period: a duration back from --as-of (90d, 12w) or a date.", valueName: "since"))
    var since: String = ComplianceRequest.defaultSince

    @Option(help: ArgumentHelp("A host without a successful scan for this many days is stale, hence non-compliant (default: the rule set's).", valueName: "days"))
    var staleDays: Int?

    func validate() throws {
        if let asOf, ReportDate.parseMoment(asOf) == nil {
            throw ValidationError("--as-of '\(asOf)' is not a date (2026-11-30) or a time (2026-11-30T12:00:00Z)")
        }
        if let staleDays { try ConnectionFlags.check(staleDays, in: ComplianceRuleSet.staleDaysRange, flag: "--stale-days") }
    }

    var resolvedFormat: ReportFormat { output.resolvedFormat }

    func request(_ kind: ComplianceRequest.Kind, environment: [String: String]) -> ComplianceRequest {
        ComplianceRequest(
            kind: kind, database: database.path(environment: environment), standard: standard, policy: policy,
            inventory: inventory ?? InventoryOptions.single(environment: environment), limit: limit,
            asOf: asOf.flatMap(ReportDate.parseMoment) ?? ReportDate.now(), since: since, staleDays: staleDays,
            controller: controllers.controller, format: resolvedFormat,
            environment: environment)
    }

    /// Builds, renders and prints (or writes) one report.
    func run(_ kind: ComplianceRequest.Kind) async throws {
        let request = request(kind, environment: Settings.environment)
        // A PostgreSQL history is opened here (connecting is asynchronous); a file by the report itself.
        let store = PostgresLocation.isURL(request.database) ? try await HistoryStore.open(reading: request.database, environment: request.environment) : nil
        let report = try ComplianceReport.build(request, store: store)
        // The compliance JSON document carries its warnings; every other output leaves them to stderr.
        if !(kind == .compliance && resolvedFormat == .json) {
            for warning in report.warnings { Terminal.writeErrorLine("warning: " + warning) }
        }
        try output.emit(streaming: { try report.render(kind, as: resolvedFormat, to: $0) }, headline: report.headline)
    }
}

/// Where and how a report is printed, shared by every report: `--format` is `--output` too, so
/// `report hosts --output json` reads like every other command.
struct ReportOutputOptions: ParsableArguments {
    @Option(name: [.customLong("format"), .customLong("output")],
            help: ArgumentHelp("table, json, ndjson, csv or html (default: from -o's extension, else table).", valueName: "format"))
    var format: ReportFormat?

    @Option(name: [.customShort("o"), .customLong("output-file")], help: ArgumentHelp("Write the report to this file.", valueName: "file"))
    var outputFile: String?

    func validate() throws {
        if format == nil, let outputFile, ReportFormat(fileName: outputFile) == nil {
            throw ValidationError("cannot tell the format from '\(outputFile)': add --format table|json|ndjson|csv|html")
        }
    }

    var resolvedFormat: ReportFormat {
        format ?? outputFile.flatMap { ReportFormat(fileName: $0) } ?? .table
    }

    /// Prints the rendered report, or writes it to `--output-file` and says so on stderr.
    /// A table for a file is laid out plainly: no colour, no terminal width.
    func emit(_ render: @autoclosure () throws -> String, headline: String) throws {
        try emit(streaming: { output in try output(try render()) }, headline: headline)
    }

    /// `render` hands the document over piece by piece: it goes out in 64 KiB writes as it is made,
    /// never held whole. A file is written beside its name and renamed into place when complete.
    func emit(streaming render: (@escaping (String) throws -> Void) throws -> Void, headline: String) throws {
        guard let outputFile else { return try Output.stream(table: resolvedFormat == .table, render) }
        let target = URL(fileURLWithPath: outputFile)
        let partial = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).\(getpid()).partial")
        guard FileManager.default.createFile(atPath: partial.path, contents: nil), let handle = FileHandle(forWritingAtPath: partial.path) else {
            throw PatchError.report(message: "cannot write \(outputFile): \(String(cString: strerror(errno)))")
        }
        do {
            var failure: (any Error)?
            let buffer = ChunkBuffer { data in
                guard failure == nil else { return }
                do { try handle.write(contentsOf: data) } catch { failure = error }
            }
            try TextLayout.$current.withValue(.plain) { try render { buffer.append($0) } }
            buffer.flush()
            try handle.close()
            if let failure { throw failure }
            guard rename(partial.path, target.path) == 0 else {
                throw PatchError.report(message: "cannot write \(outputFile): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: partial)
            throw error
        }
        Terminal.writeError("patchctl: wrote \(outputFile): \(headline)\n")
    }
}

extension ReportFormat: ExpressibleByArgument {}

extension Patchctl.Report {
    struct Compliance: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every host judged against a standard: compliant or not and why, with fleet, group and policy figures, time to patch, trend and evidence.")

        @OptionGroup var options: ReportOptions

        @OptionGroup var display: DisplayOption

        func run() async throws { try await options.run(.compliance) }
    }

    struct Hosts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per host: last scan, platform, pending updates and their ages, reboot, last deployment, compliant or not (JSON: an array).")

        @OptionGroup var options: ReportOptions

        @OptionGroup var display: DisplayOption

        func run() async throws { try await options.run(.hosts) }
    }

    struct Trend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Percent of hosts compliant per day over --since (default 30d).")

        @OptionGroup var options: ReportOptions

        @OptionGroup var display: DisplayOption

        func run() async throws { try await options.run(.trend) }
    }
}

extension Patchctl.Report {
    struct CVEs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cves",
            abstract: "Per CVE over each host's latest successful scan: severity, KEV, hosts that still have it, the fix, first seen.",
            discussion: """
                Answers "which hosts still have CVE-X": report cves --cve CVE-X. Fixable CVEs come from pending updates, \
                "no fix" ones from installed packages with an open CVE. Stale or missing advisory feeds are warned about \
                (stderr for tables, `warnings` in JSON).
                """)

        @OptionGroup var database: DatabaseOption

        @OptionGroup var output: ReportOutputOptions

        @Option(help: ArgumentHelp("Only CVEs at least this severe: low, medium, high or critical (unrated ones are left out).", valueName: "severity"))
        var minSeverity: String?

        @Flag(help: "Only CVEs on CISA's Known Exploited Vulnerabilities catalogue.")
        var kev = false

        @Option(help: ArgumentHelp("Only hosts whose name matches this glob (web*, db[12]).", valueName: "glob"))
        var host: String?

        @Option(name: .customLong("cve"), help: ArgumentHelp("Only this CVE (repeatable): which hosts still have it.", valueName: "CVE-YYYY-NNNN"))
        var cves: [String] = []

        @Option(help: ArgumentHelp("At most this many CVEs, KEV and most severe first.", valueName: "count"))
        var limit: Int?

        func validate() throws {
            if let minSeverity, Severity(text: minSeverity) == nil {
                throw ValidationError("--min-severity '\(minSeverity)' is not a severity: none, low, medium, high or critical")
            }
            for cve in cves where CVEReport.normalizedID(cve) == nil {
                throw ValidationError("--cve '\(cve)' is not a CVE id (CVE-YYYY-NNNN, e.g. CVE-2024-3094)")
            }
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        }

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let environment = Settings.environment
            let filter = CVEReport.Filter(minSeverity: minSeverity.flatMap(Severity.init(text:)), kevOnly: kev, host: host,
                                          cves: cves.compactMap(CVEReport.normalizedID), limit: limit)
            let store = try await HistoryStore.open(reading: database.path(environment: environment), environment: environment)
            let report = try CVEReport.build(store: store, filter: filter, at: ReportDate.now())
            let resolved = output.resolvedFormat
            // JSON carries its warnings; every other format leaves them to stderr.
            if resolved != .json { for warning in report.warnings { Terminal.writeErrorLine("warning: " + warning) } }
            try output.emit(try report.rendered(as: resolved), headline: report.headline)
        }
    }
}
