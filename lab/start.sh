#!/usr/bin/env bash
# Usage: lab/start.sh   (then: . .lab/lab.env)
# Starts the lab's own OpenSSH server (/usr/sbin/sshd with a config in .lab/,
# never the system service). Ports, from PATCHCTL_LAB_PORT (default 2222):
#   BASE   chroot into the cached read-only tree      (tests only read it)
#   BASE+1 chroot into the writable copy bookworm-rw  (reset: lab/reset-rw.sh)
#   BASE+2 like BASE but every session is `sleep 600` (timeout tests)
#   BASE+3 deploy slots: 127.0.3.N (N = 1..6) chroots into its own copy
#          slots/N (reset: lab/slot.sh reset N); other addresses are refused
#   BASE+4 on 127.0.4.1 only: the reboot endpoint, a second sshd chrooted into
#          slots/reboot, whose `shutdown -r` really takes it down and up again
#          with a new boot id (lab/reboot-supervisor.sh, started here too)
#   BASE+5 the RHEL-family endpoint: chroot into rocky9-rw, a Rocky Linux 9
#          look-alike with real dnf and rpm (reset: lab/rhel.sh reset); served
#          only once lab/build-rhel.sh has built its tree
#   BASE+6 the Debian 13 endpoint: chroot into trixie-rw, a debootstrapped
#          trixie tree with apt 3.0 (reset: lab/trixie.sh reset); served only
#          once lab/build-trixie.sh has built its tree
#   BASE+7 the SUSE endpoint: chroot into sles15-rw, a SLES 15 SP5 look-alike
#          with real zypper, libzypp and rpm (reset: lab/suse.sh reset); served
#          only once lab/build-suse.sh has built its tree
# Logins by key only, loopback clients only: root, plus the become-test
# accounts patchlab and patchnopw (LAB_ACCOUNTS in common.sh), which are
# created on this machine too (with '*' passwords, no home), because sshd looks
# the user up here before it chroots. Every session runs inside a tree, so its
# shell start-up files are the tree's, never this machine's. One sshd on
# 0.0.0.0 answers on every 127.x.y.z. Missing slot trees are created. Idempotent:
# if everything already runs with the same configs and settings, only lab.env
# is rewritten; a stale pid, a changed config or a missing piece means a
# (re)start of the whole lab.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_root
[ -f "$BASE_MARKER" ] || die "no lab tree: run lab/build-chroot.sh"
provisioned "$BASE_TREE" || die "lab tree predates provisioning v$PROVISION_VERSION: run lab/build-chroot.sh"
# A missing writable copy, or one copied before the base was last provisioned, is (re)made.
if [ ! -d "$RW_TREE" ] || ! cmp -s "$BASE_TREE/$PROVISION_FILE" "$RW_TREE/$PROVISION_FILE"; then
    "$LAB_SCRIPTS/reset-rw.sh"
fi
number() { [[ $1 =~ ^[0-9]+([.][0-9]+)?$ ]]; }
number "$REBOOT_MINUTE" || die "PATCHCTL_LAB_REBOOT_MINUTE must be a number of seconds"
number "$REBOOT_DOWNTIME" || die "PATCHCTL_LAB_REBOOT_DOWNTIME must be a number of seconds"
# Deploy slots and the reboot tree: missing or older than the base's provisioning means a fresh copy.
for slot in $(seq "$SLOT_COUNT") reboot; do
    tree=$(slot_tree "$slot")
    if [ ! -d "$tree" ] || ! cmp -s "$BASE_TREE/$PROVISION_FILE" "$tree/$PROVISION_FILE"; then
        "$LAB_SCRIPTS/slot.sh" reset "$slot"
    fi
done
# The RHEL-family endpoint, once built: a missing writable copy, or one of an older build, is (re)made.
rhel=
if rhel_built; then
    rhel=1
    if [ ! -d "$RHEL_TREE" ] || ! cmp -s "$RHEL_BASE/$RHEL_STAMP_FILE" "$RHEL_TREE/$RHEL_STAMP_FILE"; then
        "$LAB_SCRIPTS/rhel.sh" reset
    fi
else
    echo "lab: no current RHEL-family tree, port $RHEL_PORT not served (run lab/build-rhel.sh)" >&2
fi
# The Debian 13 endpoint, the same way.
trixie=
if trixie_built; then
    trixie=1
    if [ ! -d "$TRIXIE_TREE" ] || ! cmp -s "$TRIXIE_BASE/$TRIXIE_STAMP_FILE" "$TRIXIE_TREE/$TRIXIE_STAMP_FILE"; then
        "$LAB_SCRIPTS/trixie.sh" reset
    fi
