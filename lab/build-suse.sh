#!/usr/bin/env bash
# Usage: lab/build-suse.sh
# Builds, once per machine, the lab's SUSE endpoint tree:
# $PATCHCTL_LAB_ROOT/sles15 (default /var/lib/patchctl-lab/sles15), a copy of
# the cached Debian base tree (never modified) turned into a SLES 15 SP5
# look-alike whose package manager is real zypper, libzypp and rpm (Debian's
# packages):
#   - zypper and rpm installed with the tree's apt, then apt itself purged, so
#     that the tree offers no apt-get (patchctl must take it for a SUSE host);
#   - an rpm database in /var/lib/rpm (Debian's rpm defaults to ~/.rpmdb);
#   - /etc/os-release of SLES 15 SP5 (`lab/suse.sh os leap` switches a copy to
#     openSUSE Leap 15.5's, kept as /usr/lib/os-release.leap);
#   - one local rpm-md repository inside the tree, dir:///srv/patchlab-repo/
#     sle-updates (alias patchlab-sle-updates), the only one configured, built
#     here with rpmbuild, createrepo_c and (for updateinfo.xml) modifyrepo_c.
#     Its patches (updateinfo, SUSE's layout):
#       SUSE-SLE-Module-Basesystem-15-SP5-2025-1001  security, important,
#           CVE-2025-20001 and CVE-2025-20002 (plus a bugzilla reference):
#           patchlab-openssl and libpatchlab-ssl3 1.1.1-150500.1.1 ->
#           1.1.1-150500.3.1 (x86_64), two packages, with the source rpm
#           listed (arch="src"), as SUSE's own repositories list it
#       SUSE-SLE-Module-Basesystem-15-SP5-2025-1002  recommended, moderate:
#           patchlab-utils 1.0-150500.1.1 -> 2.0-150500.1.1 (noarch), one package
#       SUSE-SLE-Module-Basesystem-15-SP5-2025-1003  recommended, low, with
#           <reboot_suggested>: patchlab-kernel-default 5.14.21-150500.55.1 ->
#           5.14.21-150500.55.7 (x86_64), one package
#     and an update that no patch covers: patchlab-tool 1.0-150500.1.1 ->
#     1.1-150500.1.1 (noarch). The older version of each is installed by rpm;
#     zypper's metadata cache is made (scans without --refresh read it only);
#   - /run, a plain directory (nothing is mounted in the lab): the file
#     /run/reboot-needed there is what `zypper needs-rebooting` tests. libzypp
#     writes it only for packages named in /etc/zypp/needreboot, which Debian's
#     libzypp does not ship (and this tree has none), so here only patchctl's
#     deploy writes it, after zypper's exit 102 for a patch that suggests a
#     reboot; `lab/suse.sh boot` removes it, as a boot empties /run.
# What a real SLES has and this tree has not: products (/etc/products.d and
# the release packages), SUSEConnect registration and its services, modules,
# signed repositories; see docs/platforms.md.
# Rebuilt when SUSE_VERSION (common.sh) or the base's provisioning changes;
# otherwise a no-op. Needs the Debian mirror (apt inside the copy) once.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_root
[ -f "$BASE_MARKER" ] || die "no lab tree: run lab/build-chroot.sh"
provisioned "$BASE_TREE" || die "lab tree predates provisioning v$PROVISION_VERSION: run lab/build-chroot.sh"
for tool in rpmbuild createrepo_c modifyrepo_c; do
    command -v "$tool" >/dev/null || die "$tool missing: run lab/deps.sh"
done

exec 9>"$LAB_ROOT/.suse-build.lock"
flock 9                                  # parallel callers wait for one build
suse_built && exit 0

TMP=$LAB_ROOT/sles15.tmp
LOG=$LAB_ROOT/build-suse.log
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; umount_under "$TMP"' EXIT
fail() { echo "lab: SUSE tree build failed: $*; last lines of $LOG:" >&2; tail -n 30 "$LOG" >&2; exit 1; }
: >"$LOG"
rm -f "$SUSE_MARKER"
remove_tree "$TMP"
cp -a --reflink=auto "$BASE_TREE" "$TMP"
run() { in_chroot "$TMP" "$@" >>"$LOG" 2>&1; }

