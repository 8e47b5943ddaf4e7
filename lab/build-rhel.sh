#!/usr/bin/env bash
# Usage: lab/build-rhel.sh
# Builds, once per machine, the lab's RHEL-family endpoint tree:
# $PATCHCTL_LAB_ROOT/rocky9 (default /var/lib/patchctl-lab/rocky9), a copy of
# the cached Debian base tree (never modified) turned into a Rocky Linux 9
# look-alike whose package manager is real dnf 4 and rpm (Debian's packages):
#   - dnf, dnf-plugins-core (needs-restarting) and rpm installed with the
#     tree's apt, then apt itself purged, so that the tree offers no apt-get
#     (patchctl must take it for a RHEL-family host, as a real one would be);
#   - an rpm database in /var/lib/rpm (Debian's rpm defaults to ~/.rpmdb);
#   - /etc/os-release of Rocky Linux 9.5 and a small release package providing
#     system-release(releasever) = 9, which is how dnf finds $releasever;
#   - two local dnf repositories inside the tree, file:///srv/patchlab-repo/
#     {baseos,appstream}, the only ones configured, built here with rpmbuild,
#     createrepo_c and (for updateinfo.xml) modifyrepo_c:
#       patchlab-openssl-lib  1.0-1.el9 -> 1.0.5-1.el9 -> 1.1-1.el9 (x86_64):
#                             security advisories PLSA-2025:0001 (Moderate,
#                             1.0.5) and PLSA-2025:0003 (Important, 1.1)
#       patchlab-utils        1:1.0-1.el9 -> 1:2.0-1.el9 (noarch, epoch 1):
#                             bugfix advisory PLBA-2025:0002
#       patchlab-python3-extremely-long-package-name-wraps  1.0-1.el9 ->
#                             1.0-2.el9 (appstream, no advisory): its name is
#                             long enough to wrap dnf's 80-column output
#       patchlab-modern 2.0-1.el9 (appstream) obsoletes the installed
#                             patchlab-legacy 1.0-1.el9: an "Obsoleting
#                             Packages" entry, not an update of an installed name
#     with the oldest version of each installed by rpm, and dnf's metadata
#     cache made (scans without --refresh read only the cache, as with -C);
#   - /etc/dnf/plugins/needs-restarting.d/patchlab.conf naming
#     patchlab-openssl-lib, so that `dnf needs-restarting -r` asks for a reboot
#     once it is upgraded, as it does on RHEL for glibc or the kernel;
#   - /proc/1, a plain directory (nothing is mounted in the lab): its mtime is
#     what needs-restarting reads as the boot time (`os.stat('/proc/1')`),
#     set by `lab/rhel.sh reset|boot`.
# Rebuilt when RHEL_VERSION (common.sh) or the base's provisioning changes;
# otherwise a no-op. Needs the Debian mirror (apt inside the copy) once.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_root
[ -f "$BASE_MARKER" ] || die "no lab tree: run lab/build-chroot.sh"
provisioned "$BASE_TREE" || die "lab tree predates provisioning v$PROVISION_VERSION: run lab/build-chroot.sh"
for tool in rpmbuild createrepo_c modifyrepo_c; do
    command -v "$tool" >/dev/null || die "$tool missing: run lab/deps.sh"
done

exec 9>"$LAB_ROOT/.rhel-build.lock"
flock 9                                  # parallel callers wait for one build
rhel_built && exit 0

TMP=$LAB_ROOT/rocky9.tmp
LOG=$LAB_ROOT/build-rhel.log
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; umount_under "$TMP"' EXIT
fail() { echo "lab: RHEL tree build failed: $*; last lines of $LOG:" >&2; tail -n 30 "$LOG" >&2; exit 1; }
: >"$LOG"
rm -f "$RHEL_MARKER"
remove_tree "$TMP"
cp -a --reflink=auto "$BASE_TREE" "$TMP"
run() { in_chroot "$TMP" "$@" >>"$LOG" 2>&1; }

