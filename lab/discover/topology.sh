#!/usr/bin/env bash
# Usage: lab/discover/topology.sh up DIR CHROOT | down | rekey DIR | kill
# The network the discover tests sweep: the /28 10.234.0.16/28, held by one network namespace.
#
#   controller (this namespace) pcd0 10.234.1.1/30 --veth-- pcd0a 10.234.1.2/30  pcd-a, which also holds
#     10.234.0.17  sshd :22, host key rsa (3072 bits) only
#     10.234.0.18  sshd :22, host keys ed25519 + ecdsa (nistp256) only
#     10.234.0.19  sshd :22 and :2222, host key ed25519 only; root logs in with DIR/id_ed25519,
#                  sessions chrooted into CHROOT (the lab's read-only Debian tree)
#     10.234.0.20  WS-Management-like listeners (lab/discover/wsman.py): HTTP on 5985, HTTPS on 5986
#                  (a self-signed certificate), nothing on 22
#     10.234.0.21  held, nothing listens: connection refused
#
# The controller gets `unreachable 10.234.0.16/28` and a /32 route via 10.234.1.2 for each of .17-.21:
# a probe of any other address of the range fails at once, locally, and never leaves the machine.
# pcd-a has no default route: it reaches only 10.234.1.0/30 (its connected route).
# One sshd per address (each with its own key set; `sshd -D -e`, config DIR/sshd-NN.conf, log
# DIR/sshd-NN.log, pid DIR/sshd-NN.pid), the listener logs to DIR/wsman.log. Host keys
# DIR/host_17_rsa, host_18_ed25519, host_18_ecdsa, host_19_ed25519 (with .pub; made once per DIR),
# client key DIR/id_ed25519 and DIR/authorized_keys. Prints READY once every daemon answers.
# `down` (also run first by `up`) kills every process in pcd-a and removes the namespace, the veth
# and the routes, found by name: leftovers of a crashed run go too.
# `rekey DIR`: a new ed25519 host key for 10.234.0.19, and its sshd restarted (only that one); prints
# READY once it answers with the new key. `kill`: SIGKILL to every process of pcd-a, as a crash would.
# Root only.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "discover topology: must run as root" >&2; exit 1; }
ns=pcd-a
here=$(cd "$(dirname "$0")" && pwd)
hosts="17 18 19 20 21"

down() {
    if ip netns list | grep -qw "$ns"; then
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
    fi
    # Deleting the namespace deletes pcd0a, and with it its peer here (and the routes via it).
    ip link del pcd0 2>/dev/null || true
    for n in $hosts; do ip route del "10.234.0.$n/32" 2>/dev/null || true; done
    ip route del unreachable 10.234.0.16/28 2>/dev/null || true
}

usage() { echo "usage: $0 up DIR CHROOT | down | rekey DIR | kill" >&2; exit 2; }

case "${1:-}" in
down)
    down
    exit 0 ;;
kill)
    pids=$(ip netns pids "$ns")
    [ -z "$pids" ] || kill -9 $pids
    exit 0 ;;
up) [ $# = 3 ] || usage ;;
rekey) [ $# = 2 ] || usage ;;
*) usage ;;
esac
dir=$(cd "$2" && pwd)

start_sshd() {  # start_sshd NN: address 10.234.0.NN's sshd; its pid in DIR/sshd-NN.pid
    # `ip netns exec` and setsid (not a group leader here: no job control) exec, so $! is sshd.
    ip netns exec "$ns" setsid /usr/sbin/sshd -D -e -f "$dir/sshd-$1.conf" </dev/null >>"$dir/sshd-$1.log" 2>&1 &
    echo $! >"$dir/sshd-$1.pid"
}
fingerprints() {  # fingerprints ADDRESS PORT: the SHA256 fingerprints it offers, sorted, from here
    ssh-keyscan -T 1 -p "$2" "$1" 2>/dev/null | ssh-keygen -lf - 2>/dev/null | awk '{print $2}' | sort
}
answers() {  # answers ADDRESS PORT [FINGERPRINT]: waits until it answers (with that host key)
    local got
    for _ in $(seq 200); do
        # ssh-keyscan exits 255 until the daemon listens: under `set -e` that must not end the wait.
        got=$(fingerprints "$1" "$2" || true)
        if [ -n "$got" ] && { [ -z "${3:-}" ] || [ "$got" = "$3" ]; }; then return 0; fi
        sleep 0.05
    done
    echo "discover topology: nothing answers on $1:$2${3:+ with $3}" >&2
    cat "$dir"/sshd-*.log "$dir/wsman.log" >&2 2>/dev/null || true
    return 1
}
fingerprint_of() { ssh-keygen -lf "$1" | awk '{print $2}'; }

if [ "$1" = rekey ]; then
    [ -f "$dir/sshd-19.conf" ] || { echo "discover topology: no topology in $dir" >&2; exit 1; }
    pid=$(cat "$dir/sshd-19.pid")
    # The daemon and its connections' processes (its descendants), and only those.
    victims=$(ps -e -o pid=,ppid= | awk -v root="$pid" '
        { parent[$1] = $2 }
        END { found[root] = 1; n = 1
              while (n) { n = 0; for (p in parent) if (!(p in found) && (parent[p] in found)) { found[p] = 1; n = 1 } }
              for (p in found) print p }')
    kill -9 $victims 2>/dev/null || true
    while [ -d "/proc/$pid" ] && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ]; do sleep 0.01; done
    rm -f "$dir/host_19_ed25519" "$dir/host_19_ed25519.pub"
    ssh-keygen -q -t ed25519 -N '' -C patchctl-discover-19-rekeyed -f "$dir/host_19_ed25519"
    start_sshd 19
    answers 10.234.0.19 22 "$(fingerprint_of "$dir/host_19_ed25519.pub")"
    answers 10.234.0.19 2222 "$(fingerprint_of "$dir/host_19_ed25519.pub")"
    : >"$dir/sshd-19.log"
    echo READY
    exit 0
