#!/usr/bin/env bash
# Usage: lab/password-user.sh   (prints "USER PASSWORD")
# The lab's one account that logs in with a password: sshd checks passwords (and PAM's
# keyboard-interactive) against this machine's own account database, so the password tests
# need a real account here. It is made by this script only, marked "patchctl lab password" in
# its GECOS field, has no home and no other use; an existing account of another name or purpose
# is never touched. Idempotent (root only).
set -euo pipefail
user=patchpw
password=patchctl-lab-password
marker="patchctl lab password"
[ "$(id -u)" = 0 ] || { echo "password-user: must run as root" >&2; exit 1; }
if entry=$(getent passwd "$user"); then
    [ "$(echo "$entry" | cut -d: -f5)" = "$marker" ] ||
        { echo "password-user: an account '$user' exists and is not the lab's; not touching it" >&2; exit 1; }
else
    useradd -M -d /nonexistent -s /bin/sh -c "$marker" "$user"
fi
# Set every time: cheap, and a changed lab password takes effect.
echo "$user:$password" | chpasswd
echo "$user $password"
