import Foundation

/// One vulnerability of one package as the matcher reads it: the ranges of the feed that wins
/// for this (vulnerability, package).
public struct PackageVulnerability: Sendable, Equatable {
    public var id: String
    public var feed: AdvisoryFeedKind
    public var ranges: [AdvisoryRange]

    public init(id: String, feed: AdvisoryFeedKind, ranges: [AdvisoryRange]) {
        self.id = id
        self.feed = feed
        self.ranges = ranges
    }
}

/// The advisory data one host is matched against: its ecosystems' vulnerabilities by package
/// (source package on Debian and Ubuntu), KEV and EPSS.
public struct AdvisoryData: Sendable {
    public var scheme: VersionComparison.Scheme
    public var vulnerabilities: [String: [PackageVulnerability]]
    public var kev: Set<String>
    public var epss: [String: Double]

    public init(scheme: VersionComparison.Scheme, vulnerabilities: [String: [PackageVulnerability]] = [:],
                kev: Set<String> = [], epss: [String: Double] = [:]) {
        self.scheme = scheme
        self.vulnerabilities = vulnerabilities
        self.kev = kev
        self.epss = epss
    }
}

extension AdvisoryFeedKind {
    /// Which feed wins when several speak of one (CVE, package): the distribution's own tracker
    /// before OSV (Vuls: Debian tracker > OVAL > OSV, Ubuntu CVE tracker > OVAL > OSV). Lower wins;
    /// nil for feeds that carry no ranges.
    public var rangePriority: Int? {
        switch self {
        case .debianTracker, .ubuntu: 0
        case .osv: 1
        case .kev, .epss: nil
        }
    }
}

/// Matches one host's pending updates and installed packages against advisory data. Pure: the
/// same inputs give the same result; `AdvisoryIndex` supplies the data and a cache of verdicts.
///
/// Versions are compared as source versions, since feeds keyed by source package name the
/// source's fixed version. A candidate's source version is derived from the binary candidate by
/// the rule that turns the installed binary's version into the installed source version:
/// identical when they are equal; otherwise a binNMU suffix `+bN` is stripped and an epoch the
/// source lacks is dropped (`bsdutils` 1:2.38.1-5+b1 from `util-linux` 2.38.1-5). When that rule
/// does not reproduce the installed source version (binaries versioned apart from their
/// source), another pending update of the same source supplies the candidate; failing that the
/// update names no CVEs and the source's CVEs count as unfixed.
public enum AdvisoryMatcher {
    public struct Result: Sendable, Equatable {
        public var updates: [PendingUpdate]
        public var unfixed: [UnfixedCVE]
    }

    /// What a source package's installed version and candidate mean for its vulnerabilities.
    public struct Verdict: Sendable, Equatable {
        /// Affecting the installed version and not the candidate: the range holding the installed version.
        public var fixed: [(PackageVulnerability, AdvisoryRange)]
        /// Affecting the installed version and the candidate too (or there is no candidate).
        public var unfixed: [(PackageVulnerability, AdvisoryRange)]

        public static func == (a: Verdict, b: Verdict) -> Bool {
            a.fixed.map { [$0.0.id, $0.1.fixed ?? ""] } == b.fixed.map { [$0.0.id, $0.1.fixed ?? ""] }
                && a.unfixed.map { [$0.0.id, $0.1.fixed ?? ""] } == b.unfixed.map { [$0.0.id, $0.1.fixed ?? ""] }
        }
    }

    /// The verdict for one source package: a vulnerability counts when one of its ranges holds the
    /// installed version; the candidate fixes it when none of its ranges holds the candidate (a
    /// later `introduced` that holds it again is a regression, not a fix) and it is newer than the installed one.
    public static func verdict(_ vulnerabilities: [PackageVulnerability], installed: String, candidate: String?,
                               scheme: VersionComparison.Scheme) -> Verdict {
        var verdict = Verdict(fixed: [], unfixed: [])
        // TEMP- ids (the Debian tracker's unnamed issues) are never findings, whatever a feed stored.
        for vulnerability in vulnerabilities where !vulnerability.id.hasPrefix("TEMP-") {
            let holding = vulnerability.ranges.filter { $0.affects(installed, scheme: scheme) }
            guard let first = holding.first else { continue }
            // The earliest fix among the ranges that hold the installed version.
            let range = holding.filter { $0.fixed != nil }.min {
                VersionComparison.compare($0.fixed!, $1.fixed!, scheme: scheme) < 0
            } ?? first
            if let candidate, VersionComparison.compare(candidate, installed, scheme: scheme) > 0,
               !vulnerability.ranges.contains(where: { $0.affects(candidate, scheme: scheme) }) {
                verdict.fixed.append((vulnerability, range))
            } else {
                verdict.unfixed.append((vulnerability, range))
            }
        }
        return verdict
    }

    /// The candidate's source version, by the rule in the type's comment; nil when the rule does
    /// not turn the installed binary version into the installed source version.
    public static func sourceVersion(ofCandidate candidate: String, installedBinary: String, installedSource: String) -> String? {
        if installedBinary == installedSource { return candidate }
        let dropEpoch = epoch(installedBinary) != nil && epoch(installedSource) == nil
        func transform(_ version: String) -> String {
            var result = Substring(version)
            if dropEpoch, let colon = result.firstIndex(of: ":") { result = result[result.index(after: colon)...] }
            if let plus = binNMUSuffix(result) { result = result[..<plus] }
            return String(result)
        }
        guard transform(installedBinary) == installedSource else { return nil }
        return transform(candidate)
    }

