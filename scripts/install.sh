#!/usr/bin/env bash
# Usage: scripts/install.sh BIN MANPAGE       (what `make install` runs after `make build`)
# Installs the binary BIN, its shell completions, the man page MANPAGE (scripts/manpage.sh) and the
# example systemd units under $DESTDIR$PREFIX. Compiles nothing and needs no root: any PREFIX the
# user can write to will do (`make install PREFIX=$HOME/.local`). scripts/deb.sh lays out its
# package with it too.
#
# Where (each overridable from the environment):
#   BINDIR       $PREFIX/bin
#   MANDIR       $PREFIX/share/man                             man1/patchctl.1
#   BASHCOMPDIR  $PREFIX/share/bash-completion/completions     patchctl (bash-completion finds it
#                                                              beside the binary's bin/, or in ~/.local/share)
#   ZSHCOMPDIR   $PREFIX/share/zsh/site-functions              _patchctl (add it to $fpath outside /usr/local)
#   FISHCOMPDIR  $PREFIX/share/fish/vendor_completions.d       patchctl.fish
#   UNITDIR      $PREFIX/share/doc/patchctl/examples/systemd   the units, ExecStart pointing at BINDIR
# STRIP=0 keeps the symbol table (crash backtraces with names); the default strips it.
# GZIP_MAN=1 compresses the page (Debian's packages do).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:?usage: scripts/install.sh BIN MANPAGE}
man=${2:?usage: scripts/install.sh BIN MANPAGE}
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
BINDIR=${BINDIR:-$PREFIX/bin}
MANDIR=${MANDIR:-$PREFIX/share/man}
BASHCOMPDIR=${BASHCOMPDIR:-$PREFIX/share/bash-completion/completions}
ZSHCOMPDIR=${ZSHCOMPDIR:-$PREFIX/share/zsh/site-functions}
FISHCOMPDIR=${FISHCOMPDIR:-$PREFIX/share/fish/vendor_completions.d}
UNITDIR=${UNITDIR:-$PREFIX/share/doc/patchctl/examples/systemd}
STRIP=${STRIP:-1}
GZIP_MAN=${GZIP_MAN:-0}
log() { echo "install: $*" >&2; }
case $PREFIX in /*) ;; *) log "PREFIX must be an absolute path, not '$PREFIX'"; exit 64 ;; esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Generated from the binary itself, so they always match its options.
for shell in bash zsh fish; do
    "$bin" --generate-completion-script "$shell" >"$work/completion.$shell"
    [ -s "$work/completion.$shell" ] || { log "$bin wrote no $shell completion"; exit 1; }
done

install -d -m 0755 "$DESTDIR$BINDIR" "$DESTDIR$MANDIR/man1" "$DESTDIR$BASHCOMPDIR" "$DESTDIR$ZSHCOMPDIR" \
    "$DESTDIR$FISHCOMPDIR" "$DESTDIR$UNITDIR"
install -m 0755 "$bin" "$DESTDIR$BINDIR/patchctl"
[ "$STRIP" = 0 ] || strip --strip-all "$DESTDIR$BINDIR/patchctl"
install -m 0644 "$work/completion.bash" "$DESTDIR$BASHCOMPDIR/patchctl"
install -m 0644 "$work/completion.zsh" "$DESTDIR$ZSHCOMPDIR/_patchctl"
install -m 0644 "$work/completion.fish" "$DESTDIR$FISHCOMPDIR/patchctl.fish"
if [ "$GZIP_MAN" = 1 ]; then
    gzip -9 -n -c "$man" >"$DESTDIR$MANDIR/man1/patchctl.1.gz"
    chmod 0644 "$DESTDIR$MANDIR/man1/patchctl.1.gz"
else
    install -m 0644 "$man" "$DESTDIR$MANDIR/man1/patchctl.1"
fi
for unit in "$root"/packaging/systemd/patchctl-*; do
    sed "s|@BINDIR@|$BINDIR|g" "$unit" >"$work/unit"
    install -m 0644 "$work/unit" "$DESTDIR$UNITDIR/$(basename "$unit")"
done
install -d -m 0755 "$DESTDIR$PREFIX/share/doc/patchctl/examples"
install -m 0644 "$root/packaging/config.yml" "$DESTDIR$PREFIX/share/doc/patchctl/examples/config.yml"
log "patchctl $("$bin" --version) in $DESTDIR$BINDIR; completions, man page, systemd units ($UNITDIR), example config.yml"
