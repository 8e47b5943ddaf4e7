import Foundation
import PatchCore

/// The configuration of this invocation (files and `PATCHCTL_*` variables,
/// docs/configuration.md), bound by `Patchctl.invoke` for the command's parse and run. Commands read
/// their defaults through `Settings.environment`, never the process environment directly, so a
/// file's settings reach them as the variables would.
enum Settings {
    @TaskLocal static var current: PatchctlConfig?

    static var config: PatchctlConfig { current ?? .empty(environment: ProcessInfo.processInfo.environment) }

    /// The process environment with the files' settings as `PATCHCTL_*` variables where unset.
    static var environment: [String: String] { config.environment }

    static func string(_ variable: String) -> String? { environment[variable].flatMap { $0.isEmpty ? nil : $0 } }
    static func integer(_ variable: String) -> Int? { ConfigKey.integer(string(variable)) }
    static func seconds(_ variable: String) -> Double? { ConfigKey.seconds(string(variable)) }
}