fi

chroot=$3
[ -d "$chroot/bin" ] || { echo "discover topology: no tree at $chroot" >&2; exit 1; }
down
trap 'down' ERR

ip netns add "$ns"
ip -n "$ns" link set lo up
ip link add pcd0 type veth peer name pcd0a netns "$ns"
ip addr add 10.234.1.1/30 dev pcd0
ip link set pcd0 up
ip -n "$ns" addr add 10.234.1.2/30 dev pcd0a
for n in $hosts; do ip -n "$ns" addr add "10.234.0.$n/32" dev pcd0a; done
ip -n "$ns" link set pcd0a up
# The rest of the range fails at once, here; the five test addresses go to pcd-a.
ip route add unreachable 10.234.0.16/28
for n in $hosts; do ip route add "10.234.0.$n/32" via 10.234.1.2 dev pcd0; done

mkdir -p /run/sshd
chmod 755 /run/sshd
key() {  # key FILE TYPE BITS COMMENT: made once per DIR
    [ -f "$1" ] || ssh-keygen -q -t "$2" ${3:+-b "$3"} -N '' -C "$4" -f "$1"
}
key "$dir/id_ed25519" ed25519 "" patchctl-discover-client
key "$dir/host_17_rsa" rsa 3072 patchctl-discover-17
key "$dir/host_18_ed25519" ed25519 "" patchctl-discover-18
key "$dir/host_18_ecdsa" ecdsa 256 patchctl-discover-18
key "$dir/host_19_ed25519" ed25519 "" patchctl-discover-19
cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
chmod 644 "$dir/authorized_keys"

config() {  # config NN HOSTKEYS... -- EXTRA
    local nn=$1
    shift
    echo "PidFile none"
    while [ "$1" != -- ]; do echo "HostKey $dir/$1"; shift; done
    cat <<CONF
ListenAddress 10.234.0.$nn
LogLevel VERBOSE
UseDNS no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
AllowUsers root@10.*
MaxStartups 200:30:300
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding no
$2
CONF
}
# Only .19 lets anyone in; .17 and .18 offer publickey and accept no key.
config 17 host_17_rsa -- "Port 22
PubkeyAuthentication yes
AuthorizedKeysFile none" >"$dir/sshd-17.conf"
config 18 host_18_ed25519 host_18_ecdsa -- "Port 22
PubkeyAuthentication yes
AuthorizedKeysFile none" >"$dir/sshd-18.conf"
config 19 host_19_ed25519 -- "Port 22
Port 2222
PubkeyAuthentication yes
AuthorizedKeysFile $dir/authorized_keys
Subsystem sftp internal-sftp
ChrootDirectory $chroot" >"$dir/sshd-19.conf"

for n in 17 18 19; do
    /usr/sbin/sshd -t -f "$dir/sshd-$n.conf"
    : >"$dir/sshd-$n.log"
    start_sshd "$n"
done
: >"$dir/wsman.log"
ip netns exec "$ns" setsid /usr/bin/python3 "$here/wsman.py" 10.234.0.20 5985 </dev/null >>"$dir/wsman.log" 2>&1 &
echo $! >"$dir/wsman.pid"
# WinRM over HTTPS on 5986, with a self-signed certificate as a fresh Windows listener has.
[ -f "$dir/wsman.crt" ] || openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=wsman-lab" \
    -keyout "$dir/wsman.key" -out "$dir/wsman.crt" >/dev/null 2>&1
: >"$dir/wsman-tls.log"
ip netns exec "$ns" setsid /usr/bin/python3 "$here/wsman.py" 10.234.0.20 5986 --tls "$dir/wsman.crt" "$dir/wsman.key" \
    </dev/null >>"$dir/wsman-tls.log" 2>&1 &

answers 10.234.0.17 22 "$(fingerprint_of "$dir/host_17_rsa.pub")"
answers 10.234.0.18 22 "$( (fingerprint_of "$dir/host_18_ed25519.pub"; fingerprint_of "$dir/host_18_ecdsa.pub") | sort)"
answers 10.234.0.19 22 "$(fingerprint_of "$dir/host_19_ed25519.pub")"
answers 10.234.0.19 2222 "$(fingerprint_of "$dir/host_19_ed25519.pub")"
# The listener prints LISTENING once its socket listens.
for log in wsman.log wsman-tls.log; do
    for _ in $(seq 200); do grep -q '^LISTENING' "$dir/$log" && break; sleep 0.05; done
    grep -q '^LISTENING' "$dir/$log" || { echo "discover topology: a wsman listener did not start" >&2; cat "$dir/$log" >&2; down; exit 1; }
done
# ssh-keyscan's own connections are in the logs: start them empty so tests count only theirs.
for n in 17 18 19; do : >"$dir/sshd-$n.log"; done
echo READY
