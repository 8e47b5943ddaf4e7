import ArgumentParser
import Foundation
import PatchCore

extension Host.ShellType: ExpressibleByArgument {}

extension Patchctl {
    /// What `make record-fixtures` runs (docs/platforms.md#recording-fixtures); hidden from the help: a
    /// contributor's tool, not an operator's.
    struct RecordFixtures: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "record-fixtures",
            abstract: "Run the scan's own command on one real host and write its output, scrubbed, as test fixtures.",
            discussion: """
                Writes OUT/<os>-<version>-<date>/: scan-command.txt, scan-output.txt, scan-stderr.txt (when not empty) and \
                SOURCE.md. Host names, the login user, IPv4/IPv6 addresses other than loopback and MAC addresses are \
                replaced first. Records nothing in history. Exit 2 when the host cannot be scanned.
                """,
            shouldDisplay: false)

        @Argument(help: ArgumentHelp("The host, as ssh takes it.", valueName: "[user@]host[:port]"))
        var target: String

        @Option(help: ArgumentHelp("The folder the recording's folder goes into.", valueName: "dir"))
        var out: String

        @Option(help: ArgumentHelp("The shell that answers: sh, or powershell/cmd for Windows over OpenSSH.", valueName: "type"))
        var shellType: Host.ShellType = .sh

        @OptionGroup var connection: ConnectionFlags

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let hop: JumpHop
            do {
                hop = try JumpHop.parse(target)
            } catch {
                throw ValidationError("\(error)")
            }
            let host = Host(name: hop.address, address: hop.address, port: hop.port ?? 22, user: hop.user, shellType: shellType)
            let options = connection.connectionOptions(environment: Settings.environment, defaultCommandTimeout: ConnectionFlags.scanCommandTimeout)
            let recorder = FixtureRecorder(engine: HostFanOut(options: options), version: PatchctlVersion.current)
            let recording: FixtureRecorder.Recording
            do {
                recording = try await recorder.record(host, into: out)
            } catch let failure as FixtureRecorder.Failure {
                Terminal.writeErrorLine(failure.description)
                throw ExitCodes.hostsFailed
            }
            let security = recording.findings.updates.filter(\.security).count
            Terminal.write("""
                \(recording.os.name) \(recording.os.version): \(recording.findings.updates.count) pending updates (\(security) security), \
                \(recording.report.total) values scrubbed
                \(recording.files.joined(separator: "\n"))

                """)
        }
    }
}
