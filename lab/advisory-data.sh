#!/usr/bin/env bash
# Usage: lab/advisory-data.sh
# Writes $LAB_ROOT/advisories/bookworm.json once per built tree: the CVEs the lab tree's pending
# security updates fix, read from Debian's own changelogs of the candidate .debs (see
# lab/advisory_data.py), and the candidate .debs in $LAB_ROOT/advisories/debs (a deploy test
# seeds a tree's apt cache with them). The advisory tests build their tracker feed from it. Redone when the
# tree was rebuilt after it was written; needs the Debian mirror the tree uses.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_root
[ -f "$BASE_MARKER" ] || die "no lab tree: run lab/build-chroot.sh"
mkdir -p "$(dirname "$ADVISORY_DATA")"
exec 9>"$ADVISORY_DATA.lock"
flock 9
if [ -s "$ADVISORY_DATA" ] && [ "$ADVISORY_DATA" -nt "$BASE_MARKER" ]; then
    exit 0
fi
rm -rf "$ADVISORY_DEBS"
python3 "$LAB_SCRIPTS/advisory_data.py" "$BASE_TREE" "$ADVISORY_DATA" "$ADVISORY_DEBS" || die "recording the lab's advisory data failed"
echo "lab: advisory data in $ADVISORY_DATA"
