/// Defaults for every platform, in their Linux form (the kernel's boot id, utmp logins, `shutdown`),
/// which the Linux families use as they are; macOS replaces the boot id, Windows all four.
extension Platform {
    public func installCommand(_ updates: [PendingUpdate], of findings: [PendingUpdate]) -> String {
        installCommand(updates)
    }

    public func bootIDCommand() -> String {
        "cat /proc/sys/kernel/random/boot_id"
    }

    public func rebootCommand(graceMinutes: Int, message: String) -> String {
        // `shutdown` warns logged-in users with the message (wall) and again as the time nears.
        let when = graceMinutes <= 0 ? "now" : "+\(graceMinutes)"
        return Shell.join(["shutdown", "-r", when, message])
    }

    /// `who` reads utmp: interactive logins only (patchctl's own exec channels have no terminal
    /// and leave no utmp record, so they never defer a host on their own).
    public func loggedInUsersCommand() -> String {
        "LC_ALL=C who"
    }

    /// `who` lines: `NAME LINE TIME [COMMENT]`.
    public func parseLoggedInUsers(_ output: String) -> [LoggedInUser] {
        output.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2 else { return nil }
            return LoggedInUser(user: String(fields[0]), terminal: String(fields[1]))
        }
    }
}
