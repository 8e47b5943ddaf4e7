#!/usr/bin/env bash
# Usage: lab/hostile/serve.sh DIR
# A hostile endpoint for tests: the machine's real OpenSSH sshd, with its own keys and config in
# DIR, whose every session runs `ForceCommand lab/hostile/endpoint.sh`. That script answers with
# whatever DIR/scenarios/ADDRESS prints, ADDRESS being the loopback address the client connected
# to (127.0.6.N), so one daemon serves many crafted endpoints at once. Writes DIR/known_hosts and
# DIR/id_ed25519 (the client key), starts sshd in the foreground (the caller kills it: its pid is
# in DIR/sshd.pid) and prints "PORT n" once every address accepts connections. Root only (sshd's
# privilege separation); sessions are the root account but never touch anything outside DIR.
set -euo pipefail
dir=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "hostile: must run as root" >&2; exit 1; }
mkdir -p "$dir/commands" /run/sshd
chmod 755 /run/sshd
[ -f "$dir/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C patchctl-hostile-host -f "$dir/host_ed25519"
[ -f "$dir/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C patchctl-hostile-client -f "$dir/id_ed25519"
cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
chmod 644 "$dir/authorized_keys"
addresses=$(ls "$dir/scenarios")
[ -n "$addresses" ] || { echo "hostile: no scenarios in $dir/scenarios" >&2; exit 1; }
# A free port: the kernel picks one for a socket bound to port 0.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{
    echo "Port $port"
    for address in $addresses; do echo "ListenAddress $address"; done
    cat <<CONF
PidFile none
HostKey $dir/host_ed25519
LogLevel ERROR
UseDNS no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
AllowUsers root@127.*
MaxStartups 200:30:300
PrintMotd no
PrintLastLog no
X11Forwarding no
Subsystem sftp internal-sftp
SetEnv HOSTILE_DIR=$dir
ForceCommand /bin/sh $here/endpoint.sh
CONF
} >"$dir/sshd_config"
hostpub=$(cut -d' ' -f1,2 "$dir/host_ed25519.pub")
for address in $addresses; do echo "[$address]:$port $hostpub"; done >"$dir/known_hosts"
/usr/sbin/sshd -t -f "$dir/sshd_config"
/usr/sbin/sshd -D -f "$dir/sshd_config" -E "$dir/sshd.log" &
pid=$!
# The caller stops the daemon through this file with SIGKILL: a test runner may start us with
# SIGTERM blocked (Swift's does), and a blocked signal never reaches a trap.
echo $pid >"$dir/sshd.pid"
trap 'kill $pid 2>/dev/null' TERM INT
for address in $addresses; do
    for _ in $(seq 200); do
        [ -n "$(ssh-keyscan -T 1 -t ed25519 -p "$port" "$address" 2>/dev/null)" ] && break
        kill -0 $pid 2>/dev/null || { cat "$dir/sshd.log" >&2; exit 1; }
        sleep 0.05
    done
done
echo "PORT $port"
wait $pid