# --- dnf and rpm from Debian, then no apt -----------------------------------
printf '#!/bin/sh\nexit 101\n' >"$TMP/usr/sbin/policy-rc.d"   # no service may start in a chroot
chmod 755 "$TMP/usr/sbin/policy-rc.d"
run apt-get -q update || fail "apt-get update"
run apt-get -q -y -o Dpkg::Use-Pty=0 install --no-install-recommends dnf dnf-plugins-core rpm ||
    fail "apt-get install dnf dnf-plugins-core rpm"
run apt-get clean
run dpkg --purge apt || fail "dpkg --purge apt"
rm -rf "$TMP/usr/sbin/policy-rc.d" "$TMP/etc/apt" "$TMP/var/lib/apt" "$TMP/var/cache/apt" "$TMP/var/log/apt" \
    "$TMP/srv/lab-repo"                  # the Debian lab repository has no use here
[ ! -e "$TMP/usr/bin/apt-get" ] || fail "apt-get is still in the tree"

# --- rpm database where RHEL keeps it ----------------------------------------
mkdir -p "$TMP/etc/rpm"
echo '%_dbpath /var/lib/rpm' >"$TMP/etc/rpm/macros"
run rpm --initdb || fail "rpm --initdb"

# --- Rocky Linux 9.5's os-release (as /usr/lib/os-release, linked from /etc) --
cat >"$TMP/usr/lib/os-release" <<'OSR'
NAME="Rocky Linux"
VERSION="9.5 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.5"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.5 (Blue Onyx)"
ANSI_COLOR="0;32"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:rocky:rocky:9::baseos"
HOME_URL="https://rockylinux.org/"
VENDOR_NAME="RESF"
VENDOR_URL="https://resf.org/"
BUG_REPORT_URL="https://bugs.rockylinux.org/"
SUPPORT_END="2032-05-31"
ROCKY_SUPPORT_PRODUCT="Rocky-Linux-9"
ROCKY_SUPPORT_PRODUCT_VERSION="9.5"
REDHAT_SUPPORT_PRODUCT="Rocky Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="9.5"
OSR
ln -sfn ../usr/lib/os-release "$TMP/etc/os-release"

# --- test packages -------------------------------------------------------------
export SOURCE_DATE_EPOCH=1700000000      # reproducible rpm headers
ARCH=$(uname -m)
# mkrpm NAME [EPOCH:]VERSION RELEASE ARCH [EXTRA-SPEC-LINES]  -> $WORK/rpms/
# No scriptlets and no automatic dependencies: the rpm database knows only
# these packages (the userland under them is dpkg's), so nothing may require
# /bin/sh or a library.
mkrpm() {
    local name=$1 evr=$2 release=$3 arch=$4 extra=${5:-} epoch= version=$2 spec
    case $evr in *:*) epoch=${evr%%:*} version=${evr#*:} ;; esac
    spec=$WORK/$name-$version-$release.spec
    {
        echo "Name: $name"
        [ -z "$epoch" ] || echo "Epoch: $epoch"
        echo "Version: $version"
        echo "Release: $release"
        echo "Summary: patchctl test-lab package $name"
        echo "License: MIT"
        echo "BuildArch: $arch"
        echo "AutoReqProv: no"
        [ -z "$extra" ] || printf '%s\n' "$extra"
        echo "%description"
        echo "patchctl test-lab package $name $evr-$release: installs /usr/share/patchlab/$name.version."
        echo "%install"
        echo "mkdir -p %{buildroot}/usr/share/patchlab"
        echo "echo '$evr-$release' > %{buildroot}/usr/share/patchlab/$name.version"
        echo "%files"
        echo "/usr/share/patchlab/$name.version"
    } >"$spec"
    rpmbuild -bb --nodeps --quiet --define "_topdir $WORK/top" --define "_rpmdir $WORK/rpms" \
        --define '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm' \
        --define '_buildhost patchlab.invalid' --define '_binary_payload w9.gzdio' "$spec" >>"$LOG" 2>&1 ||
        fail "rpmbuild $name $evr-$release"
}
LONG=patchlab-python3-extremely-long-package-name-wraps
mkrpm patchlab-release 9.5 1.el9 noarch 'Provides: system-release = 9.5
Provides: system-release(releasever) = 9
Provides: redhat-release = 9.5'
mkrpm patchlab-openssl-lib 1.0 1.el9 "$ARCH"
mkrpm patchlab-openssl-lib 1.0.5 1.el9 "$ARCH"
mkrpm patchlab-openssl-lib 1.1 1.el9 "$ARCH"
mkrpm patchlab-utils 1:1.0 1.el9 noarch
mkrpm patchlab-utils 1:2.0 1.el9 noarch
mkrpm "$LONG" 1.0 1.el9 noarch
mkrpm "$LONG" 1.0 2.el9 noarch
mkrpm patchlab-legacy 1.0 1.el9 noarch
mkrpm patchlab-modern 2.0 1.el9 noarch 'Obsoletes: patchlab-legacy < 2.0
Provides: patchlab-legacy = 2.0-1.el9'

