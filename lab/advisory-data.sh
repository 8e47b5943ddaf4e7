#!/usr/bin/env bash
# Usage: lab/advisory-data.sh
# Writes $LAB_ROOT/advisories/bookworm.json once per built tree: the CVEs the lab tree's pending
# security updates fix, read from Debian's own changelogs of the candidate .debs (see
# lab/advisory_data.py). The advisory tests build their tracker feed from it. Redone when the
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
python3 "$LAB_SCRIPTS/advisory_data.py" "$BASE_TREE" "$ADVISORY_DATA" || die "recording the lab's advisory data failed"
echo "lab: advisory data in $ADVISORY_DATA"
