import PatchCore

/// Foundation also exports a `Host` (a network-host lookup class); in this module ours wins.
typealias Host = PatchCore.Host
