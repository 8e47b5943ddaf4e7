import Foundation
import PatchCore

/// One distribution's packages and every update its vendor has released so far. Advisories
/// append a version to a source package; a host's finding is the window between the version it
/// has installed and the newest one, rendered once per window (`updates(source:from:to:)`).
final class PackageCatalog {
    struct Binary {
        let name: String
        let architecture: String
    }

    /// One released version of a source package.
    struct Release {
        let version: String
        let security: Bool
        /// RHEL: the advisory id (`RHSA-2026:1234`), its severity word as updateinfo writes it.
        let advisory: String?
        let severityWord: String?
        /// Debian family: apt's origin of the candidate.
        let origin: String
        let cves: [CVEReference]
    }

    struct Source {
        let name: String
        let binaries: [Binary]
        let tier: Character
        let weight: Double
        let isKernel: Bool
        /// RHEL: from AppStream rather than BaseOS.
        let appStream: Bool
        var releases: [Release]
        var latest: Int { releases.count - 1 }
    }

    /// A CVE the feed lists as open (no fix yet) on a source package: the Debian family's `unfixed_cves`.
    struct OpenCVE {
        let id: String
        let source: Int
        let severity: Severity
        let vendorSeverity: String?
        let cvss: Double?
        let kev: Bool
    }

    let distribution: Distribution
    private(set) var sources: [Source] = []
    private(set) var kernelSource: Int?
    private var cumulativeWeights: [Double] = []
    private var windows: [Int: [PendingUpdate]] = [:]
    private var advisoryNumber = 1000
    private var advisoryYear = 0
    private(set) var pointRelease = 5
    private(set) var openCVEs: [OpenCVE] = []
    /// Bumped whenever `openCVEs` changes, so hosts recompute their share only then.
    private(set) var openCVEsGeneration = 0
    private var random: SeededRandom

    init(distribution: Distribution, seed: UInt64, stream: UInt64) {
        self.distribution = distribution
        random = SeededRandom(seed: seed, stream: stream)
        let list = distribution.style == .rhel ? PackageLists.rhelFamily : PackageLists.debianFamily
        for line in list.split(separator: "\n") {
            guard let source = parse(String(line)) else { continue }
            sources.append(source)
        }
        kernelSource = sources.firstIndex(where: \.isKernel)
        var sum = 0.0
        cumulativeWeights = sources.map { sum += $0.weight; return sum }
    }

