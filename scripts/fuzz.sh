#!/usr/bin/env bash
# make fuzz: libFuzzer (with AddressSanitizer) on patchctl's parsers, FUZZ_SECONDS each (default 30).
#
# Targets (Fuzz/Targets/NAME.swift): inventory, policy (and compliance rule sets), apt, dnf,
# zypper (XML), wua (Windows Update scan sections), winget (tables and export JSON), known_hosts.
# PatchCore and its dependencies are built once with coverage instrumentation in .build-fuzz
# (git-ignored); each target is linked against them with libFuzzer's main.
#
# Each run starts from the committed seeds in Fuzz/corpus/NAME (scripts/fuzz-corpus.py writes
# them) plus what earlier runs found (.build-fuzz/corpus/NAME). A crash, a leak, a hang beyond
# 10 s or more than 2 GB of memory fails the target; its reproducer lands in Fuzz/crashes/NAME/
# (replay: .build-fuzz/fuzz-NAME Fuzz/crashes/NAME/crash-...). FUZZ_MERGE=1 adds the inputs that
# reached new code to the committed corpus, minimised. FUZZ_TARGETS="apt dnf" picks targets.
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFT=${SWIFT:-$(command -v swift || echo /opt/swift/usr/bin/swift)}
SWIFTC=${SWIFTC:-$(dirname "$SWIFT")/swiftc}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
FUZZ_TARGETS=${FUZZ_TARGETS:-"inventory policy apt dnf zypper wua winget known_hosts"}
SCRATCH=.build-fuzz
BUILD=$SCRATCH/debug

echo "fuzz: building PatchCore with -sanitize=fuzzer,address in $SCRATCH"
"$SWIFT" build --scratch-path "$SCRATCH" --target PatchCore \
    -Xswiftc -sanitize=fuzzer -Xswiftc -sanitize=address 2>&1 | grep -E "error|warning: unre|Build" || true
test -f "$BUILD/Modules/PatchCore.swiftmodule" || { echo "fuzz: the instrumented build failed" >&2; exit 1; }

# Every object of PatchCore and what it links, except SwiftPM's test-discovery and main stubs.
objects=()
for module in PatchCore PatchSSH Yams CYaml GRDB GRDBSQLite Logging; do
    [ -d "$BUILD/$module.build" ] || continue
    while IFS= read -r object; do objects+=("$object"); done < <(find "$BUILD/$module.build" -name '*.o')
done

# The C modules the Swift modules were built against (libssh2, SQLite, libyaml).
module_maps=()
for map in Sources/CLibSSH2/module.modulemap "$SCRATCH/checkouts/GRDB.swift/Sources/GRDBSQLite/module.modulemap" \
        "$SCRATCH/checkouts/Yams/Sources/CYaml/include/module.modulemap"; do
    module_maps+=(-Xcc -fmodule-map-file="$(pwd)/$map")
done

failed=()
for target in $FUZZ_TARGETS; do
    source=Fuzz/Targets/$target.swift
    binary=$SCRATCH/fuzz-$target
    [ -f "$source" ] || { echo "fuzz: no target $source" >&2; exit 64; }
    if [ ! -x "$binary" ] || [ -n "$(find "$source" Fuzz/Targets/FuzzInput.swift "$BUILD/Modules/PatchCore.swiftmodule" -newer "$binary")" ]; then
        echo "fuzz: linking $binary"
        "$SWIFTC" -sanitize=fuzzer,address -parse-as-library -enable-testing -I "$BUILD/Modules" "${module_maps[@]}" \
            "$source" Fuzz/Targets/FuzzInput.swift "${objects[@]}" -lssh2 -lsqlite3 -o "$binary" \
            2> "$SCRATCH/link-$target.log" || { grep -v "Cannot export local symbol" "$SCRATCH/link-$target.log" >&2; exit 1; }
    fi
    mkdir -p "$SCRATCH/corpus/$target" "Fuzz/crashes/$target"
    echo "fuzz: $target for ${FUZZ_SECONDS}s"
    # Leak detection is off: Foundation keeps buffers it never frees (FileManager.contents of an
    # empty file is reported); crashes, overflows, hangs and memory blow-ups still fail.
    if ! ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} "$binary" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -max_len=262144 -detect_leaks=0 \
            -print_final_stats=1 -artifact_prefix="Fuzz/crashes/$target/" \
            "$SCRATCH/corpus/$target" "Fuzz/corpus/$target" > "$SCRATCH/fuzz-$target.log" 2>&1; then
        failed+=("$target")
        echo "fuzz: $target FAILED (log: $SCRATCH/fuzz-$target.log, reproducer in Fuzz/crashes/$target/)" >&2
        grep -E "ERROR: |SUMMARY|Fatal error|==[0-9]+==" "$SCRATCH/fuzz-$target.log" | head -5 >&2 || true
    else
        grep -E "stat::number_of_executed_units|stat::new_units_added" "$SCRATCH/fuzz-$target.log" | tr '\n' ' '; echo
    fi
    if [ "${FUZZ_MERGE:-0}" = 1 ]; then
        "$binary" -merge=1 -timeout=10 -rss_limit_mb=2048 "Fuzz/corpus/$target" "$SCRATCH/corpus/$target" >> "$SCRATCH/fuzz-$target.log" 2>&1
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: failed targets: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz: every target ran ${FUZZ_SECONDS}s without a crash"
