#!/usr/bin/env bash
# Usage: bench/discover.sh          (what `make bench-discover` runs; root: sshd binds port 22)
# Benchmark of issue 18: the sweep of a /22 of loopback addresses (127.0.20.0/22, 1,024 addresses)
# with sshd on port 22 of 200 of them, spread over the range. Side by side, in one run:
#   nmap -sT -p22 -n --open 127.0.20.0/22          (Debian's nmap: the sweep)
#   ssh-keyscan -f LIST                            (key collection on the addresses nmap found open,
#                                                   default key types)
#   patchctl discover 127.0.20.0/22 --ports 22 --no-dns --format json -o OUT.json
#                                                  (sweep + key collection; skipped with a message
#                                                   when the binary has no `discover` subcommand)
# Each under /usr/bin/time: wall seconds and peak RSS. Prints a markdown table and checks that nmap
# found exactly the 200 addresses, and (when patchctl runs) that patchctl found the same set with
# the same banners and SHA256 fingerprints as ssh-keyscan + ssh-keygen -lf. Exit 1 if a check fails.
# Writes the table to bench/results/discover-latest.txt and a timestamped copy.
#
# The daemons: sshd accepts at most 16 listen sockets (MAX_LISTEN_SOCKS in OpenSSH's sshd.c: "Too
# many listen sockets"), so the 200 addresses are served by ceil(200/16) = 13 sshd processes, all
# with one config apart from their ListenAddress lines and one ed25519 host key, in a temporary
# directory; stopped and removed on exit. Loopback needs no setup: all of 127/8 is local on Linux.
# Nothing outside 127.0.20.0/22 is contacted.
#
# Environment (optional): PATCHCTL_BIN=.build/release/patchctl  BENCH_DISCOVER_HOSTS=200
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$BENCH")
cd "$REPO"
die() { echo "bench: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "discover: must run as root (sshd on port 22)"
BIN=${PATCHCTL_BIN:-.build/release/patchctl}
HOSTS=${BENCH_DISCOVER_HOSTS:-200}
RANGE=127.0.20.0/22
[ -x /usr/bin/time ] || die "/usr/bin/time missing: run lab/deps.sh (it installs 'time')"
command -v nmap >/dev/null || die "nmap missing: run lab/deps.sh (it installs 'nmap')"
[ "$HOSTS" -ge 1 ] && [ "$HOSTS" -le 1022 ] || die "BENCH_DISCOVER_HOSTS must be 1..1022"
# 200 daemons' worth of connections at once, in every tool.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# Port 22 of the range must be ours alone: a wildcard listener would answer on all 1,024 addresses.
if ss -Hltn 'sport = :22' | awk '{print $4}' | grep -qE '^(0\.0\.0\.0|\*|\[::\]|127\.0\.(2[0-3])\.[0-9]+):22$'; then
    ss -Hltnp 'sport = :22' >&2
    die "discover: something already listens on port 22 of $RANGE (or on all addresses); stop it first"
fi

WORK=$(mktemp -d)
pids=()
cleanup() {
    trap - EXIT INT TERM
    local p
    for p in "${pids[@]}"; do
        # Only if it is still the sshd we started (pids get reused).
        grep -qs "$WORK/sshd-" "/proc/$p/cmdline" && kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The open addresses: HOSTS offsets 1..1022 of the /22, evenly spread (never .0 of 127.0.20 nor .255 of 127.0.23).
python3 - "$HOSTS" >"$WORK/expected" <<'EOF'
import sys
n = int(sys.argv[1])
for i in range(n):
    off = 1 + (i * 1021) // max(n - 1, 1)
    print("127.0.%d.%d" % (20 + off // 256, off % 256))
EOF
[ "$(sort -u "$WORK/expected" | wc -l)" = "$HOSTS" ] || die "discover: address spread is not unique"

mkdir -p /run/sshd
chmod 755 /run/sshd
ssh-keygen -q -t ed25519 -N '' -C patchctl-bench-discover -f "$WORK/host_ed25519"
split -l 16 -d -a 2 "$WORK/expected" "$WORK/listen-"
for part in "$WORK"/listen-*; do
    n=${part##*-}
    {
        cat <<CONF
PidFile none
HostKey $WORK/host_ed25519
Port 22
UseDNS no
UsePAM no
LogLevel ERROR
PermitRootLogin no
PubkeyAuthentication no
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile none
MaxStartups 1000:30:1000
CONF
        sed 's/^/ListenAddress /' "$part"
    } >"$WORK/sshd-$n.conf"
    /usr/sbin/sshd -t -f "$WORK/sshd-$n.conf"
    /usr/sbin/sshd -D -f "$WORK/sshd-$n.conf" -E "$WORK/sshd-$n.log" </dev/null &
    pids+=($!)
done
daemons=${#pids[@]}
# Ready when every address listens (the daemons bind before they accept).
listening() { ss -Hltn 'sport = :22' | awk '{print $4}' | grep -cE '^127\.0\.(2[0-3])\.[0-9]+:22$' || true; }
for _ in $(seq 400); do
    [ "$(listening)" = "$HOSTS" ] && break
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || { cat "$WORK"/sshd-*.log >&2; die "discover: an sshd exited"; }; done
    sleep 0.05
done
[ "$(listening)" = "$HOSTS" ] || { cat "$WORK"/sshd-*.log >&2; die "discover: only $(listening) of $HOSTS addresses listen"; }

rows=()
failed=0
check() {  # check MESSAGE CMD...: ok when CMD succeeds
    local message=$1
    shift
    if "$@"; then echo "check: ok   $message"; else echo "check: FAIL $message"; failed=1; fi
}
measure() {  # measure NAME CMD...: "WALL RSS_KB" in $WORK/NAME.time, output in NAME.out/.err
    local name=$1
    shift
    /usr/bin/time -f '%e %M' -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" ||
        { cat "$WORK/$name.err" >&2; echo "bench: $name failed" >&2; return 1; }
}
row() {  # row TOOL WHAT NAME FOUND
    local wall rss
    read -r wall rss <"$WORK/$3.time"
    rows+=("$(printf '| %s | %s | %s | %.1f | %s |' "$1" "$2" "$wall" "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" "$4")")
}

# 1. nmap: the sweep (TCP connect, as patchctl does).
measure nmap nmap -sT -p22 -n --open -oG "$WORK/nmap.gnmap" "$RANGE"
awk '/Ports: 22\/open\// {print $2}' "$WORK/nmap.gnmap" | sort -u >"$WORK/nmap.found"
row nmap "-sT -p22 -n --open $RANGE" nmap "$(wc -l <"$WORK/nmap.found")"
sort -u "$WORK/expected" >"$WORK/expected.sorted"
check "nmap found exactly the $HOSTS addresses ($(wc -l <"$WORK/nmap.found") found)" cmp -s "$WORK/nmap.found" "$WORK/expected.sorted"

# 2. ssh-keyscan: every default key type of the addresses nmap found open.
measure keyscan ssh-keyscan -f "$WORK/nmap.found"
awk '!/^#/ && NF >= 3 {print $1}' "$WORK/keyscan.out" | sort -u >"$WORK/keyscan.found"
row ssh-keyscan "-f LIST ($(wc -l <"$WORK/nmap.found") addresses, default key types)" keyscan "$(wc -l <"$WORK/keyscan.found")"
check "ssh-keyscan got keys from every address nmap found" cmp -s "$WORK/keyscan.found" "$WORK/nmap.found"
# address fingerprint, and address banner (ssh-keyscan prints "# ADDRESS:22 BANNER" on stderr)
ssh-keygen -lf "$WORK/keyscan.out" | awk '{print $3, $2}' | sort -u >"$WORK/keyscan.fp"
sed -n 's/^# \([0-9.]*\):22 \(SSH-.*\)$/\1 \2/p' "$WORK/keyscan.err" | sort -u >"$WORK/keyscan.banner"

# 3. patchctl discover: sweep and key collection in one.
if [ -x "$BIN" ] && "$BIN" discover --help >/dev/null 2>&1; then
    measure patchctl "$BIN" discover "$RANGE" --ports 22 --no-dns --format json -o "$WORK/patchctl.json" --db "$WORK/history.db"
    python3 - "$WORK/patchctl.json" "$WORK" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
work = sys.argv[2]
found, fps, banners = set(), set(), set()
for host in doc["hosts"]:
    for ssh in host.get("ssh") or []:
        if ssh.get("port") != 22:
            continue
        found.add(host["address"])
        if ssh.get("banner"):
            banners.add("%s %s" % (host["address"], ssh["banner"]))
        for key in ssh.get("keys") or []:
            fps.add("%s %s" % (host["address"], key["fingerprint"]))
for name, lines in (("found", found), ("fp", fps), ("banner", banners)):
    with open("%s/patchctl.%s" % (work, name), "w") as f:
        f.writelines(line + "\n" for line in sorted(lines))
EOF
    sort -o "$WORK/patchctl.found" "$WORK/patchctl.found"
    sort -o "$WORK/patchctl.fp" "$WORK/patchctl.fp"
    sort -o "$WORK/patchctl.banner" "$WORK/patchctl.banner"
    row patchctl "discover $RANGE --ports 22 --no-dns (sweep + keys)" patchctl "$(wc -l <"$WORK/patchctl.found")"
    check "patchctl found the same $(wc -l <"$WORK/nmap.found") addresses as nmap" cmp -s "$WORK/patchctl.found" "$WORK/nmap.found"
    check "patchctl's fingerprints equal ssh-keyscan | ssh-keygen -lf ($(wc -l <"$WORK/keyscan.fp") keys)" cmp -s "$WORK/patchctl.fp" "$WORK/keyscan.fp"
    check "patchctl's banners equal ssh-keyscan's" cmp -s "$WORK/patchctl.banner" "$WORK/keyscan.banner"
    [ "$failed" = 0 ] || diff "$WORK/keyscan.fp" "$WORK/patchctl.fp" | head -20 >&2 || true
    # 4. patchctl discover --ports-only: the sweep alone, what nmap -sT answers.
    measure sweep "$BIN" discover "$RANGE" --ports 22 --ports-only --no-dns --format json -o "$WORK/sweep.json" --db "$WORK/history.db"
    python3 -c 'import json,sys; [print(h["address"]) for h in json.load(open(sys.argv[1]))["hosts"] if 22 in h["open_ports"]]' \
        "$WORK/sweep.json" | sort >"$WORK/sweep.found"
    row patchctl "discover $RANGE --ports 22 --ports-only --no-dns (sweep)" sweep "$(wc -l <"$WORK/sweep.found")"
    check "patchctl --ports-only found the same addresses as nmap" cmp -s "$WORK/sweep.found" "$WORK/nmap.found"
    # The issue's targets: the sweep within 1.5x of nmap's wall time, key collection faster than ssh-keyscan.
    read -r nmap_wall _ <"$WORK/nmap.time"
    read -r sweep_wall _ <"$WORK/sweep.time"
    read -r keyscan_wall _ <"$WORK/keyscan.time"
    read -r patchctl_wall _ <"$WORK/patchctl.time"
    check "sweep ${sweep_wall}s within 1.5x of nmap's ${nmap_wall}s" awk -v a="$sweep_wall" -v b="$nmap_wall" 'BEGIN {exit !(a <= 1.5 * b)}'
    check "sweep + keys ${patchctl_wall}s faster than ssh-keyscan's ${keyscan_wall}s" awk -v a="$patchctl_wall" -v b="$keyscan_wall" 'BEGIN {exit !(a < b)}'
else
    echo "bench: patchctl skipped: $BIN has no 'discover' subcommand ('$BIN discover --help' fails; build it: make build)" >&2
fi

mkdir -p "$BENCH/results"
{
    echo "discover: $RANGE (1024 addresses), sshd on $HOSTS of them ($daemons sshd processes, ed25519 host key), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "$(nmap --version | head -1); $(ssh -V 2>&1)"
    [ "${#rows[@]}" -lt 3 ] || echo "binary: $BIN ($("$BIN" --version 2>/dev/null | head -1))"
    echo
    echo "| tool | what | wall s | peak RSS MB | hosts found |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
} | tee "$BENCH/results/discover-latest.txt"
cp "$BENCH/results/discover-latest.txt" "$BENCH/results/discover-$(date -u +%Y%m%dT%H%M%SZ).txt"
[ "$failed" = 0 ] || die "discover: a check failed (see above)"
