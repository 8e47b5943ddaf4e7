#!/usr/bin/env bash
# Usage: lab/jump/topology.sh up DIR CHROOT | down | kill a|b|c | restart DIR
# A bastion topology for the jump-host tests, made of network namespaces and veth pairs:
#
#   controller (this namespace) 10.231.0.1 --veth-- 10.231.0.2  pcj-a: bastion (port 22; port 2200
#                                                                  refuses forwarding)
#                                                   10.232.0.1 --veth-- pcj-b: 10.232.0.2 (a second bastion)
#                                                                        and 20 targets 10.232.0.10-29
#                                                                        10.233.0.1 --veth-- pcj-c: 10.233.0.2
#
# The controller reaches only the bastion's address: 10.232.0.0/24 and 10.233.0.0/24 get an
# `unreachable` route here, so a direct attempt fails at once and never leaves the machine; pcj-a
# has no route to 10.233.0.0/24, so the deep target needs the two-hop chain. Each namespace runs
# the machine's sshd (`sshd -D -e`, log in DIR/sshd-X.log) with its own host key and config;
# sessions are chrooted into CHROOT (the lab's read-only Debian tree) as the lab does. Writes the
# client key DIR/id_ed25519, DIR/known_hosts and DIR/known_hosts_wrong_bastion (another key for
# the bastion), then prints READY once every daemon answers.
# `down` (also run first by `up`) kills the daemons in the namespaces and removes every
# namespace, veth and route it made, found by name: leftovers of a crashed run go too. Root only.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "jump topology: must run as root" >&2; exit 1; }
namespaces="pcj-a pcj-b pcj-c"

down() {
    for ns in $namespaces; do
        if ip netns list | grep -qw "$ns"; then
            pids=$(ip netns pids "$ns" 2>/dev/null || true)
            [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
            ip netns del "$ns" 2>/dev/null || true
        fi
    done
    # Deleting a namespace deletes the veth ends in it, and with them their peers here.
    ip link del pcj0 2>/dev/null || true
    ip route del unreachable 10.232.0.0/24 2>/dev/null || true
    ip route del unreachable 10.233.0.0/24 2>/dev/null || true
}

if [ "${1:-}" = down ]; then
    down
    exit 0
fi
# kill X: SIGKILL to every process of namespace pcj-X (its sshd and sessions), as a crash would.
if [ "${1:-}" = kill ]; then
    pids=$(ip netns pids "pcj-$2")
    [ -z "$pids" ] || kill -9 $pids
    exit 0
fi
start_daemon() {  # start_daemon DIR X: namespace pcj-X's sshd, logging to DIR/sshd-X.log
    ip netns exec "pcj-$2" setsid /usr/sbin/sshd -D -e -f "$1/sshd-$2.conf" </dev/null >>"$1/sshd-$2.log" 2>&1 &
}
up() {  # up NS ADDRESS PORT: the daemon answers with its key
    for _ in $(seq 200); do
        [ -n "$(ip netns exec "$1" ssh-keyscan -T 1 -p "$3" "$2" 2>/dev/null)" ] && return 0
        sleep 0.05
    done
    echo "jump topology: nothing answers on $2:$3 in $1" >&2
    cat "$dir"/sshd-*.log >&2
    return 1
}
# restart DIR: the bastion's sshd again, after `kill a` (prints READY once it answers).
if [ "${1:-}" = restart ]; then
    dir=$2
    start_daemon "$dir" a
    up pcj-a 10.231.0.2 22
    echo READY
    exit 0
fi
[ "${1:-}" = up ] && [ $# = 3 ] || { echo "usage: $0 up DIR CHROOT | down" >&2; exit 2; }
dir=$(cd "$2" && pwd)
chroot=$3
[ -d "$chroot/bin" ] || { echo "jump topology: no tree at $chroot" >&2; exit 1; }
down
trap 'down' ERR

for ns in $namespaces; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
done
# controller <-> pcj-a
ip link add pcj0 type veth peer name pcj0a netns pcj-a
ip addr add 10.231.0.1/24 dev pcj0
ip link set pcj0 up
ip -n pcj-a addr add 10.231.0.2/24 dev pcj0a
ip -n pcj-a link set pcj0a up
# pcj-a <-> pcj-b
ip -n pcj-a link add pcj1 type veth peer name pcj1b netns pcj-b
ip -n pcj-a addr add 10.232.0.1/24 dev pcj1
ip -n pcj-a link set pcj1 up
ip -n pcj-b addr add 10.232.0.2/24 dev pcj1b
for n in $(seq 10 29); do ip -n pcj-b addr add "10.232.0.$n/24" dev pcj1b; done
ip -n pcj-b link set pcj1b up
# pcj-b <-> pcj-c
ip -n pcj-b link add pcj2 type veth peer name pcj2c netns pcj-c
ip -n pcj-b addr add 10.233.0.1/24 dev pcj2
ip -n pcj-b link set pcj2 up
ip -n pcj-c addr add 10.233.0.2/24 dev pcj2c
ip -n pcj-c link set pcj2c up
# Direct attempts from the controller fail at once, locally.
ip route add unreachable 10.232.0.0/24
ip route add unreachable 10.233.0.0/24

mkdir -p /run/sshd
chmod 755 /run/sshd
key() { [ -f "$1" ] || ssh-keygen -q -t ed25519 -N '' -C "$2" -f "$1"; }
key "$dir/id_ed25519" patchctl-jump-client
key "$dir/wrong_host_key" patchctl-jump-impostor
for ns in a b c; do key "$dir/host_$ns" "patchctl-jump-$ns"; done
cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
chmod 644 "$dir/authorized_keys"

config() {  # config NAME EXTRA
    cat <<CONF
PidFile none
HostKey $dir/host_$1
LogLevel VERBOSE
UseDNS no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
AllowUsers root@10.*
MaxStartups 200:30:300
PrintMotd no
PrintLastLog no
X11Forwarding no
Subsystem sftp internal-sftp
ChrootDirectory $chroot
$2
CONF
}
config a "Port 22
Port 2200
ListenAddress 10.231.0.2
AllowTcpForwarding yes
Match LocalPort 2200
    AllowTcpForwarding no" >"$dir/sshd-a.conf"
config b "Port 22
AllowTcpForwarding yes" >"$dir/sshd-b.conf"
config c "Port 22
AllowTcpForwarding no" >"$dir/sshd-c.conf"

pub() { cut -d' ' -f1,2 "$dir/$1.pub"; }
{
    echo "10.231.0.2 $(pub host_a)"
    echo "[10.231.0.2]:2200 $(pub host_a)"
    echo "10.232.0.2 $(pub host_b)"
    for n in $(seq 10 29); do echo "10.232.0.$n $(pub host_b)"; done
    echo "10.233.0.2 $(pub host_c)"
} >"$dir/known_hosts"
sed -e "s|^\(10.231.0.2\) .*|\1 $(pub wrong_host_key)|" -e "s|^\(\[10.231.0.2\]:2200\) .*|\1 $(pub wrong_host_key)|" \
    "$dir/known_hosts" >"$dir/known_hosts_wrong_bastion"

for ns in a b c; do
    /usr/sbin/sshd -t -f "$dir/sshd-$ns.conf"
    : >"$dir/sshd-$ns.log"
    start_daemon "$dir" "$ns"
done
up pcj-a 10.231.0.2 22
up pcj-a 10.231.0.2 2200
up pcj-b 10.232.0.2 22
up pcj-c 10.233.0.2 22
# ssh-keyscan's own connections are in the logs: start them empty so tests count only theirs.
for ns in a b c; do : >"$dir/sshd-$ns.log"; done
echo READY