    static func epoch(_ version: String) -> Substring? {
        guard let colon = version.firstIndex(of: ":") else { return nil }
        return version[..<colon]
    }

    /// Where a trailing `+bN` (N digits) starts.
    static func binNMUSuffix(_ version: Substring) -> Substring.Index? {
        guard let plus = version.lastIndex(of: "+") else { return nil }
        let tail = version[version.index(after: plus)...]
        guard tail.count >= 2, tail.first == "b", tail.dropFirst().allSatisfy(\.isASCII), tail.dropFirst().allSatisfy(\.isNumber) else { return nil }
        return plus
    }

    /// Matches a host. `installed` empty (platforms whose scan does not list installed packages):
    /// the pending updates' own packages stand in, each its own source. Third-party findings
    /// (snap, flatpak, winget…) are left as they are. CVEs an update already carries (the
    /// endpoint's updateinfo or MSRC data) stay; the feeds add the others. KEV and EPSS are set on all.
    public static func match(updates: [PendingUpdate], installed: [InstalledBinary], data: AdvisoryData,
                             verdicts: ((String, String, String?) -> Verdict)? = nil) -> Result {
        let verdictOf: (String, String, String?) -> Verdict = verdicts ?? { package, version, candidate in
            verdict(data.vulnerabilities[package] ?? [], installed: version, candidate: candidate, scheme: data.scheme)
        }
        let isOS = { (update: PendingUpdate) in ThirdPartyManager(source: update.source) == nil }
        let binaries = installed.isEmpty
            ? updates.filter(isOS).map { InstalledBinary(name: $0.name, architecture: $0.architecture, version: $0.installedVersion,
                                                         sourceName: $0.name, sourceVersion: $0.installedVersion) }
            : installed
        var byName: [String: [InstalledBinary]] = [:]
        for binary in binaries { byName[binary.name, default: []].append(binary) }
        func binary(of update: PendingUpdate) -> InstalledBinary {
            let named = byName[update.name] ?? []
            return named.first { $0.architecture == update.architecture } ?? named.first
                ?? InstalledBinary(name: update.name, architecture: update.architecture, version: update.installedVersion,
                                   sourceName: update.name, sourceVersion: update.installedVersion)
        }
        struct SourceKey: Hashable { var name: String; var version: String }

        // Each update's own candidate source version, and per source the highest of them.
        var ownCandidate: [Int: String] = [:]
        var sourceCandidate: [SourceKey: String] = [:]
        for (index, update) in updates.enumerated() where isOS(update) {
            let installedBinary = binary(of: update)
            guard let candidate = sourceVersion(ofCandidate: update.availableVersion, installedBinary: installedBinary.version,
                                                installedSource: installedBinary.sourceVersion) else { continue }
            ownCandidate[index] = candidate
            let key = SourceKey(name: installedBinary.sourceName, version: installedBinary.sourceVersion)
            if let known = sourceCandidate[key], VersionComparison.compare(known, candidate, scheme: data.scheme) >= 0 { continue }
            sourceCandidate[key] = candidate
        }

        var result = updates
        for (index, update) in updates.enumerated() where isOS(update) {
            let installedBinary = binary(of: update)
            let key = SourceKey(name: installedBinary.sourceName, version: installedBinary.sourceVersion)
            var cves = update.cves
            if data.vulnerabilities[key.name] != nil {
                let candidate = ownCandidate[index] ?? sourceCandidate[key]
                for (vulnerability, range) in verdictOf(key.name, key.version, candidate).fixed where !cves.contains(where: { $0.id == vulnerability.id }) {
                    cves.append(CVEReference(id: vulnerability.id, severity: range.severity, vendorSeverity: range.vendorSeverity,
                                             cvss: range.cvss, fixedVersion: range.fixed, source: vulnerability.feed.rawValue))
                }
            }
            for position in cves.indices {
                cves[position].kev = cves[position].kev || data.kev.contains(cves[position].id)
                cves[position].epss = cves[position].epss ?? data.epss[cves[position].id]
            }
            result[index].cves = cves.sorted { $0.id < $1.id }
        }

        // Unfixed: per (CVE, source package), every installed binary of the source it affects.
        var groups: [SourceKey: [String]] = [:]
        for binary in binaries where data.vulnerabilities[binary.sourceName] != nil {
            groups[SourceKey(name: binary.sourceName, version: binary.sourceVersion), default: []].append(binary.name)
        }
        var unfixed: [String: UnfixedCVE] = [:]
        for (key, names) in groups {
            let sortedNames = names.sorted()
            for (vulnerability, range) in verdictOf(key.name, key.version, sourceCandidate[key]).unfixed {
                let id = vulnerability.id + "\u{0}" + key.name
                if var entry = unfixed[id] {
                    // Binaries of one source at two source versions: one entry with all of them.
                    entry.packages = Array(Set(entry.packages + names)).sorted()
                    entry.package = entry.packages[0]
                    unfixed[id] = entry
                } else {
                    unfixed[id] = UnfixedCVE(
                        id: vulnerability.id, package: sortedNames[0], packages: sortedNames, source: key.name, severity: range.severity,
                        vendorSeverity: range.vendorSeverity, cvss: range.cvss, kev: data.kev.contains(vulnerability.id),
                        fixedVersion: range.fixed, feed: vulnerability.feed.rawValue)
                }
            }
        }
        let sorted = unfixed.values.sorted { ($0.id, $0.source) < ($1.id, $1.source) }
        return Result(updates: result, unfixed: sorted)
    }
}
