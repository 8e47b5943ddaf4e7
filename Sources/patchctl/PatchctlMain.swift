import PatchctlCLI
#if canImport(Glibc)
import Glibc
#endif

/// The binary: everything, parsing included, lives in PatchctlCLI (tested in-process there).
@main
enum PatchctlMain {
    static func main() async {
        exit(await Patchctl.invoke(Array(CommandLine.arguments.dropFirst())))
    }
}
