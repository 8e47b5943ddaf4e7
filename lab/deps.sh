#!/usr/bin/env bash
# Usage: lab/deps.sh
# Installs the Debian packages the lab needs, if missing (Debian 12, as root).
# The lab runs its own sshd; the machine's ssh service is NOT wanted, so when
# openssh-server is newly installed we create /etc/ssh/sshd_not_to_be_run,
# Debian's switch that keeps the system sshd (systemd unit and init script)
# from starting, now and at boot. Delete that file if you want it back.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_root

# rpm (rpmbuild) and createrepo-c (createrepo_c, modifyrepo_c): the RHEL-family
# endpoint's packages and repositories (lab/build-rhel.sh).
PKGS=(debootstrap openssh-server openssh-client dpkg-dev util-linux procps rpm createrepo-c)
# WinRM tests (lab/winrm): pywinrm's private venv and the test CA.
PKGS+=(python3 python3-venv openssl)
# Jump-host tests (lab/jump/topology.sh): network namespaces and veth pairs.
PKGS+=(iproute2)
# Benchmarks' time and memory figures (bench/advisories-sync.sh, bench/discover.sh): GNU time.
PKGS+=(time)
# The discover benchmark's reference sweep (bench/discover.sh): Debian's nmap.
PKGS+=(nmap)
# The shared history's tests (Tests/LabSupport/PostgresServer.swift): each starts its own cluster with
# initdb/pg_ctl as nobody, so the package's own "main" cluster is not wanted (see below).
PKGS+=(postgresql)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0

if ! dpkg-query -W -f='${db:Status-Abbrev}' openssh-server 2>/dev/null | grep -q '^ii'; then
    mkdir -p /etc/ssh
    touch /etc/ssh/sshd_not_to_be_run
fi

if ! dpkg-query -W -f='${db:Status-Abbrev}' postgresql-common 2>/dev/null | grep -q '^ii'; then
    # postgresql-common's switch: no cluster (nor its service) is created when the server is installed.
    mkdir -p /etc/postgresql-common
    [ -e /etc/postgresql-common/createcluster.conf ] || echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
# A broken third-party source must not stop us; install fails loudly if needed.
apt-get update >"$log" 2>&1 || echo "lab: warning: apt-get update failed, trying install anyway" >&2
apt-get install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1 ||
    { tail -n 30 "$log" >&2; die "apt-get install ${missing[*]} failed"; }