else
    echo "lab: no current Debian 13 tree, port $TRIXIE_PORT not served (run lab/build-trixie.sh)" >&2
fi
# The SUSE endpoint, likewise.
suse=
if suse_built; then
    suse=1
    if [ ! -d "$SUSE_TREE" ] || ! cmp -s "$SUSE_BASE/$SUSE_STAMP_FILE" "$SUSE_TREE/$SUSE_STAMP_FILE"; then
        "$LAB_SCRIPTS/suse.sh" reset
    fi
else
    echo "lab: no current SUSE tree, port $SUSE_PORT not served (run lab/build-suse.sh)" >&2
fi
check_chroot_perms "$BASE_TREE"
check_chroot_perms "$RW_TREE"
[ -z "$rhel" ] || check_chroot_perms "$RHEL_TREE"
[ -z "$trixie" ] || check_chroot_perms "$TRIXIE_TREE"
[ -z "$suse" ] || check_chroot_perms "$SUSE_TREE"
for slot in $(seq "$SLOT_COUNT") reboot; do check_chroot_perms "$(slot_tree "$slot")"; done
mkdir -p "$LAB_DIR" /run/sshd            # /run/sshd: sshd's privilege-separation dir
chmod 755 /run/sshd

key() {  # key FILE PASSPHRASE COMMENT
    [ -f "$1" ] || ssh-keygen -q -t ed25519 -N "$2" -C "$3" -f "$1"
}
key "$LAB_DIR/ssh_host_ed25519_key" "" patchctl-lab-host
key "$LAB_DIR/wrong_host_ed25519_key" "" patchctl-lab-impostor   # for host-key-mismatch tests
key "$LAB_DIR/id_ed25519" "" patchctl-lab
key "$LAB_DIR/wrong_ed25519" "" patchctl-lab-unauthorized         # deliberately NOT authorized
key "$LAB_DIR/pass_ed25519" labpass patchctl-lab-passphrase
key "$LAB_DIR/relay_ed25519" "" patchctl-lab-relay                # what a relay host pushes with
cat "$LAB_DIR/id_ed25519.pub" "$LAB_DIR/pass_ed25519.pub" "$LAB_DIR/relay_ed25519.pub" >"$LAB_DIR/authorized_keys"
chmod 644 "$LAB_DIR/authorized_keys"

# The become-test accounts on this machine: same names and UIDs as in the trees.
allow_users=root@127.*
for account in "${LAB_ACCOUNTS[@]}"; do
    ensure_account "${account%%:*}" "${account#*:}"
    allow_users="$allow_users ${account%%:*}@127.*"
done
# sshd reads AuthorizedKeysFile as the logging-in user: every folder above it must let them through.
runuser -u "$LAB_SUDO_USER" -- test -r "$LAB_DIR/authorized_keys" ||
    die "$LAB_SUDO_USER cannot read $LAB_DIR/authorized_keys (a parent folder is not world-searchable): move the checkout or chmod o+x its parents"

