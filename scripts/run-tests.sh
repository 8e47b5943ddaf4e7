#!/usr/bin/env bash
# `make test`'s last step: `swift test`, its whole output kept in .build/test.log. When it fails,
# the end of the output (all a CI page may show) repeats what matters: the failed tests and
# issues, the tests that started but never finished (what was running when the process died),
# and the crashed thread's backtrace.
set -uo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
log=.build/test.log
mkdir -p .build
# A crash prints the crashing thread only, without registers and image lists, so it stays readable.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=yes,interactive=no,color=no,threads=crashed,registers=none,images=mentioned}
"$SWIFT" test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] && exit 0

echo
echo "==== swift test failed (exit $status); whole output in $log ===="
echo "-- recorded issues (the first 15, each cut at 300 characters):"
grep -E '^✘ Test .* recorded an issue' "$log" | cut -c1-300 | head -15
echo "-- failed tests:"
grep -E '^✘ Test .* failed after' "$log" | grep -v '^✘ Test run with' | sed -E 's/ failed after .*//' | head -30
echo "-- tests started but never finished:"
python3 - "$log" <<'PY'
import re, sys
started, ended = {}, set()
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    # A parameterized test's cases start on their own lines; the test itself ends once, "with N test cases".
    m = re.match(r"^\u25c7 Test (.+?) started\.", line)
    if m and m.group(1) != "run" and not m.group(1).startswith("case passing"):
        started[m.group(1)] = True
        continue
    m = re.match(r"^[\u2714\u2718\u21b7] Test (.+?)(?: with \d+ test cases?)? (passed|failed|skipped)", line)
    if m:
        ended.add(m.group(1))
for name in started:
    if name not in ended:
        print("   ", name)
PY
if grep -q '^\*\*\* Program crashed' "$log"; then
    echo "-- crash (the crashed thread; the rest of the backtrace is in $log):"
    sed -n '/^\*\*\* Program crashed/,/^Images/p' "$log" | head -80
fi
exit "$status"
