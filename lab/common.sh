# Shared settings and helpers for the lab scripts. Sourced, never run.
# Env overrides: PATCHCTL_LAB_ROOT (default /var/lib/patchctl-lab),
#                PATCHCTL_LAB_PORT (default 2222; the lab uses PORT..PORT+7),
#                PATCHCTL_LAB_REBOOT_MINUTE (default 1: seconds a "minute" of
#                  `shutdown -r +N` lasts on the reboot endpoint),
#                PATCHCTL_LAB_REBOOT_DOWNTIME (default 2: seconds the reboot
#                  endpoint stays down while it "reboots").

LAB_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$LAB_SCRIPTS")
# Keys, sshd config, pid, log, lab.env (git-ignored). Resolved: a worktree may share another
# checkout's running lab through a .lab symlink, and the lab's processes are found by the real path.
LAB_DIR=$(realpath -m "$REPO/.lab")
LAB_ROOT=${PATCHCTL_LAB_ROOT:-/var/lib/patchctl-lab}
BASE_TREE=$LAB_ROOT/bookworm            # cached debootstrap tree, treated as read-only
BASE_MARKER=$LAB_ROOT/bookworm.built    # written only after the tree is complete
RW_TREE=$LAB_ROOT/bookworm-rw           # writable copy for deploy tests
ADVISORY_DATA=$LAB_ROOT/advisories/bookworm.json   # lab/advisory-data.sh: the CVEs its pending updates fix
ADVISORY_DEBS=$LAB_ROOT/advisories/debs            # ... and their candidate .debs
BASE_PORT=${PATCHCTL_LAB_PORT:-2222}
RW_PORT=$((BASE_PORT + 1))
SLOW_PORT=$((BASE_PORT + 2))

# Deploy endpoints (lab/slot.sh): on DEPLOY_PORT, address SLOT_ADDRESS_PREFIX$N
# chroots into its own fresh copy SLOTS_ROOT/N (N = 1..SLOT_COUNT); a second
# sshd on REBOOT_HOST:REBOOT_PORT chroots into SLOTS_ROOT/reboot, whose
# `shutdown` really drops the endpoint (lab/reboot-supervisor.sh).
DEPLOY_PORT=$((BASE_PORT + 3))
REBOOT_PORT=$((BASE_PORT + 4))
SLOTS_ROOT=$LAB_ROOT/slots
SLOT_COUNT=6
SLOT_ADDRESS_PREFIX=127.0.3.
REBOOT_HOST=127.0.4.1
REBOOT_TREE=$SLOTS_ROOT/reboot
REBOOT_MINUTE=${PATCHCTL_LAB_REBOOT_MINUTE:-1}
REBOOT_DOWNTIME=${PATCHCTL_LAB_REBOOT_DOWNTIME:-2}
REBOOT_LOCK=$LAB_ROOT/.reboot.lock      # held while the reboot endpoint is down or its tree swapped
REBOOT_REQUEST=run/patchctl-lab/reboot-request   # inside the reboot tree: the delay in minutes
BOOT_ID_FILE=proc/sys/kernel/random/boot_id      # inside the reboot tree (no /proc is mounted there)
SUPERVISOR=$LAB_SCRIPTS/reboot-supervisor.sh

# RHEL-family endpoint (lab/build-rhel.sh, lab/rhel.sh): on RHEL_PORT, a
# Rocky Linux 9 look-alike whose real dnf and rpm (Debian's packages) manage
# rpm packages from a local repository inside the tree. RHEL_BASE is the
# cached, read-only build; RHEL_TREE the writable copy sessions chroot into.
RHEL_PORT=$((BASE_PORT + 5))
RHEL_BASE=$LAB_ROOT/rocky9
RHEL_MARKER=$LAB_ROOT/rocky9.built      # first line: rhel_stamp, written after the tree is complete
RHEL_TREE=$LAB_ROOT/rocky9-rw
RHEL_STAMP_FILE=etc/patchctl-lab.rhel   # inside a tree: which build it is a copy of
# Bump when lab/build-rhel.sh changes what it builds: cached trees are rebuilt.
RHEL_VERSION=2
rhel_stamp() { echo "patchctl lab rhel tree v$RHEL_VERSION: Rocky Linux 9 look-alike, dnf+rpm from Debian; on top of: $(provision_stamp)"; }
rhel_built() { [ -d "$RHEL_BASE" ] && [ "$(head -n1 "$RHEL_MARKER" 2>/dev/null)" = "$(rhel_stamp)" ]; }