# --- the repositories: /srv/patchlab-repo/{baseos,appstream} -------------------
REPOS=$TMP/srv/patchlab-repo
mkdir -p "$REPOS/baseos/Packages" "$REPOS/appstream/Packages"
cp "$WORK"/rpms/patchlab-{release,openssl-lib,utils,legacy}-*.rpm "$REPOS/baseos/Packages/"
cp "$WORK"/rpms/{"$LONG",patchlab-modern}-*.rpm "$REPOS/appstream/Packages/"
issued=$(date -u -d @"$SOURCE_DATE_EPOCH" '+%Y-%m-%d %H:%M:%S')
# pkg NAME EPOCH VERSION RELEASE ARCH: one <package> of an advisory.
pkg() {
    printf '        <package name="%s" epoch="%s" version="%s" release="%s" arch="%s" src="%s-%s-%s.src.rpm">\n          <filename>%s-%s-%s.%s.rpm</filename>\n        </package>\n' \
        "$1" "$2" "$3" "$4" "$5" "$1" "$3" "$4" "$1" "$3" "$4" "$5"
}
# advisory ID TYPE SEVERITY TITLE PACKAGE-LINES
advisory() {
    cat <<ADV
  <update from="lab@patchctl.invalid" status="final" type="$2" version="1">
    <id>$1</id>
    <title>$4</title>
    <issued date="$issued"/>
    <updated date="$issued"/>
    <severity>$3</severity>
    <description>patchctl lab advisory: $4</description>
    <references/>
    <pkglist>
      <collection short="patchlab-baseos">
        <name>patchctl lab</name>
$5
      </collection>
    </pkglist>
  </update>
ADV
}
{
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo '<updates>'
    advisory PLSA-2025:0001 security Moderate "Moderate: patchlab-openssl-lib security update" \
        "$(pkg patchlab-openssl-lib 0 1.0.5 1.el9 "$ARCH")"
    advisory PLBA-2025:0002 bugfix None "patchlab-utils bug fix update" \
        "$(pkg patchlab-utils 1 2.0 1.el9 noarch)"
    advisory PLSA-2025:0003 security Important "Important: patchlab-openssl-lib security update" \
        "$(pkg patchlab-openssl-lib 0 1.1 1.el9 "$ARCH")"
    echo '</updates>'
} >"$WORK/updateinfo.xml"
for repo in baseos appstream; do
    createrepo_c --quiet --no-database --simple-md-filenames "$REPOS/$repo" >>"$LOG" 2>&1 || fail "createrepo_c $repo"
done
modifyrepo_c --mdtype=updateinfo "$WORK/updateinfo.xml" "$REPOS/baseos/repodata" >>"$LOG" 2>&1 || fail "modifyrepo_c updateinfo"
chmod -R a+rX "$REPOS"

# --- dnf configuration: RHEL 9's defaults, only the lab's repositories ----------
# Debian's dnf.conf skips unavailable repositories and Debian enables plugins
# that RHEL ships apart and does not install (local, versionlock,
# post-transaction-actions; local adds a GPG-checked repository of its own).
cat >"$TMP/etc/dnf/dnf.conf" <<'CONF'
[main]
gpgcheck=1
installonly_limit=3
clean_requirements_on_remove=True
best=True
skip_if_unavailable=False
CONF
for plugin in local versionlock post-transaction-actions; do
    sed -i 's/^enabled *=.*/enabled=0/' "$TMP/etc/dnf/plugins/$plugin.conf"