# --- zypper, libzypp and rpm from Debian, then no apt ---------------------------
printf '#!/bin/sh\nexit 101\n' >"$TMP/usr/sbin/policy-rc.d"   # no service may start in a chroot
chmod 755 "$TMP/usr/sbin/policy-rc.d"
run apt-get -q update || fail "apt-get update"
run apt-get -q -y -o Dpkg::Use-Pty=0 install --no-install-recommends zypper rpm ||
    fail "apt-get install zypper rpm"
run apt-get clean
run dpkg --purge apt || fail "dpkg --purge apt"
rm -rf "$TMP/usr/sbin/policy-rc.d" "$TMP/etc/apt" "$TMP/var/lib/apt" "$TMP/var/cache/apt" "$TMP/var/log/apt" \
    "$TMP/srv/lab-repo"                  # the Debian lab repository has no use here
[ ! -e "$TMP/usr/bin/apt-get" ] || fail "apt-get is still in the tree"

# --- rpm database where SUSE keeps it (15 SP5 still has /var/lib/rpm) -----------
mkdir -p "$TMP/etc/rpm"
echo '%_dbpath /var/lib/rpm' >"$TMP/etc/rpm/macros"
run rpm --initdb || fail "rpm --initdb"

# --- os-release: SLES 15 SP5, and openSUSE Leap 15.5's beside it for lab/suse.sh --
cat >"$TMP/usr/lib/os-release" <<'OSR'
NAME="SLES"
VERSION="15-SP5"
VERSION_ID="15.5"
PRETTY_NAME="SUSE Linux Enterprise Server 15 SP5"
ID="sles"
ID_LIKE="suse"
ANSI_COLOR="0;32"
CPE_NAME="cpe:/o:suse:sles:15:sp5"
DOCUMENTATION_URL="https://documentation.suse.com/"
OSR
cat >"$TMP/usr/lib/os-release.leap" <<'OSR'
NAME="openSUSE Leap"
VERSION="15.5"
ID="opensuse-leap"
ID_LIKE="suse opensuse"
VERSION_ID="15.5"
PRETTY_NAME="openSUSE Leap 15.5"
ANSI_COLOR="0;32"
CPE_NAME="cpe:/o:opensuse:leap:15.5"
BUG_REPORT_URL="https://bugs.opensuse.org"
HOME_URL="https://www.opensuse.org/"
DOCUMENTATION_URL="https://en.opensuse.org/Portal:Leap"
LOGO="distributor-logo-Leap"
OSR
cp "$TMP/usr/lib/os-release" "$TMP/usr/lib/os-release.sles"
ln -sfn ../usr/lib/os-release "$TMP/etc/os-release"

# --- test packages ---------------------------------------------------------------
export SOURCE_DATE_EPOCH=1700000000      # reproducible rpm headers
ARCH=$(uname -m)
# mkrpm NAME VERSION RELEASE ARCH  -> $WORK/rpms/
# No scriptlets and no automatic dependencies: the rpm database knows only
# these packages (the userland under them is dpkg's), so nothing may require
# /bin/sh or a library.
mkrpm() {
    local name=$1 version=$2 release=$3 arch=$4 spec
    spec=$WORK/$name-$version-$release.spec
    cat >"$spec" <<SPEC
Name: $name
Version: $version
Release: $release
Summary: patchctl test-lab package $name
License: MIT
BuildArch: $arch
AutoReqProv: no
%description
patchctl test-lab package $name $version-$release: installs /usr/share/patchlab/$name.version.
%install
mkdir -p %{buildroot}/usr/share/patchlab
echo '$version-$release' > %{buildroot}/usr/share/patchlab/$name.version
%files
/usr/share/patchlab/$name.version
SPEC
    rpmbuild -bb --nodeps --quiet --define "_topdir $WORK/top" --define "_rpmdir $WORK/rpms" \
        --define '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm' \
        --define '_buildhost patchlab.invalid' --define '_binary_payload w9.gzdio' "$spec" >>"$LOG" 2>&1 ||
        fail "rpmbuild $name $version-$release"
}
OLD=150500.1.1
mkrpm patchlab-openssl 1.1.1 "$OLD" "$ARCH"
mkrpm patchlab-openssl 1.1.1 150500.3.1 "$ARCH"
mkrpm libpatchlab-ssl3 1.1.1 "$OLD" "$ARCH"
mkrpm libpatchlab-ssl3 1.1.1 150500.3.1 "$ARCH"
mkrpm patchlab-utils 1.0 "$OLD" noarch
mkrpm patchlab-utils 2.0 "$OLD" noarch
mkrpm patchlab-kernel-default 5.14.21 150500.55.1 "$ARCH"
mkrpm patchlab-kernel-default 5.14.21 150500.55.7 "$ARCH"
mkrpm patchlab-tool 1.0 "$OLD" noarch
mkrpm patchlab-tool 1.1 "$OLD" noarch

