# Shared settings and helpers for the lab scripts. Sourced, never run.
# Env overrides: PATCHCTL_LAB_ROOT (default /var/lib/patchctl-lab),
#                PATCHCTL_LAB_PORT (default 2222; the lab uses PORT..PORT+2).

LAB_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$LAB_SCRIPTS")
LAB_DIR=$REPO/.lab                      # keys, sshd config, pid, log, lab.env (git-ignored)
LAB_ROOT=${PATCHCTL_LAB_ROOT:-/var/lib/patchctl-lab}
BASE_TREE=$LAB_ROOT/bookworm            # cached debootstrap tree, treated as read-only
BASE_MARKER=$LAB_ROOT/bookworm.built    # written only after the tree is complete
RW_TREE=$LAB_ROOT/bookworm-rw           # writable copy for deploy tests
BASE_PORT=${PATCHCTL_LAB_PORT:-2222}
RW_PORT=$((BASE_PORT + 1))
SLOW_PORT=$((BASE_PORT + 2))

die() { echo "lab: $*" >&2; exit 1; }

need_root() { [ "$(id -u)" = 0 ] || die "must run as root"; }

# Run a command inside a tree with a clean, C-locale environment
# (the host's LANG/PATH/proxy junk must not leak in).
in_chroot() {
    local dir=$1; shift
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C LANG=C HOME=/root \
        DEBIAN_FRONTEND=noninteractive chroot "$dir" "$@"
}

# Unmount anything left mounted below DIR (e.g. /proc from an interrupted
# debootstrap), deepest first, so that rm -rf / cp -a never cross into it.
umount_under() {
    local dir m
    dir=$(realpath -m "$1")
    awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts |
        sort -r | while read -r m; do umount -l "$m"; done
}

# Remove a tree safely: unmount first, never leave the file system.
remove_tree() {
    [ -e "$1" ] || return 0
    umount_under "$1"
    rm -rf --one-file-system "$1"
}

# sshd's ChrootDirectory demands the dir and every parent be root-owned and
# not group/world writable. Fix what is ours (under LAB_ROOT), check the rest.
check_chroot_perms() {
    local p
    p=$(realpath "$1")
    while :; do
        case $p/ in
            "$(realpath "$LAB_ROOT")"/*) chown root:root "$p"; chmod go-w "$p" ;;
        esac
        [ "$(stat -c %u "$p")" = 0 ] || die "$p is not owned by root (sshd ChrootDirectory needs that)"
        [ $(( 0$(stat -c %a "$p") & 022 )) = 0 ] || die "$p is group/world writable (sshd ChrootDirectory refuses it)"
        [ "$p" = / ] && break
        p=$(dirname "$p")
    done
}

# Pid of this checkout's lab sshd listener, found by its unique config path
# (the PidFile can be stale or lost); -o: the listener is the oldest match.
lab_sshd_pid() {
    pgrep -o -f -- "sshd -f $LAB_DIR/sshd_config -E"
}
