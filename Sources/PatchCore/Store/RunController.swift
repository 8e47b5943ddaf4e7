import Foundation

/// The patchctl controller that recorded a run: the machine's host name, and the name an operator
/// gave it (`--controller`, `PATCHCTL_CONTROLLER`) when several controllers (a DMZ, remote
/// offices, shards of one inventory) keep one history. Reports cover every controller, or one.
public struct RunController: Sendable, Equatable, Codable {
    /// The host name of the machine that ran patchctl.
    public var host: String
    /// The operator's name for this controller, if any.
    public var name: String?

    public init(host: String, name: String? = nil) {
        self.host = host
        self.name = name
    }

    /// How runs show and are selected: the given name, else the host name.
    public var label: String { name ?? host }

    /// This machine, named by `name` (the flag, already checked) or else `PATCHCTL_CONTROLLER`.
    public static func local(name: String?, environment: [String: String]) throws(PatchError) -> RunController {
        if let name { return RunController(host: thisMachine.host, name: name) }
        guard let variable = environment["PATCHCTL_CONTROLLER"], !variable.isEmpty else { return thisMachine }
        guard isValidName(variable) else {
            throw PatchError.config(file: "PATCHCTL_CONTROLLER", line: nil, column: nil,
                                    message: "'\(TerminalText.neutralised(variable))' is not a controller name: \(nameRule)")
        }
        return RunController(host: thisMachine.host, name: variable)
    }

    public static let nameRule = "1 to 64 letters, digits, '.', '-' or '_'"

    /// A name goes into reports, evidence lines and logs: a short word, nothing else.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x2D || byte == 0x2E || byte == 0x5F
        }
    }

    /// This machine with no name given: what a store records when nobody named the controller.
    public static var thisMachine: RunController { RunController(host: ProcessInfo.processInfo.hostName) }
}
