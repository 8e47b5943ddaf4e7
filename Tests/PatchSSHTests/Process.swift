import LabSupport

/// Programs in tests start through posix_spawn, never Foundation's `Process.run()`, which
/// over-reads the heap when 1363 or more descriptors are open (see `SpawnedProcess`).
typealias Process = SpawnedProcess
