import PatchSSH

extension ScanScript {
    /// The facts part of a scan alone (`discover --login`): os-release and uname on POSIX hosts, the
    /// scan's `os` section in PowerShell on Windows. Installs nothing, reads no package state.
    public var detectionCommand: String {
        switch self {
        case .posix: Platforms.factsCommand
        case .powershell: PowerShell.encodedCommand(WindowsPlatform.factsScriptPowerShell)
        }
    }

    /// What the detection command's output says the host runs, or why it cannot tell.
    public func detect(from result: CommandResult) throws -> OSInfo {
        let facts = try self.facts(from: result)
        guard let platform = Platforms.detect(facts) else {
            throw ParseFailure("unsupported platform (\(facts.osRelease["PRETTY_NAME"] ?? facts.osRelease["ID"] ?? facts.kernelName))")
        }
        return platform.os
    }
}