# known_hosts: plain [127.0.0.N]:PORT entries, plus a hashed one for
# [127.0.0.4]:BASE only, then [127.0.3.N]:DEPLOY for each slot and
# [127.0.4.1]:REBOOT, then [127.0.0.N]:RHEL, [127.0.0.N]:TRIXIE and [127.0.0.N]:SUSE. Regenerated only when key, ports or slots change, so the
# hashed entry's random salt stays stable between runs.
hostpub=$(cut -d' ' -f1,2 "$LAB_DIR/ssh_host_ed25519_key.pub")
stamp="# patchctl lab: ports $BASE_PORT-$SUSE_PORT slots $SLOT_COUNT key $(ssh-keygen -lf "$LAB_DIR/ssh_host_ed25519_key.pub" | cut -d' ' -f2)"
if [ "$(head -n1 "$LAB_DIR/known_hosts" 2>/dev/null)" != "$stamp" ]; then
    hashed=$(mktemp)
    echo "[127.0.0.4]:$BASE_PORT $hostpub" >"$hashed"
    ssh-keygen -q -H -f "$hashed" >/dev/null 2>&1
    bad=$(cut -d' ' -f1,2 "$LAB_DIR/wrong_host_ed25519_key.pub")
    {
        echo "$stamp"
        for ip in 127.0.0.1 127.0.0.2 127.0.0.3; do
            for port in "$BASE_PORT" "$RW_PORT" "$SLOW_PORT"; do echo "[$ip]:$port $hostpub"; done
        done
        cat "$hashed"
        for n in $(seq "$SLOT_COUNT"); do echo "[$SLOT_ADDRESS_PREFIX$n]:$DEPLOY_PORT $hostpub"; done
        echo "[$REBOOT_HOST]:$REBOOT_PORT $hostpub"
        for ip in 127.0.0.1 127.0.0.2 127.0.0.3; do echo "[$ip]:$RHEL_PORT $hostpub"; done
        for ip in 127.0.0.1 127.0.0.2 127.0.0.3; do echo "[$ip]:$TRIXIE_PORT $hostpub"; done
        for ip in 127.0.0.1 127.0.0.2 127.0.0.3; do echo "[$ip]:$SUSE_PORT $hostpub"; done
    } >"$LAB_DIR/known_hosts.tmp"
    # Same names, wrong key: a client must refuse these (MITM tests).
    sed -e '/^#/d' -e "s|ssh-ed25519 .*|$bad|" -e '/^|1|/d' "$LAB_DIR/known_hosts.tmp" >"$LAB_DIR/known_hosts_wrong.tmp"
    mv "$LAB_DIR/known_hosts.tmp" "$LAB_DIR/known_hosts"
    mv "$LAB_DIR/known_hosts_wrong.tmp" "$LAB_DIR/known_hosts_wrong"
    rm -f "$hashed" "$hashed.old"
fi

# Newer OpenSSH (>= 9.8) penalises clients that fail auth or time out, which
# would make the wrong-key and timeout tests flaky; 9.2 has no such option.
penalties=
if /usr/sbin/sshd -t -f /dev/null -h "$LAB_DIR/ssh_host_ed25519_key" -o PerSourcePenalties=no 2>/dev/null; then
    penalties="PerSourcePenalties no"
fi

# What both sshds share: logins, limits, logging.
common_config="HostKey $LAB_DIR/ssh_host_ed25519_key
LogLevel ERROR
UseDNS no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $LAB_DIR/authorized_keys
StrictModes no
AllowUsers $allow_users
MaxStartups 2000:30:3000
MaxSessions 50
PrintMotd no
PrintLastLog no
X11Forwarding no
AcceptEnv LANG LC_*
# The sftp-server binary would have to exist inside the chroot; this does not.
Subsystem sftp internal-sftp
$penalties"

# The deploy slots' addresses, and for the catch-all below the same as a negated list.
slot_matches= not_slots='*'
for n in $(seq "$SLOT_COUNT"); do
    slot_matches="$slot_matches
Match LocalAddress $SLOT_ADDRESS_PREFIX$n LocalPort $DEPLOY_PORT
    ChrootDirectory $SLOTS_ROOT/$n"
    not_slots="$not_slots,!$SLOT_ADDRESS_PREFIX$n"
done

# The Debian 13 endpoint's port and chroot, when its tree is built.
trixie_port= trixie_match=
if [ -n "$trixie" ]; then
    trixie_port="
Port $TRIXIE_PORT"
    trixie_match="# Debian 13 endpoint: the writable trixie tree.
Match LocalPort $TRIXIE_PORT
    ChrootDirectory $TRIXIE_TREE
"
fi

# The RHEL-family endpoint's port and chroot, when its tree is built.
rhel_port= rhel_match=
if [ -n "$rhel" ]; then
    rhel_port="
Port $RHEL_PORT"
    rhel_match="# RHEL-family endpoint: the writable Rocky Linux 9 look-alike.
Match LocalPort $RHEL_PORT
    ChrootDirectory $RHEL_TREE
"
fi

# The SUSE endpoint's port and chroot, when its tree is built.
suse_port= suse_match=
if [ -n "$suse" ]; then
    suse_port="
Port $SUSE_PORT"
    suse_match="# SUSE endpoint: the writable SLES 15 SP5 look-alike.
Match LocalPort $SUSE_PORT
    ChrootDirectory $SUSE_TREE
"
fi

config="# Generated by lab/start.sh; edits are overwritten.
Port $BASE_PORT
Port $RW_PORT
Port $SLOW_PORT
Port $DEPLOY_PORT$rhel_port$trixie_port$suse_port
ListenAddress 0.0.0.0
PidFile $LAB_DIR/sshd.pid
$common_config
# Safety net: no session ever sees the host's file system.
ChrootDirectory $BASE_TREE
Match LocalPort $BASE_PORT
    ChrootDirectory $BASE_TREE
