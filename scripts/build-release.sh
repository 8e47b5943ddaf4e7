#!/usr/bin/env bash
# Usage: scripts/build-release.sh            (SWIFT=… picks the toolchain, CONFIG=debug|release)
# Builds the patchctl that `make install` and `make deb` ship, and prints its path; also its man
# page, .build/man/patchctl.1 (scripts/manpage.sh), so that installing compiles nothing.
#
# Self-contained, so that it runs where no Swift toolchain is: Swift's runtime, Foundation and
# every package (NIO, NIOSSL's BoringSSL, swift-subprocess, ...) are linked in by
# --static-swift-stdlib; so are libssh2 1.11 (Debian 12 has 1.10: scripts/libssh2.sh), the OpenSSL
# it signs with and SQLite, taken from Debian's -dev packages. What stays dynamic is in every Debian
# base system (debootstrap's minbase): glibc, libstdc++, libgcc_s and zlib. The result is checked:
# a library from the toolchain, or from any other package, fails the build. Never needs root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
SWIFT=${SWIFT:-$(command -v swift || echo /opt/swift/usr/bin/swift)}
CONFIG=${CONFIG:-release}
log() { echo "build-release: $*" >&2; }

scripts/build-deps.sh --build
pkgconfig=$(scripts/libssh2.sh)

# SwiftPM links `-lssl -lcrypto` (libssh2.pc) and `-lsqlite3` (GRDB): a folder holding only the
# static archives, searched before the system's, makes the linker take those instead of the .so.
static=$root/.build/static-libs
mkdir -p "$static"
for lib in ssl crypto sqlite3; do
    archive=$(cc -print-file-name="lib$lib.a")
    [ -f "$archive" ] || { log "lib$lib.a not found (libssl-dev, libsqlite3-dev)"; exit 1; }
    ln -sfn "$archive" "$static/lib$lib.a"
done

PKG_CONFIG_PATH="$pkgconfig" "$SWIFT" build -c "$CONFIG" --product patchctl --static-swift-stdlib \
    -Xlinker -L"$static" >&2
bin=$root/.build/$CONFIG/patchctl

# The packages whose libraries the binary may load: Debian's base system, nothing else.
allowed=" libc6 libstdc++6 libgcc-s1 zlib1g "
# dpkg knows a file by the path its package ships it at, /lib or /usr/lib (merged /usr).
owner() {
    local p
    for p in "$1" "$(realpath "$1")" "${1#/usr}" "/usr$1"; do
        dpkg -S "$p" 2>/dev/null | sed -n '1s/[:,].*//p' | grep . && return 0
    done
    return 0
}
bad=()
while read -r name path; do
    [ -n "$path" ] || { bad+=("$name (not found)"); continue; }
    package=$(owner "$path")
    [[ $allowed == *" $package "* ]] || bad+=("$name (${package:-$path})")
done < <(ldd "$bin" | awk '$2 == "=>" { print $1, ($3 ~ /^\//) ? $3 : "" }')
runpath=$(readelf -d "$bin" | sed -n 's/.*(RUN\?PATH).*\[\(.*\)\]/\1/p')
case $runpath in *swift*) bad+=("RUNPATH $runpath") ;; esac
if [ ${#bad[@]} != 0 ]; then
    log "$bin needs more than Debian's base system: ${bad[*]}"
    exit 1
fi
scripts/manpage.sh "$bin" "$root/.build/man"
echo "$bin"