# Debian 13 endpoint (lab/build-trixie.sh, lab/trixie.sh): on TRIXIE_PORT, a
# `debootstrap --variant=minbase trixie` tree (apt 3.0) with trixie-security and
# the lab's own repository. TRIXIE_BASE is the cached, read-only build;
# TRIXIE_TREE the writable copy sessions chroot into (deploys change it).
TRIXIE_PORT=$((BASE_PORT + 6))
TRIXIE_BASE=$LAB_ROOT/trixie
TRIXIE_MARKER=$LAB_ROOT/trixie.built    # first line: trixie_stamp, written after the tree is complete
TRIXIE_TREE=$LAB_ROOT/trixie-rw
TRIXIE_STAMP_FILE=etc/patchctl-lab.trixie   # inside a tree: which build it is a copy of
# Bump when lab/build-trixie.sh changes what it builds: cached trees are rebuilt.
TRIXIE_VERSION=1
trixie_stamp() { echo "patchctl lab trixie tree v$TRIXIE_VERSION: debootstrap minbase trixie, trixie-security, lab repo"; }
trixie_built() { [ -d "$TRIXIE_BASE" ] && [ "$(head -n1 "$TRIXIE_MARKER" 2>/dev/null)" = "$(trixie_stamp)" ]; }

# SUSE endpoint (lab/build-suse.sh, lab/suse.sh): on SUSE_PORT, a SLES 15 SP5
# look-alike whose real zypper, libzypp and rpm (Debian's packages) manage rpm
# packages and patches from a local repository inside the tree. BASE+6 is the
# Debian 13 endpoint's. SUSE_BASE is the cached, read-only build; SUSE_TREE the
# writable copy sessions chroot into.
SUSE_PORT=$((BASE_PORT + 7))
SUSE_BASE=$LAB_ROOT/sles15
SUSE_MARKER=$LAB_ROOT/sles15.built      # first line: suse_stamp, written after the tree is complete
SUSE_TREE=$LAB_ROOT/sles15-rw
SUSE_STAMP_FILE=etc/patchctl-lab.suse   # inside a tree: which build it is a copy of
# Bump when lab/build-suse.sh changes what it builds: cached trees are rebuilt.
SUSE_VERSION=1
suse_stamp() { echo "patchctl lab suse tree v$SUSE_VERSION: SLES 15 SP5 look-alike, zypper+libzypp+rpm from Debian; on top of: $(provision_stamp)"; }
suse_built() { [ -d "$SUSE_BASE" ] && [ "$(head -n1 "$SUSE_MARKER" 2>/dev/null)" = "$(suse_stamp)" ]; }

# Non-root accounts for become (sudo) tests, NAME:UID (the GID is the same number).
# They must exist with the same UIDs inside the trees (sudo, PAM and the home
# directory live there) and on this machine (sshd looks the login user up
# before it chroots); see lab/provision.sh and lab/start.sh.
LAB_ACCOUNTS=(patchlab:2901 patchnopw:2902)
LAB_SUDO_USER=patchlab                  # sudoers: ALL, password required
LAB_SUDO_PASSWORD=labsudo               # a test secret, not a real one
LAB_NOPASSWD_USER=patchnopw             # sudoers: NOPASSWD: ALL

# Provisioning layered on the cached base tree (lab/provision.sh). Bump the
# version when provision.sh changes what it installs, so that existing trees
# are upgraded in place; the stamp also changes with LAB_ACCOUNTS.
PROVISION_VERSION=2
PROVISION_FILE=etc/patchctl-lab.provisioned   # inside a tree
# Installed into the trees by provisioning: sudo for become tests, openssh-client
# so a tree can act as a relay host that pushes files to its group over SSH.
LAB_TREE_PACKAGES=(sudo openssh-client)
provision_stamp() { echo "patchctl lab provisioning v$PROVISION_VERSION: ${LAB_TREE_PACKAGES[*]}; accounts ${LAB_ACCOUNTS[*]}"; }
provisioned() { [ "$(cat "$1/$PROVISION_FILE" 2>/dev/null)" = "$(provision_stamp)" ]; }

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

# The same for the reboot endpoint's own sshd, and the reboot supervisor(s)
# (started as `bash .../reboot-supervisor.sh MINUTE DOWNTIME`).
lab_reboot_sshd_pid() {
    pgrep -o -f -- "sshd -f $LAB_DIR/sshd_reboot_config -E"
}
lab_supervisor_pids() {
    local recorded
    recorded=$(cat "$LAB_DIR/reboot-supervisor.pid" 2>/dev/null) || recorded=
    {
        pgrep -f -- "^[^ ]*bash $SUPERVISOR( |\$)" || true
        # Also one another checkout sharing LAB_DIR started: it records its pid there.
        if [[ $recorded =~ ^[0-9]+$ ]] &&
                tr '\0' ' ' 2>/dev/null <"/proc/$recorded/cmdline" | grep -q '^[^ ]*bash [^ ]*/reboot-supervisor\.sh '; then
            echo "$recorded"
        fi
    } | sort -un | grep .
}

# Zombies count as gone: our daemonized sshd is reaped by init, maybe late.
alive() { local s; s=$(ps -o stat= -p "$1") && [[ $s != Z* ]]; }
descendants() {
    local c
    for c in $(ps -o pid= --ppid "$1"); do echo "$c"; descendants "$c"; done
}

