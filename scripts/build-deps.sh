#!/usr/bin/env bash
# Usage: scripts/build-deps.sh
# Installs the Debian packages patchctl builds against, if missing (Debian 12, as root).
# Swift itself is expected at /opt/swift or on PATH.
set -euo pipefail
# chromium, fonts-dejavu-core and python3 (standard library only): the HTML compliance report's
# test opens it in headless Chromium and decodes the screenshot.
# libssl-dev, dpkg-dev, gcc, make, debian-archive-keyring: scripts/libssh2.sh builds libssh2 1.11 from
# Debian's source package when the system's is older (Debian 12).
PKGS=(libssh2-1-dev libsqlite3-dev pkg-config chromium fonts-dejavu-core python3
      libssl-dev dpkg-dev gcc make debian-archive-keyring)
missing=()
# zlib1g-dev and xz-utils: advisory feeds come gzipped, as OSV zips (deflate) and as Ubuntu's
# osv-all.tar.xz, which is decompressed by the system's xz.
PKGS+=(zlib1g-dev xz-utils)
# openssh-client: `ssh -G` answers ssh_config lookups, and the ssh_config tests compare the
# built-in reader with it.
PKGS+=(openssh-client)
# prometheus: only its promtool, which validates `patchctl metrics` output (`promtool check metrics`)
# in the metrics tests; the server it brings is stopped and disabled below when newly installed.
PKGS+=(prometheus)
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0
[ "$(id -u)" = 0 ] || { echo "build-deps: need root to install ${missing[*]}" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null 2>&1 || echo "build-deps: warning: apt-get update failed, trying install anyway" >&2
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