# --- the repository: /srv/patchlab-repo/sle-updates --------------------------------
REPO_DIR=$TMP/srv/patchlab-repo/sle-updates
mkdir -p "$REPO_DIR/$ARCH" "$REPO_DIR/noarch"
cp "$WORK"/rpms/*."$ARCH".rpm "$REPO_DIR/$ARCH/"
cp "$WORK"/rpms/*.noarch.rpm "$REPO_DIR/noarch/"
# pkg NAME VERSION RELEASE ARCH [REBOOT]: one <package> of a patch, as SUSE's
# updateinfo has them (epoch 0; reboot_suggested inside the package).
pkg() {
    printf '        <package name="%s" epoch="0" version="%s" release="%s" arch="%s">\n          <filename>%s-%s-%s.%s.rpm</filename>\n' \
        "$1" "$2" "$3" "$4" "$1" "$2" "$3" "$4"
    [ -z "${5:-}" ] || echo '          <reboot_suggested>True</reboot_suggested>'
    echo '        </package>'
}
# patch ID TYPE SEVERITY TITLE REFERENCES PACKAGE-LINES
patch() {
    cat <<PATCH
  <update from="maint-coord@patchctl.invalid" status="stable" type="$2" version="1">
    <id>$1</id>
    <title>$4</title>
    <severity>$3</severity>
    <release>patchctl lab SLE-Module-Basesystem 15-SP5 Updates</release>
    <issued date="$SOURCE_DATE_EPOCH"/>
    <references>
$5
    </references>
    <description>patchctl lab patch: $4</description>
    <pkglist>
      <collection>
$6
      </collection>
    </pkglist>
  </update>
PATCH
}
ref() { printf '      <reference href="%s" id="%s" title="%s" type="%s"/>\n' "$1" "$2" "$3" "$4"; }
P=SUSE-SLE-Module-Basesystem-15-SP5-2025
{
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo '<updates>'
    patch "$P-1001" security important "Security update for patchlab-openssl" \
        "$(ref https://www.suse.com/security/cve/CVE-2025-20001/ CVE-2025-20001 CVE-2025-20001 cve
           ref https://www.suse.com/security/cve/CVE-2025-20002/ CVE-2025-20002 CVE-2025-20002 cve
           ref https://bugzilla.suse.com/show_bug.cgi?id=1230001 1230001 'patchlab-openssl: lab bug' bugzilla)" \
        "$(pkg patchlab-openssl 1.1.1 150500.3.1 "$ARCH"; pkg libpatchlab-ssl3 1.1.1 150500.3.1 "$ARCH"
           pkg patchlab-openssl 1.1.1 150500.3.1 src)"
    patch "$P-1002" recommended moderate "Recommended update for patchlab-utils" \
        "$(ref https://bugzilla.suse.com/show_bug.cgi?id=1230002 1230002 'patchlab-utils: lab bug' bugzilla)" \
        "$(pkg patchlab-utils 2.0 "$OLD" noarch)"
    patch "$P-1003" recommended low "Recommended update for patchlab-kernel-default" \
        "$(ref https://bugzilla.suse.com/show_bug.cgi?id=1230003 1230003 'patchlab-kernel-default: lab bug' bugzilla)" \
        "$(pkg patchlab-kernel-default 5.14.21 150500.55.7 "$ARCH" reboot)"
    echo '</updates>'
} >"$WORK/updateinfo.xml"
createrepo_c --quiet --no-database --simple-md-filenames "$REPO_DIR" >>"$LOG" 2>&1 || fail "createrepo_c"
modifyrepo_c --mdtype=updateinfo "$WORK/updateinfo.xml" "$REPO_DIR/repodata" >>"$LOG" 2>&1 || fail "modifyrepo_c updateinfo"
chmod -R a+rX "$TMP/srv/patchlab-repo"

# --- zypper configuration: only the lab's repository ------------------------------
rm -f "$TMP"/etc/zypp/repos.d/*
mkdir -p "$TMP/etc/zypp/repos.d" "$TMP/run"
cat >"$TMP/etc/zypp/repos.d/patchlab-sle-updates.repo" <<'REPO'
# patchctl lab (lab/build-suse.sh): a local, unsigned repository inside this tree.
[patchlab-sle-updates]
name=patchctl lab SLE-Module-Basesystem 15-SP5 Updates
enabled=1
autorefresh=0
baseurl=dir:///srv/patchlab-repo/sle-updates
type=rpm-md
gpgcheck=0
keeppackages=0
REPO

# --- installed: the oldest version of each, by rpm ---------------------------------
mkdir -p "$TMP/tmp/patchlab-rpms"
for rpm in patchlab-openssl-1.1.1-$OLD.$ARCH libpatchlab-ssl3-1.1.1-$OLD.$ARCH patchlab-utils-1.0-$OLD.noarch \
           patchlab-kernel-default-5.14.21-150500.55.1.$ARCH patchlab-tool-1.0-$OLD.noarch; do
    cp "$WORK/rpms/$rpm.rpm" "$TMP/tmp/patchlab-rpms/"
done
run sh -c 'rpm -i /tmp/patchlab-rpms/*.rpm && rm -rf /tmp/patchlab-rpms' || fail "rpm -i"
run zypper --non-interactive refresh || fail "zypper refresh"

# --- sanity: zypper itself sees what the tests expect -------------------------------
in_chroot "$TMP" zypper --non-interactive --no-refresh --xmlout list-patches >"$WORK/list-patches" 2>>"$LOG" ||
    fail "zypper list-patches exited $?"
cat "$WORK/list-patches" >>"$LOG"
for n in 1001 1002 1003; do
    grep -q "name=\"$P-$n\".*status=\"needed\"\|status=\"needed\".*name=\"$P-$n\"" "$WORK/list-patches" ||
        fail "zypper list-patches does not list $P-$n as needed"
done
in_chroot "$TMP" zypper --non-interactive --no-refresh --xmlout list-updates >"$WORK/list-updates" 2>>"$LOG" ||
    fail "zypper list-updates exited $?"
for name in patchlab-openssl libpatchlab-ssl3 patchlab-utils patchlab-kernel-default patchlab-tool; do
    grep -q "name=\"$name\"" "$WORK/list-updates" || fail "zypper list-updates does not list $name"
done
rm -f "$TMP/run/reboot-needed"

# --- commit --------------------------------------------------------------------
suse_stamp >"$TMP/$SUSE_STAMP_FILE"
umount_under "$TMP"
chmod 755 "$TMP"
remove_tree "$SUSE_TREE"                 # lab/start.sh (lab/suse.sh reset) copies it anew
remove_tree "$SUSE_BASE"
mv "$TMP" "$SUSE_BASE"
check_chroot_perms "$SUSE_BASE"
{ suse_stamp; printf 'built %s: zypper %s, libzypp %s, rpm %s (Debian)\n' "$(date -u +%FT%TZ)" \
    "$(in_chroot "$SUSE_BASE" dpkg-query -W -f='${Version}' zypper)" \
    "$(in_chroot "$SUSE_BASE" dpkg-query -W -f='${Version}' 'libzypp[0-9]*')" \
    "$(in_chroot "$SUSE_BASE" dpkg-query -W -f='${Version}' rpm)"; } >"$SUSE_MARKER"