# chrooted TREE...: pids of the processes whose root directory is one of the
# TREEs (a shell glob each), also once the tree was deleted or renamed away.
chrooted() {
    local expr=() t
    for t in "$@"; do
        [ ${#expr[@]} = 0 ] || expr+=(-o)
        expr+=(-lname "$t" -o -lname "$t (deleted)")
    done
    find /proc -mindepth 2 -maxdepth 2 -name root \( "${expr[@]}" \) 2>/dev/null |
        cut -d/ -f3 || true   # find fails on processes that vanish mid-scan
}

# kill_chrooted SIGNAL TREE...: signals them until none is left (5 s at most).
kill_chrooted() {
    local sig=$1 left
    shift
    for _ in $(seq 50); do
        left=$(chrooted "$@")
        [ -z "$left" ] && return 0
        kill "-$sig" $left 2>/dev/null || true
        sleep 0.1
    done
    die "processes still running in $*: $left"
}

# Busy check: plain TCP connect. Readiness: a real SSH handshake, since a bare
# connect-and-close makes sshd log a kex error for every probe.
port_up() { timeout 1 bash -c "exec 3<>/dev/tcp/${2:-127.0.0.1}/$1" 2>/dev/null; }
ssh_up() { [ -n "$(ssh-keyscan -T 2 -t ed25519 -p "$1" "${2:-127.0.0.1}" 2>/dev/null)" ]; }

# The reboot endpoint's sshd (config written by lab/start.sh). Started with no
# lock fd open, so that the daemon never holds a lab lock.
start_reboot_sshd() {
    /usr/sbin/sshd -f "$LAB_DIR/sshd_reboot_config" -E "$LAB_DIR/sshd_reboot.log" 6>&- 7>&- 8>&- 9>&-
}
# stop_reboot_sshd SIGNAL: ends it and every session it runs (its children, and
# whatever runs chrooted into the reboot tree), so open connections drop.
stop_reboot_sshd() {
    local sig=$1 pid kids
    if pid=$(lab_reboot_sshd_pid); then
        kids=$(descendants "$pid")
        kill "-$sig" "$pid" $kids 2>/dev/null || true
        for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
        ! alive "$pid" || die "reboot sshd $pid did not stop"
    fi
    rm -f "$LAB_DIR/sshd_reboot.pid"
    kill_chrooted "$sig" "$REBOOT_TREE" "$REBOOT_TREE.*"
}

# slot_tree SLOT: the tree of deploy slot 1..SLOT_COUNT or `reboot`.
slot_tree() {
    case $1 in
        reboot) echo "$REBOOT_TREE" ;;
        *) [[ $1 =~ ^[1-9][0-9]*$ ]] && [ "$1" -le "$SLOT_COUNT" ] ||
               die "no slot '$1' (slots are 1..$SLOT_COUNT and reboot)"
           echo "$SLOTS_ROOT/$1" ;;
    esac
}

# ensure_account NAME UID [RUNNER...]: makes sure account NAME exists with UID
# and a same-numbered primary group NAME, home /home/NAME (not created here),
# shell /bin/bash. A new account gets the password field '*' (no password
# login): not '!', which sshd without PAM takes for a locked account and
# refuses even for key logins. RUNNER runs the tools elsewhere, e.g.
# `in_chroot TREE`; none means this machine. Never changes another account:
# a NAME with another UID, or UID used by another name, is an error.
ensure_account() {
    local name=$1 uid=$2 entry
    shift 2
    if entry=$("$@" getent passwd "$name"); then
        [ "$(cut -d: -f3 <<<"$entry")" = "$uid" ] ||
            die "user $name already exists with UID $(cut -d: -f3 <<<"$entry"); the lab needs UID $uid"
        [ "$(cut -d: -f7 <<<"$entry")" = /bin/bash ] || "$@" usermod -s /bin/bash "$name"
        # A locked ('!...') password, e.g. from a plain useradd, would stop sshd.
        case $("$@" getent shadow "$name" | cut -d: -f2) in '!'*) "$@" usermod -p '*' "$name" ;; esac
        return 0
    fi
    if entry=$("$@" getent passwd "$uid"); then
        die "UID $uid is taken by user ${entry%%:*}; the lab needs it for $name"
    fi
    if entry=$("$@" getent group "$name"); then
        [ "$(cut -d: -f3 <<<"$entry")" = "$uid" ] ||
            die "group $name already exists with GID $(cut -d: -f3 <<<"$entry"); the lab needs GID $uid"
    else
        if entry=$("$@" getent group "$uid"); then
            die "GID $uid is taken by group ${entry%%:*}; the lab needs it for $name"
        fi
        "$@" groupadd -g "$uid" "$name"
    fi
    "$@" useradd -u "$uid" -g "$name" -M -d "/home/$name" -s /bin/bash -p '*' -c "patchctl lab" "$name"
}
