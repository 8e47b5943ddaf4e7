import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Who is acting, for the audit trail: the person behind sudo when there is one.
public enum LocalUser {
    public static func current(environment: [String: String]) -> String {
        if let sudo = environment["SUDO_USER"], !sudo.isEmpty { return sudo }
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return environment["USER"] ?? "unknown"
    }
}
