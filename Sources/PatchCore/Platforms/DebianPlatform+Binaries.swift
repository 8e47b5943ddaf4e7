/// The installed packages and their source packages, read in the scan: what advisory feeds keyed
/// by source package (Debian Security Tracker, Debian and Ubuntu OSV) are matched against.
extension DebianPlatform {
    /// One line per package dpkg knows: `PACKAGE ARCH VERSION SOURCE SOURCE-VERSION STATUS`, tab-separated.
    /// dpkg prints the binary's own name and version for `source:*` when the package has no Source field.
    static let binariesFormat = "${Package}\\t${Architecture}\\t${Version}\\t${source:Package}\\t${source:Version}\\t${db:Status-Abbrev}\\n"

    /// At most this many packages are read: a large desktop has about 5 000; more is a broken or hostile endpoint.
    static let maxBinaries = 100_000

    /// Reads the `binaries` section. Only fully installed (`ii`) packages count. A row whose name or
    /// version does not fit Debian's grammar is dropped (it is never an operand, but it must not
    /// reach history or the matcher either); an empty `source:*` field falls back to the binary's
    /// own name and version (a dpkg too old to fill it in).
    static func parseBinaries(_ text: String) -> [InstalledBinary] {
        var result: [InstalledBinary] = []
        for line in text.split(separator: "\n") {
            guard result.count < maxBinaries else { break }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 6, fields[5].hasPrefix("ii") else { continue }
            let name = String(fields[0]), architecture = String(fields[1]), version = String(fields[2])
            let sourceName = fields[3].isEmpty ? name : String(fields[3])
            let sourceVersion = fields[4].isEmpty ? version : String(fields[4])
            let grammar = PackageGrammar.debian
            guard grammar.nameProblem(name) == nil, grammar.nameProblem(sourceName) == nil,
                  grammar.versionProblem(version) == nil, grammar.versionProblem(sourceVersion) == nil,
                  PackageGrammar.all(architecture, 1...64, PackageGrammar.architectureCharacter)
            else { continue }
            result.append(InstalledBinary(name: name, architecture: architecture, version: version,
                                          sourceName: sourceName, sourceVersion: sourceVersion))
        }
        return result
    }
}
