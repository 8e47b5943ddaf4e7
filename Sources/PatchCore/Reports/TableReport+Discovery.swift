import Foundation

extension TableReport {
    /// One row per address found (name, SSH ports with key types, WinRM, OS), then what changed
    /// since earlier sweeps and, with `--against`, what the inventory lacks.
    public static func discovery(_ run: DiscoveryRun) -> String {
        let rows = run.hosts.map { host -> [String] in
            let ssh = host.ssh.map { service in
                "\(service.port): " + (service.keys.isEmpty ? (service.error ?? "no key") : service.keys.map(\.type).joined(separator: ","))
            }.joined(separator: "; ")
            let winrm = host.winrm.map { "\($0.port)/\($0.scheme)" + ($0.wsman ? " " + ($0.auth.isEmpty ? "wsman" : $0.auth.joined(separator: ",")) : " not wsman") }
                .joined(separator: "; ")
            let os = host.os.map { "\($0.name) \($0.version)" } ?? host.loginError.map { _ in "login failed" } ?? "-"
            let banner = host.ssh.first?.banner ?? "-"
            return [host.address, host.name ?? "-", ssh.isEmpty ? "-" : ssh, winrm.isEmpty ? "-" : winrm, os, banner]
        }
        var out = render(header: ["ADDRESS", "NAME", "SSH", "WINRM", "OS", "BANNER"], rows: rows, rightAligned: [])
        let failures = run.hosts.filter { $0.loginError != nil }
        if !failures.isEmpty {
            out += "\n"
            for host in failures { out += line("\(host.address): login: \(host.loginError ?? "")\n") }
        }
        if let changes = run.changes {
            if !changes.changedKeys.isEmpty {
                out += "\n"
                for change in changes.changedKeys {
                    out += line("HOST KEY CHANGED \(change.address) port \(change.port) \(change.type): \(change.previousFingerprint) (run \(change.previousRun)) → \(change.fingerprint)\n")
                }
            }
            if !changes.new.isEmpty { out += line("\nnew since earlier sweeps: \(changes.new.joined(separator: " "))\n") }
            if !changes.gone.isEmpty { out += line("gone since the last sweep of their network: \(changes.gone.joined(separator: " "))\n") }
        }
        if let against = run.against {
            out += line("\nnot in \(against.inventory) (unmanaged): \(against.notInInventory.isEmpty ? "none" : against.notInInventory.joined(separator: " "))\n")
            out += line("in the inventory, not found: \(against.notFound.isEmpty ? "none" : against.notFound.joined(separator: " "))\n")
        }
        let keys = run.hosts.reduce(0) { $0 + $1.allKeys.count }
        out += String(format: "\n%d address%@ swept, %d host%@ found, %d host key%@; %.1fs\n", run.addressesSwept, run.addressesSwept == 1 ? "" : "es",
                      run.hosts.count, run.hosts.count == 1 ? "" : "s", keys, keys == 1 ? "" : "s", run.finishedAt.timeIntervalSince(run.startedAt))
        return out
    }
}
