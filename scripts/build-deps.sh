#!/usr/bin/env bash
# Usage: scripts/build-deps.sh [--build]
# Installs the Debian packages patchctl builds against and its tests use, if missing (Debian 12, as root).
# Swift itself is expected at /opt/swift or on PATH.
# --build: only what building and installing the release binary needs (`make build`, `make install`,
# `make deb`). With all of it present this does nothing, as any user; with some missing it installs
# them as root, and otherwise names them and fails: a non-root `make install` never needs root.
set -euo pipefail
# libssh2-1-dev, libsqlite3-dev (with zlib1g-dev and libssl-dev, which libssh2-1-dev depends on) and
# pkg-config: what patchctl links. dpkg-dev, gcc, make, debian-archive-keyring: scripts/libssh2.sh
# builds libssh2 1.11 from Debian's source package when the system's is older (Debian 12);
# dpkg-dev also gives `make deb` dpkg-shlibdeps.
BUILD=(libssh2-1-dev libsqlite3-dev zlib1g-dev libssl-dev pkg-config dpkg-dev gcc make debian-archive-keyring)
# chromium, fonts-dejavu-core and python3 (standard library only): the HTML compliance report's
# test opens it in headless Chromium and decodes the screenshot.
# xz-utils: advisory feeds come as Ubuntu's osv-all.tar.xz, decompressed by the system's xz.
# openssh-client: `ssh -G` answers ssh_config lookups, and the ssh_config tests compare the
# built-in reader with it.
# systemd (systemd-analyze verify) and man-db: the packaging test checks the installed units and man page.
# prometheus: only its promtool, which validates `patchctl metrics` output (`promtool check metrics`)
# in the metrics tests; the server it brings is stopped and disabled below when newly installed.
TEST=(chromium fonts-dejavu-core python3 xz-utils openssh-client systemd man-db prometheus)
case ${1:-} in
    --build) PKGS=("${BUILD[@]}") ;;
    "") PKGS=("${BUILD[@]}" "${TEST[@]}") ;;
    *) echo "usage: scripts/build-deps.sh [--build]" >&2; exit 64 ;;
esac
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0
[ "$(id -u)" = 0 ] || { echo "build-deps: missing ${missing[*]}: install them as root (apt-get install ${missing[*]})" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null 2>&1 || echo "build-deps: warning: apt-get update failed, trying install anyway" >&2
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
