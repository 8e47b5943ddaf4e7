#!/usr/bin/env bash
# Usage: scripts/deb.sh BIN MANPAGE       (what `make deb` runs after `make build`)
# Builds .build/deb/patchctl_VERSION_ARCH.deb with dpkg-deb from the self-contained binary BIN
# (scripts/build-release.sh) and prints its path: /usr/bin/patchctl, completions for bash, zsh and
# fish, the man page, and the systemd units in /lib/systemd/system (installed, not enabled).
# Depends: is dpkg-shlibdeps' answer for the binary: only Debian's base system (glibc, libstdc++,
# libgcc_s, zlib), so `dpkg -i` works on a fresh Debian 12 with no Swift. Built-Using: names the
# Debian sources linked in statically (libssh2, OpenSSL, SQLite): rebuild after their security updates.
# DEB_MAINTAINER overrides the Maintainer field. Needs no root (dpkg-deb --root-owner-group).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:?usage: scripts/deb.sh BIN MANPAGE}
man=${2:?usage: scripts/deb.sh BIN MANPAGE}
log() { echo "deb: $*" >&2; }
for tool in dpkg-deb dpkg-shlibdeps; do
    command -v "$tool" >/dev/null || { log "needs $tool (dpkg-dev)"; exit 1; }
done
# The version is the binary's own (`patchctl --version`: "0.1.0 (libssh2 1.11.1)").
version=$("$bin" --version | awk '{ print $1; exit }')
[[ $version =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || { log "'$bin --version' gave no usable version: '$version'"; exit 1; }
arch=$(dpkg --print-architecture)
out=$root/.build/deb
stage=$out/patchctl_${version}_$arch
rm -rf "$stage"
mkdir -p "$stage/DEBIAN"

PREFIX=/usr DESTDIR=$stage ZSHCOMPDIR=/usr/share/zsh/vendor-completions UNITDIR=/lib/systemd/system GZIP_MAN=1 \
    "$root/scripts/install.sh" "$bin" "$man"
doc=$stage/usr/share/doc/patchctl
install -d -m 0755 "$doc"
install -m 0644 "$root/packaging/debian/copyright" "$doc/copyright"

# dpkg-shlibdeps reads a source package's debian/control: a minimal one, in a scratch folder.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debian"
printf 'Source: patchctl\n\nPackage: patchctl\nArchitecture: any\n' >"$work/debian/control"
depends=$(cd "$work" && dpkg-shlibdeps -O "$stage/usr/bin/patchctl" | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { log "dpkg-shlibdeps found no dependencies"; exit 1; }

# Debian source packages whose code is inside the binary (static archives), as Built-Using wants
# them: told by their functions being defined in it (BIN has its symbol table; the package's is stripped).
nm "$bin" >"$work/symbols"
linked_in() { grep -q " [tT] $1\$" "$work/symbols"; }
source_of() { dpkg-query -W -f='${source:Package} (= ${source:Version})' "$1"; }
built_using=()
libssh2=$(sed -n '1s/^libssh2_\(.*\)\.dsc$/\1/p' "$root/.build/libssh2/prefix/SOURCE" 2>/dev/null || true)
if linked_in libssh2_session_init_ex; then
    [ -n "$libssh2" ] || { log "libssh2 is linked in, but .build/libssh2/prefix/SOURCE does not say from which source"; exit 1; }
    built_using+=("libssh2 (= $libssh2)")
fi
linked_in OPENSSL_init_crypto && built_using+=("$(source_of libssl-dev)")
linked_in sqlite3_open_v2 && built_using+=("$(source_of libsqlite3-dev)")

size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
{
    echo "Package: patchctl"
    echo "Version: $version"
    echo "Architecture: $arch"
    echo "Maintainer: ${DEB_MAINTAINER:-patchctl <patchctl@patchctl.invalid>}"
    echo "Installed-Size: $size"
    echo "Depends: $depends"
    # ssh -G answers ssh_config lookups and relays push files with ssh; xz unpacks Ubuntu's OSV feed.
    echo "Recommends: openssh-client, xz-utils"
    [ ${#built_using[@]} = 0 ] || echo "Built-Using: $(IFS=,; echo "${built_using[*]}" | sed 's/,/, /g')"
    echo "Section: admin"
    echo "Priority: optional"
    echo "Description: agentless patch discovery and orchestration over SSH"
    echo " patchctl reads Ansible inventories and deploy policies, reaches every endpoint"
    echo " over SSH (or WinRM), lists pending and security updates, deploys them by policy"
    echo " (rings, maintenance windows, approvals, reboots) and keeps every run in a local"
    echo " SQLite history, with compliance reports. One self-contained binary: no agent,"
    echo " no Swift runtime, no daemon; systemd timers for the nightly scan and deploys"
    echo " are installed but not enabled."
} >"$stage/DEBIAN/control"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"

deb=$out/patchctl_${version}_$arch.deb
# Reproducible: file times from the last commit.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >&2
log "$deb: $(du -h "$deb" | cut -f1); Depends: $depends"
echo "$deb"
