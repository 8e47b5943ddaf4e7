#!/usr/bin/env bash
# Usage: scripts/libssh2.sh
# Prints the pkg-config directory patchctl must build against, or nothing when the system's
# libssh2 is new enough.
#
# Why: RSA keys need rsa-sha2-256/512 signatures (OpenSSH >= 8.8 refuses SHA-1 `ssh-rsa`), which
# arrived in libssh2 1.11; Debian 12 ships 1.10. When the system's libssh2 is older than 1.11 this
# builds Debian's own libssh2 source package from the current stable release (trixie, with
# Debian's security patches), as a static library linked into the one patchctl binary: no new
# runtime package, the same two-command set-up. apt verifies the source package against
# Debian's signed Release file (debian-archive-keyring). Built once per checkout into
# .build/libssh2/ (about 30 s); the system's libssh2 is never replaced.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
minimum=1.11
suite=${PATCHCTL_LIBSSH2_SUITE:-trixie}
if pkg-config --atleast-version="$minimum" libssh2 2>/dev/null && [ -z "${PATCHCTL_LIBSSH2_BUILD:-}" ]; then
    exit 0
fi
work=$root/.build/libssh2
prefix=$work/prefix
if [ -f "$prefix/lib/pkgconfig/libssh2.pc" ] && [ -f "$prefix/lib/libssh2.a" ]; then
    echo "$prefix/lib/pkgconfig"
    exit 0
fi
log() { echo "libssh2: $*" >&2; }
for tool in apt-get dpkg-source make cc; do
    command -v "$tool" >/dev/null || { log "needs $tool (scripts/build-deps.sh installs it)"; exit 1; }
done
rm -rf "$work.tmp"
apt=$work.tmp/apt
mkdir -p "$apt/etc/sources.list.d" "$apt/etc/preferences.d" "$apt/lists/partial" "$apt/cache/archives/partial" "$work.tmp/src"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" >"$apt/etc/sources.list"
opts=(-o "Dir::Etc=$apt/etc" -o "Dir::Etc::SourceList=$apt/etc/sources.list" -o "Dir::Etc::SourceParts=$apt/etc/sources.list.d"
      -o "Dir::State=$apt" -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "Debug::NoLocking=1"
      -o "APT::Sandbox::User=root" -qq)
log "system libssh2 is older than $minimum: building Debian $suite's source package (static)"
apt-get "${opts[@]}" update >&2
(cd "$work.tmp/src" && apt-get "${opts[@]}" source --download-only libssh2 >&2)
dsc=$(ls "$work.tmp/src"/libssh2_*.dsc)
log "source package $(basename "$dsc")"
(cd "$work.tmp/src" && dpkg-source --no-check -x "$dsc" tree >/dev/null)
tree=$work.tmp/src/tree
# Debian's own hardening flags; PIC because the library ends up in a position-independent binary.
(cd "$tree" && CFLAGS="$(dpkg-buildflags --get CFLAGS) -fPIC" CPPFLAGS="$(dpkg-buildflags --get CPPFLAGS)" \
    ./configure --prefix="$prefix" --disable-shared --enable-static --with-crypto=openssl --without-libz \
        --disable-examples-build --disable-docker-tests --disable-rpath >"$work.tmp/configure.log" 2>&1) ||
    { log "configure failed, see $work.tmp/configure.log"; exit 1; }
make -C "$tree/src" -j"$(nproc)" >"$work.tmp/make.log" 2>&1 || { log "make failed, see $work.tmp/make.log"; exit 1; }
rm -rf "$prefix"
make -C "$tree/src" install >/dev/null
make -C "$tree" install-includeHEADERS >/dev/null
version=$(sed -n 's/^#define LIBSSH2_VERSION *"\(.*\)"/\1/p' "$prefix/include/libssh2.h")
mkdir -p "$prefix/lib/pkgconfig"
# SwiftPM reads only `Libs`, so OpenSSL (what the static library needs) is listed there, and the
# folder holds no libssh2.so for the linker to prefer.
cat >"$prefix/lib/pkgconfig/libssh2.pc" <<PC
prefix=$prefix
Name: libssh2
Description: libssh2 $version from Debian $suite's source package, static (scripts/libssh2.sh)
Version: $version
Libs: -L\${prefix}/lib -lssh2 -lssl -lcrypto
Cflags: -I\${prefix}/include
PC
rm -f "$prefix/lib/libssh2.la"
echo "$(basename "$dsc")" >"$prefix/SOURCE"
rm -rf "$work.tmp"
log "built libssh2 $version into $prefix"
echo "$prefix/lib/pkgconfig"
