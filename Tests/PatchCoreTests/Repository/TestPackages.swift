import Foundation
import LabSupport
import Testing

/// Real package files, built the way vendors build them (dpkg-deb, rpmbuild), for library and install tests.
enum TestPackages {
    static func run(_ tool: String, _ arguments: [String]) async throws {
        let result = try await TestProcess.run(tool, arguments)
        try #require(result.status == 0, "\(tool) \(arguments.joined(separator: " ")): \(result.stderr)")
    }

    /// A .deb installing /usr/share/NAME/VERSION; `payload` bytes make it bigger or different.
    /// `bytes` random bytes as base64 text: a payload gzip cannot shrink, for packages of a known size.
    static func randomText(bytes: Int) throws -> String {
        let random = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
        defer { try? random.close() }
        return random.readData(ofLength: bytes).base64EncodedString()
    }

    static func deb(_ name: String, version: String, in folder: URL, payload: String = "", depends: String? = nil) async throws -> String {
        let root = folder.appendingPathComponent("\(name)-\(version)-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("DEBIAN"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("usr/share/\(name)"), withIntermediateDirectories: true)
        var control = "Package: \(name)\nVersion: \(version)\nArchitecture: all\nMaintainer: patchctl tests <tests@example.invalid>\nDescription: patchctl test package\n"
        if let depends { control += "Depends: \(depends)\n" }
        try control.write(to: root.appendingPathComponent("DEBIAN/control"), atomically: true, encoding: .utf8)
        try (version + "\n" + payload).write(to: root.appendingPathComponent("usr/share/\(name)/VERSION"), atomically: true, encoding: .utf8)
        let output = folder.appendingPathComponent("\(name)_\(version)_all-\(UUID().uuidString.prefix(6)).deb").path
        try await run("/usr/bin/dpkg-deb", ["--build", "--root-owner-group", "-Zgzip", root.path, output])
        return output
    }

    /// A noarch .rpm built with rpmbuild.
    static func rpm(_ name: String, version: String, release: String = "1", in folder: URL) async throws -> String {
        let top = folder.appendingPathComponent("rpmbuild-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: top.appendingPathComponent("SPECS"), withIntermediateDirectories: true)
        let spec = top.appendingPathComponent("SPECS/\(name).spec")
        try """
            Name: \(name)
            Version: \(version)
            Release: \(release)
            Summary: patchctl test package
            License: MIT
            BuildArch: noarch
            %description
            patchctl test package
            %install
            mkdir -p %{buildroot}/usr/share/\(name)
            echo \(version) > %{buildroot}/usr/share/\(name)/VERSION
            %files
            /usr/share/\(name)/VERSION
            """.write(to: spec, atomically: true, encoding: .utf8)
        try await run("/usr/bin/rpmbuild", ["-bb", "--quiet", "--define", "_topdir \(top.path)", spec.path])
        return top.appendingPathComponent("RPMS/noarch/\(name)-\(version)-\(release).noarch.rpm").path
    }
}
