import Foundation
import Testing
import LabSupport
@testable import PatchCore

@Suite("Package inspection: dpkg-deb as a child process")
struct PackageInspectorTests {
    /// A stand-in for dpkg-deb: `body` is its shell script. A child shell writes it: a file this
    /// process held open for writing would be inherited by a program another test spawns at that
    /// moment, and executing it would then fail with "Text file busy" (ETXTBSY).
    static func fakeDpkgDeb(_ body: String) async throws -> (path: String, folder: URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fake-dpkg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("dpkg-deb").path
        try await TestProcess.check("/bin/sh", ["-c", "printf '#!/bin/sh\\n%s\\n' \"$1\" > \"$2\" && chmod 755 \"$2\"", "sh", body, path])
        return (path, folder)
    }

    /// Regression: stdout was read to its end before stderr, so a dpkg-deb that wrote more than a
    /// pipe's buffer (64 KiB) of warnings before its answer blocked on stderr while patchctl waited
    /// for stdout to close: both stalled forever. The time limit turns such a stall into a failure.
    @Test(.timeLimit(.minutes(1))) func warningsBeyondAPipeBufferBeforeTheAnswerDoNotStall() async throws {
        let (dpkgDeb, folder) = try await Self.fakeDpkgDeb("""
            head -c 262144 /dev/zero | tr '\\0' 'w' >&2
            printf 'acme-agent\\t2.4.1\\tall'
            """)
        defer { try? FileManager.default.removeItem(at: folder) }
        let inspection = try await PackageInspector.inspectDeb("/nonexistent.deb", dpkgDeb: dpkgDeb)
        #expect(inspection == PackageInspection(format: .deb, name: "acme-agent", version: "2.4.1", architecture: "all"))
    }

    @Test func aFailingDpkgDebIsAnInvalidPackageWithItsMessage() async throws {
        let (dpkgDeb, folder) = try await Self.fakeDpkgDeb("echo 'dpkg-deb: error: not a Debian format archive' >&2; exit 2")
        defer { try? FileManager.default.removeItem(at: folder) }
        await #expect {
            _ = try await PackageInspector.inspectDeb("/nonexistent.deb", dpkgDeb: dpkgDeb)
        } throws: { error in
            "\(error)".contains("not a valid .deb: dpkg-deb: error: not a Debian format archive")
        }
    }

    /// What dpkg-deb prints is bounded: three fields, not a stream.
    @Test func endlessOutputIsRefusedNotCollected() async throws {
        let (dpkgDeb, folder) = try await Self.fakeDpkgDeb("yes acme")
        defer { try? FileManager.default.removeItem(at: folder) }
        await #expect {
            _ = try await PackageInspector.inspectDeb("/nonexistent.deb", dpkgDeb: dpkgDeb)
        } throws: { error in
            "\(error)".contains("printed more than expected")
        }
    }
}