Match LocalPort $RW_PORT
    ChrootDirectory $RW_TREE
Match LocalPort $SLOW_PORT
    ChrootDirectory $BASE_TREE
    ForceCommand sleep 600
# Deploy slots: each address its own tree (the first matching ChrootDirectory wins).$slot_matches
# Any other address on the deploy port: the read-only tree, and no command runs.
Match LocalPort $DEPLOY_PORT LocalAddress $not_slots
    ChrootDirectory $BASE_TREE
    ForceCommand echo 'patchctl lab: port $DEPLOY_PORT serves only the deploy slots ${SLOT_ADDRESS_PREFIX}1-$SLOT_COUNT' >&2; exit 1
$rhel_match$trixie_match$suse_match"

# The reboot endpoint: its own daemon, so that a "reboot" can kill it outright.
reboot_config="# Generated by lab/start.sh; edits are overwritten. Restarted by lab/reboot-supervisor.sh.
Port $REBOOT_PORT
ListenAddress $REBOOT_HOST
PidFile $LAB_DIR/sshd_reboot.pid
$common_config
ChrootDirectory $REBOOT_TREE
"
supervisor_cmdline="bash $SUPERVISOR $REBOOT_MINUTE $REBOOT_DOWNTIME"

# port_up (busy check) and ssh_up (readiness) are in common.sh.
all_up() {
    ssh_up "$BASE_PORT" && ssh_up "$RW_PORT" && ssh_up "$SLOW_PORT" && ssh_up "$DEPLOY_PORT" &&
        ssh_up "$REBOOT_PORT" "$REBOOT_HOST" && { [ -z "$rhel" ] || ssh_up "$RHEL_PORT"; } &&
        { [ -z "$trixie" ] || ssh_up "$TRIXIE_PORT"; } &&
        { [ -z "$suse" ] || ssh_up "$SUSE_PORT"; }
}
supervisor_ok() {
    local pids
    pids=$(lab_supervisor_pids) && [ "$(wc -w <<<"$pids")" = 1 ] &&
        [ "$(tr '\0' ' ' <"/proc/$pids/cmdline")" = "$supervisor_cmdline " ]
}
running() { lab_sshd_pid >/dev/null && lab_reboot_sshd_pid >/dev/null && supervisor_ok; }

write_env() {
    local tmp=$LAB_DIR/lab.env.tmp
    {
        echo "# Generated by lab/start.sh. Plain KEY=value lines (shell-quoted only if needed): . .lab/lab.env"
        for v in LAB_HOST=127.0.0.1 LAB_USER=root LAB_PORT="$BASE_PORT" LAB_RW_PORT="$RW_PORT" \
                 LAB_SLOW_PORT="$SLOW_PORT" LAB_ROOT="$BASE_TREE" LAB_RW_ROOT="$RW_TREE" \
                 LAB_DIR="$LAB_DIR" LAB_KEY="$LAB_DIR/id_ed25519" LAB_WRONG_KEY="$LAB_DIR/wrong_ed25519" \
                 LAB_PASS_KEY="$LAB_DIR/pass_ed25519" LAB_PASSPHRASE=labpass LAB_RELAY_KEY="$LAB_DIR/relay_ed25519" \
                 LAB_KNOWN_HOSTS="$LAB_DIR/known_hosts" LAB_WRONG_KNOWN_HOSTS="$LAB_DIR/known_hosts_wrong" \
                 LAB_HASHED_HOST=127.0.0.4 LAB_HOST_KEY_PUB_FILE="$LAB_DIR/ssh_host_ed25519_key.pub" \
                 LAB_HOST_FINGERPRINT="$(ssh-keygen -lf "$LAB_DIR/ssh_host_ed25519_key.pub" | cut -d' ' -f2)" \
                 LAB_RESET_RW="$LAB_SCRIPTS/reset-rw.sh" LAB_SUDO_USER="$LAB_SUDO_USER" \
                 LAB_SUDO_PASSWORD="$LAB_SUDO_PASSWORD" LAB_NOPASSWD_USER="$LAB_NOPASSWD_USER" \
                 LAB_DEPLOY_PORT="$DEPLOY_PORT" LAB_SLOTS_ROOT="$SLOTS_ROOT" \
                 LAB_SLOT_ADDRESS_PREFIX="$SLOT_ADDRESS_PREFIX" LAB_SLOT_COUNT="$SLOT_COUNT" \
                 LAB_REBOOT_HOST="$REBOOT_HOST" LAB_REBOOT_PORT="$REBOOT_PORT" LAB_REBOOT_ROOT="$REBOOT_TREE" \
                 LAB_SLOT_SCRIPT="$LAB_SCRIPTS/slot.sh" LAB_REBOOT_MINUTE="$REBOOT_MINUTE" \
                 LAB_REBOOT_DOWNTIME="$REBOOT_DOWNTIME" LAB_ADVISORY_DATA="$ADVISORY_DATA" LAB_ADVISORY_DEBS="$ADVISORY_DEBS"; do
            printf '%s=%q\n' "${v%%=*}" "${v#*=}"
        done
        if [ -n "$rhel" ]; then
            for v in LAB_RHEL_PORT="$RHEL_PORT" LAB_RHEL_ROOT="$RHEL_TREE" LAB_RHEL_BASE_ROOT="$RHEL_BASE" \
                     LAB_RHEL_SCRIPT="$LAB_SCRIPTS/rhel.sh"; do
                printf '%s=%q\n' "${v%%=*}" "${v#*=}"
            done
        fi
        if [ -n "$trixie" ]; then
            for v in LAB_TRIXIE_PORT="$TRIXIE_PORT" LAB_TRIXIE_ROOT="$TRIXIE_TREE" LAB_TRIXIE_BASE_ROOT="$TRIXIE_BASE" \
                     LAB_TRIXIE_SCRIPT="$LAB_SCRIPTS/trixie.sh"; do
                printf '%s=%q\n' "${v%%=*}" "${v#*=}"
            done
        fi
        if [ -n "$suse" ]; then
            for v in LAB_SUSE_PORT="$SUSE_PORT" LAB_SUSE_ROOT="$SUSE_TREE" LAB_SUSE_BASE_ROOT="$SUSE_BASE" \
                     LAB_SUSE_SCRIPT="$LAB_SCRIPTS/suse.sh"; do
                printf '%s=%q\n' "${v%%=*}" "${v#*=}"
            done
        fi
    } >"$tmp"
    mv "$tmp" "$LAB_DIR/lab.env"
}