    /// `TIER SOURCE[@EPOCH][*WEIGHT] [!kernel] [only]: BINARIES`; nil when `[only]` excludes this distribution.
    private func parse(_ line: String) -> Source? {
        guard let colon = line.firstIndex(of: ":") else { return nil }
        var head = line[..<colon].split(separator: " ").map(String.init)
        let tier = Character(head.removeFirst())
        var isKernel = false
        if let index = head.firstIndex(of: "!kernel") { isKernel = true; head.remove(at: index) }
        if let filter = head.first(where: { $0.hasPrefix("[") }) {
            guard distribution.admits(String(filter.dropFirst().dropLast())) else { return nil }
            head.removeAll { $0 == filter }
        }
        var spec = substitute(head[0])
        var weight = 1.0
        var epoch = 0
        if let star = spec.firstIndex(of: "*") {
            weight = Double(spec[spec.index(after: star)...]) ?? 1
            spec = String(spec[..<star])
        }
        if let at = spec.firstIndex(of: "@") {
            epoch = Int(spec[spec.index(after: at)...]) ?? 0
            spec = String(spec[..<at])
        }
        let name = spec
        var binaries: [Binary] = []
        for word in line[line.index(after: colon)...].split(separator: " ") {
            let text = substitute(String(word))
            if isKernel && text == "linux-image" {
                binaries += distribution.kernelBinaries.map { Binary(name: $0, architecture: native) }
                continue
            }
            if let slash = text.firstIndex(of: "/") {
                binaries.append(Binary(name: String(text[..<slash]), architecture: String(text[text.index(after: slash)...])))
            } else {
                binaries.append(Binary(name: text, architecture: native))
            }
        }
        var hash = Self.fnv(distribution.key + "/" + name)
        let next = { () -> Int in hash = hash &* 0x100_0000_01B3 ^ 0x9E37; return Int(hash >> 33) }
        let upstream = next() % 4 == 0 ? "\(next() % 4).\(next() % 40)" : "\(next() % 10).\(next() % 30).\(next() % 25)"
        let revision = 1 + next() % 6
        let epochText = epoch > 0 ? "\(epoch):" : ""
        var base: String
        switch distribution.style {
        case .debian: base = "\(upstream)-\(revision)"
        case .ubuntu: base = "\(upstream)-\(revision)ubuntu\(1 + next() % 4)"
        case .rhel: base = "\(upstream)-\(revision + next() % 20).el9"
        }
        base = epochText + (PackageLists.baseVersions[distribution.style == .rhel ? "el9" : distribution.key]?[name] ?? base)
        let appStream = tier == "o" || tier == "r"
        // Updates released before the history starts: the versions hosts begin from.
        let history = isKernel ? 8 + next() % 8 : next() % 6
        var source = Source(name: name, binaries: binaries, tier: tier, weight: weight, isKernel: isKernel, appStream: appStream, releases: [])
        let rhel = distribution.style == .rhel
        source.releases = (0...history).map { index in
            Release(version: version(base: base, index: index, kernel: isKernel), security: index > 0,
                    advisory: rhel && index > 0 ? "\(distribution.advisoryPrefix(security: true))-2024:\(2000 + next() % 7000)" : nil,
                    severityWord: rhel && index > 0 ? "Moderate" : nil,
                    origin: distribution.aptOrigin(security: index > 0, pointRelease: nil), cves: [])
        }
        return source
    }

    private var native: String { distribution.style == .rhel ? "x86_64" : "amd64" }

    private func substitute(_ text: String) -> String {
        guard text.contains("{") else { return text }
        var result = text
        for (key, value) in distribution.placeholders { result = result.replacingOccurrences(of: key, with: value) }
        return result
    }

    private func version(base: String, index: Int, kernel: Bool) -> String {
        if kernel { return distribution.kernelVersion(index) }
        guard index > 0 else { return base }
        switch distribution.style {
        case .debian: return base + "+deb12u\(index)"
        case .ubuntu: return base + ".\(index)"
        case .rhel:
            // 3.0.7-27.el9 → 3.0.7-28.el9_4, the release number and the minor stream moving on.
            let dash = base.lastIndex(of: "-")!
            let release = Int(base[base.index(after: dash)...].prefix { $0.isNumber }) ?? 1
            return "\(base[..<dash])-\(release + index).el9_\(min(4 + index / 4, 7))"
        }
    }

    static func fnv(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return hash
    }

    // MARK: - The vendor's side, one day at a time

    /// One day's updates: security advisories, bug fixes, and on Debian every `pointEvery` days a point release.
    func publish(day: Date, dayIndex: Int, rates: SimulationRates, cves: inout CVENumbering) {
        let year = Calendar.utc.component(.year, from: day)
        // Red Hat numbers its advisories through the year (about 60 a day across products).
        let dayOfYear = Calendar.utc.ordinality(of: .day, in: .year, for: day) ?? 1
        if year != advisoryYear { advisoryYear = year; advisoryNumber = 0 }
        advisoryNumber = max(advisoryNumber, dayOfYear * 60)
        for _ in 0..<random.poisson(rates.securityAdvisoriesPerDay) {
            release(random.weighted(cumulativeWeights), security: true, year: year, cves: &cves)
        }
        for _ in 0..<random.poisson(rates.bugfixAdvisoriesPerDay) {
            release(random.weighted(cumulativeWeights), security: false, year: year, cves: &cves)
        }
        if dayIndex % rates.pointReleaseEveryDays == rates.pointReleaseEveryDays / 2 {
            pointRelease += 1
            var chosen = Set<Int>()
            while chosen.count < rates.pointReleaseSources { chosen.insert(random.int(0..<sources.count)) }
            for index in chosen.sorted() { release(index, security: false, year: year, cves: &cves, pointRelease: distribution.style == .debian) }
        }
        evolveOpenCVEs(year: year, rates: rates, cves: &cves)
    }