done
mkdir -p "$TMP/etc/yum.repos.d" "$TMP/etc/dnf/plugins/needs-restarting.d"
cat >"$TMP/etc/yum.repos.d/patchlab.repo" <<'REPO'
# patchctl lab (lab/build-rhel.sh): local, unsigned repositories inside this tree.
[patchlab-baseos]
name=patchctl lab BaseOS
baseurl=file:///srv/patchlab-repo/baseos
enabled=1
gpgcheck=0

[patchlab-appstream]
name=patchctl lab AppStream
baseurl=file:///srv/patchlab-repo/appstream
enabled=1
gpgcheck=0
REPO
echo patchlab-openssl-lib >"$TMP/etc/dnf/plugins/needs-restarting.d/patchlab.conf"
mkdir -p "$TMP/proc/1"

# --- installed: the oldest version of each, by rpm (dnf then knows them as @System)
mkdir -p "$TMP/tmp/patchlab-rpms"
cp "$WORK"/rpms/{patchlab-release-9.5-1.el9.noarch,patchlab-openssl-lib-1.0-1.el9.$ARCH,patchlab-utils-1.0-1.el9.noarch,$LONG-1.0-1.el9.noarch,patchlab-legacy-1.0-1.el9.noarch}.rpm \
    "$TMP/tmp/patchlab-rpms/"
run sh -c 'rpm -i /tmp/patchlab-rpms/*.rpm && rm -rf /tmp/patchlab-rpms' || fail "rpm -i"
run dnf -q makecache || fail "dnf makecache"

# --- sanity: dnf itself sees what the tests expect -------------------------------
in_chroot "$TMP" dnf -q -C check-update >"$WORK/check-update" 2>>"$LOG" && rc=0 || rc=$?
cat "$WORK/check-update" >>"$LOG"
[ "$rc" = 100 ] || fail "dnf check-update exited $rc, expected 100 (updates pending)"
for want in "patchlab-openssl-lib.$ARCH 1.1-1.el9 patchlab-baseos" "patchlab-utils.noarch 1:2.0-1.el9 patchlab-baseos" \
            "$LONG.noarch 1.0-2.el9 patchlab-appstream"; do
    tr -s ' \n' '  ' <"$WORK/check-update" | grep -qF "$want" || fail "dnf check-update does not list: $want"
done
in_chroot "$TMP" dnf -q -C updateinfo list --available >"$WORK/updateinfo" 2>>"$LOG" || fail "dnf updateinfo list"
grep -q '^PLSA-2025:0003 *Important/Sec\. *patchlab-openssl-lib-1\.1-1\.el9\.' "$WORK/updateinfo" || fail "updateinfo lacks PLSA-2025:0003"
touch "$TMP/proc/1"                      # "booted" after the packages were installed
in_chroot "$TMP" dnf -q -C needs-restarting -r >>"$LOG" 2>&1 || fail "dnf needs-restarting -r should find no reboot needed"

# --- commit --------------------------------------------------------------------
rhel_stamp >"$TMP/$RHEL_STAMP_FILE"
umount_under "$TMP"
chmod 755 "$TMP"
remove_tree "$RHEL_TREE"                 # lab/start.sh (lab/rhel.sh reset) copies it anew
remove_tree "$RHEL_BASE"
mv "$TMP" "$RHEL_BASE"
check_chroot_perms "$RHEL_BASE"
{ rhel_stamp; printf 'built %s: dnf %s, rpm %s (Debian)\n' "$(date -u +%FT%TZ)" \
    "$(in_chroot "$RHEL_BASE" dpkg-query -W -f='${Version}' dnf)" "$(in_chroot "$RHEL_BASE" dpkg-query -W -f='${Version}' rpm)"; } >"$RHEL_MARKER"
