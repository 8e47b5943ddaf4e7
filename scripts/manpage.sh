#!/usr/bin/env bash
# Usage: scripts/manpage.sh BIN OUTDIR     (SWIFT=… picks the toolchain)
# Writes OUTDIR/patchctl.1, the man page, generated from BIN's ArgumentParser definitions (every
# subcommand, option and help text) by swift-argument-parser's own generate-manual tool.
#
# Why the tool and not `swift package plugin generate-manual`: the plugin first rebuilds every
# product in release mode with plain flags, which relinks .build/release/patchctl without
# --static-swift-stdlib over the binary scripts/build-release.sh made. The tool is the same
# code the plugin runs; it is built here from the checkout SwiftPM already resolved (offline),
# into a scratch folder of its own.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:?usage: scripts/manpage.sh BIN OUTDIR}
out=${2:?usage: scripts/manpage.sh BIN OUTDIR}
SWIFT=${SWIFT:-$(command -v swift || echo /opt/swift/usr/bin/swift)}
parser=$root/.build/checkouts/swift-argument-parser
[ -f "$parser/Package.swift" ] || { echo "manpage: $parser missing: build patchctl first" >&2; exit 1; }
scratch=$root/.build/generate-manual
"$SWIFT" build --package-path "$parser" --scratch-path "$scratch" -c release --product generate-manual >&2
# The page's date: the last commit's (reproducible), else today.
date=$(git -C "$root" log -1 --format=%cs 2>/dev/null || date -u +%F)
mkdir -p "$out"
"$scratch/release/generate-manual" "$bin" --date "$date" --output-directory "$out" >&2
[ -s "$out/patchctl.1" ] || { echo "manpage: generate-manual wrote no $out/patchctl.1" >&2; exit 1; }