    private func release(_ index: Int, security: Bool, year: Int, cves: inout CVENumbering, pointRelease: Bool = false) {
        let source = sources[index]
        let newIndex = source.releases.count
        let version = source.isKernel ? distribution.kernelVersion(newIndex) : nextVersion(source, index: newIndex)
        var advisory: String?
        var word: String?
        if distribution.style == .rhel {
            advisoryNumber += 1 + random.int(0..<6)
            advisory = "\(distribution.advisoryPrefix(security: security))-\(year):\(advisoryNumber)"
            if security {
                let roll = random.unit()
                word = roll < 0.05 ? "Critical" : roll < 0.40 ? "Important" : roll < 0.85 ? "Moderate" : "Low"
            }
        }
        var references: [CVEReference] = []
        // Most security updates name CVEs the feed (Debian, Ubuntu) or updateinfo (RHEL) knows.
        if security && random.chance(0.85) {
            let count = source.isKernel ? random.int(1...4) : 1 + min(random.poisson(0.3), 6)
            for _ in 0..<count { references.append(reference(cves.next(year: year, random: &random), word: word, fixedVersion: version)) }
            references.sort { $0.id < $1.id }
        }
        sources[index].releases.append(Release(
            version: version, security: security, advisory: advisory, severityWord: word,
            origin: distribution.aptOrigin(security: security, pointRelease: pointRelease ? self.pointRelease : nil), cves: references))
    }

    private func nextVersion(_ source: Source, index: Int) -> String {
        let base = source.releases[0].version
        return version(base: base, index: index, kernel: false)
    }

    private func reference(_ id: String, word: String?, fixedVersion: String) -> CVEReference {
        switch distribution.style {
        case .rhel:
            // RhelPlatform.cveReferences: the advisory's word, no score; KEV and EPSS from synced feeds.
            return CVEReference(id: id, severity: word.flatMap(Severity.init(text:)) ?? .unknown, vendorSeverity: word,
                                kev: random.chance(0.015), fixedVersion: fixedVersion, source: "updateinfo")
        case .debian, .ubuntu:
            let (word, severity, cvss) = feedRating()
            return CVEReference(id: id, severity: severity, vendorSeverity: word, cvss: cvss, kev: random.chance(0.015),
                                epss: random.chance(0.8) ? (pow(random.unit(), 4) * 10_000).rounded() / 10_000 : nil,
                                fixedVersion: fixedVersion, source: distribution.cveFeed)
        }
    }

    /// Debian tracker urgencies or Ubuntu priorities, with a CVSS score where NVD has one.
    private func feedRating() -> (String?, Severity, Double?) {
        let words = distribution.style == .debian ? ["low", "medium", "medium", "high", "not yet assigned", "unimportant", "low"]
            : ["negligible", "low", "medium", "medium", "medium", "high", "critical"]
        let word = words[random.int(0..<words.count)]
        let cvss = random.chance(0.7) ? (Double(random.int(31...98)) / 10) : nil
        let severity = Severity(text: word) ?? cvss.map(Severity.init(cvss:)) ?? .unknown
        return (word, severity, cvss)
    }

    /// The feed's open CVEs drift: some get fixed (leave the list), new ones are disclosed.
    private func evolveOpenCVEs(year: Int, rates: SimulationRates, cves: inout CVENumbering) {
        guard distribution.family == .debian else { return }
        var changed = false
        while openCVEs.count < rates.openCVEsPerDistribution {
            openCVEs.append(openCVE(cves.next(year: year - random.int(0...3), random: &random)))
            changed = true
        }
        if random.chance(0.4) {
            openCVEs.remove(at: random.int(0..<openCVEs.count))
            openCVEs.append(openCVE(cves.next(year: year, random: &random)))
            changed = true
        }
        if changed { openCVEsGeneration += 1 }
    }