# Never decide (or restart) while the supervisor has the reboot endpoint down.
exec 7>"$REBOOT_LOCK"
flock -w 60 7 || die "the reboot endpoint has been rebooting for a minute (lock $REBOOT_LOCK held)"
if running && printf '%s' "$config" | cmp -s - "$LAB_DIR/sshd_config" &&
        printf '%s' "$reboot_config" | cmp -s - "$LAB_DIR/sshd_reboot_config" && all_up; then
    write_env
    exit 0
fi
"$LAB_SCRIPTS/stop.sh"
for p in "$BASE_PORT" "$RW_PORT" "$SLOW_PORT" "$DEPLOY_PORT" ${rhel:+"$RHEL_PORT"} ${trixie:+"$TRIXIE_PORT"} ${suse:+"$SUSE_PORT"}; do
    port_up "$p" && die "port $p is already in use by something else (set PATCHCTL_LAB_PORT)"
done
port_up "$REBOOT_PORT" "$REBOOT_HOST" && die "port $REBOOT_HOST:$REBOOT_PORT is already in use by something else (set PATCHCTL_LAB_PORT)"
printf '%s' "$config" >"$LAB_DIR/sshd_config"
printf '%s' "$reboot_config" >"$LAB_DIR/sshd_reboot_config"
/usr/sbin/sshd -t -f "$LAB_DIR/sshd_config" || die "sshd rejected $LAB_DIR/sshd_config"
/usr/sbin/sshd -t -f "$LAB_DIR/sshd_reboot_config" || die "sshd rejected $LAB_DIR/sshd_reboot_config"
: >"$LAB_DIR/sshd.log"
: >"$LAB_DIR/sshd_reboot.log"
/usr/sbin/sshd -f "$LAB_DIR/sshd_config" -E "$LAB_DIR/sshd.log" 7>&-
start_reboot_sshd
setsid "$SUPERVISOR" "$REBOOT_MINUTE" "$REBOOT_DOWNTIME" </dev/null >>"$LAB_DIR/reboot-supervisor.log" 2>&1 7>&- &
for _ in $(seq 100); do all_up && running && break; sleep 0.1; done
all_up && running || {
    cat "$LAB_DIR/sshd.log" "$LAB_DIR/sshd_reboot.log" >&2
    tail -n 5 "$LAB_DIR/reboot-supervisor.log" >&2
    die "lab sshd, reboot sshd or reboot supervisor did not come up"
}
write_env
