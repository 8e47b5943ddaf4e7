import PatchSSH

/// The SSH library patchctl was linked with, for `--version` and bug reports (the CLI does not
/// import PatchSSH).
public enum SSHLibrary {
    public static var version: String { LibSSH2.version }
}