    private func openCVE(_ id: String) -> OpenCVE {
        let (word, severity, cvss) = feedRating()
        return OpenCVE(id: id, source: random.weighted(cumulativeWeights), severity: severity, vendorSeverity: word, cvss: cvss, kev: random.chance(0.01))
    }

    // MARK: - The host's side

    /// The pending updates of source `index` for a host that has version `from` installed (one per
    /// binary, in the shape the platform's parser gives them), cached per window.
    func updates(source index: Int, from: Int, to: Int) -> [PendingUpdate] {
        let key = index << 32 | from << 16 | to
        if let cached = windows[key] { return cached }
        let source = sources[index]
        let window = source.releases[(from + 1)...to]
        let candidate = source.releases[to]
        var security: Bool
        var origin: String
        var severity: String?
        switch distribution.style {
        case .debian, .ubuntu:
            // DebianPlatform: the candidate's origin says whether it is a security update.
            security = candidate.security
            origin = candidate.origin
        case .rhel:
            // RhelPlatform.pendingUpdates: every advisory in the window, the most severe security one first.
            let rank = { (release: Release) in release.severityWord.flatMap(Severity.init(text:)).map { $0.rawValue + 1 } ?? 0 }
            let secure = window.filter(\.security)
            security = !secure.isEmpty
            severity = secure.filter { rank($0) > 0 }.max { rank($0) < rank($1) }?.severityWord?.lowercased()
            let ordered = secure.sorted { rank($0) > rank($1) || (rank($0) == rank($1) && $0.advisory! > $1.advisory!) }
                + window.filter { !$0.security }.sorted { $0.advisory ?? "" > $1.advisory ?? "" }
            let ids = ordered.compactMap(\.advisory)
            let repository = distribution.repository(appStream: source.appStream)
            origin = ids.isEmpty ? repository : "\(ids.joined(separator: ", ")) (\(repository))"
        }
        var references = window.flatMap(\.cves)
        if window.count > 1 { references.sort { $0.id < $1.id } }
        let installed = source.releases[from].version
        let result = source.binaries.map { binary in
            PendingUpdate(name: binary.name, installedVersion: installed, availableVersion: candidate.version, source: origin, security: security,
                          architecture: binary.architecture, severity: severity, cves: references)
        }
        windows[key] = result
        return result
    }

    /// What `unfixed_cves` holds for a host with `installed` sources: the open CVEs on them that
    /// this host's feed match reports (`share` of them: not every binary of the source is installed).
    func unfixed(installed: [Int16], hostHash: UInt64, share: Double) -> [UnfixedCVE] {
        var result: [UnfixedCVE] = []
        for cve in openCVEs where installed[cve.source] >= 0 {
            let roll = Double(((Self.fnv(cve.id) ^ hostHash) &* 0x9E37_79B9_7F4A_7C15) >> 11) * 0x1.0p-53
            guard roll < share else { continue }
            let source = sources[cve.source]
            let names = source.binaries.map(\.name).sorted()
            result.append(UnfixedCVE(id: cve.id, package: names[0], packages: names, source: source.name, severity: cve.severity,
                                     vendorSeverity: cve.vendorSeverity, cvss: cve.cvss, kev: cve.kev, feed: distribution.cveFeed))
        }
        return result.sorted { ($0.id, $0.source) < ($1.id, $1.source) }
    }
}

/// CVE ids handed out in order within each year, shared by every distribution.
struct CVENumbering {
    private var next: [Int: Int] = [:]

    mutating func next(year: Int, random: inout SeededRandom) -> String {
        let number = (next[year] ?? 20_000) + 1 + random.int(0..<40)
        next[year] = number
        return "CVE-\(year)-\(number)"
    }
}

extension Calendar {
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}
