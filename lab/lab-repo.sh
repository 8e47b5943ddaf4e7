# The lab's own Debian repository, shared by the Debian 12 and Debian 13 trees (sourced by
# lab/build-chroot.sh and lab/build-trixie.sh, never run): four tiny packages and two suites that
# give every tree the same deterministic pending updates, a security one that asks for a reboot
# and an ordinary one.
#   build_lab_repo WORK REPO_DIR RELEASE_VERSION LOG
# builds patchlab-canary 1.0/1.1 and patchlab-tool 1.0/2.0 into WORK (the 1.0 .debs are what the
# tree installs) and the repository in REPO_DIR: lab-security (canary 1.1, label PatchLab-Security)
# and lab-updates (tool 2.0, label PatchLab), whose Release files say RELEASE_VERSION.

lab_mkdeb() {  # lab_mkdeb WORK LOG NAME VERSION [POSTINST-BODY]  -> WORK/NAME_VERSION_all.deb
    local work=$1 log=$2 name=$3 ver=$4 d=$1/$3-$4
    mkdir -p "$d/DEBIAN" "$d/usr/share/patchlab" "$d/usr/bin"
    echo "$ver" >"$d/usr/share/patchlab/$name.version"
    printf '#!/bin/sh\necho "%s %s"\n' "$name" "$ver" >"$d/usr/bin/$name"
    chmod 755 "$d/usr/bin/$name"
    cat >"$d/DEBIAN/control" <<CTL
Package: $name
Version: $ver
Architecture: all
Section: misc
Priority: optional
Maintainer: patchctl lab <lab@patchctl.invalid>
Description: patchctl test-lab package $name $ver
 Installs /usr/bin/$name, which prints its own version.
CTL
    if [ -n "${5:-}" ]; then
        printf '#!/bin/sh\nset -e\n%s\n' "$5" >"$d/DEBIAN/postinst"
        chmod 755 "$d/DEBIAN/postinst"
    fi
    dpkg-deb --root-owner-group -Zxz --build "$d" "$work/${name}_${ver}_all.deb" >>"$log" 2>&1
}

lab_mksuite() {  # lab_mksuite REPO_DIR RELEASE_VERSION LOG SUITE LABEL DEB
    local repo=$1 version=$2 log=$3 suite=$4 label=$5 deb=$6 arch
    arch=$(dpkg --print-architecture)
    local idx=dists/$suite/main/binary-$arch
    mkdir -p "$repo/pool/$suite" "$repo/$idx"
    cp "$deb" "$repo/pool/$suite/"
    (cd "$repo" && dpkg-scanpackages -m "pool/$suite" /dev/null >"$idx/Packages" 2>>"$log")
    # Suite/Label are what apt prints: "(1.1 LABEL:VERSION/SUITE [all])".
    cat >"$repo/dists/$suite/Release" <<REL
Origin: PatchLab
Label: $label
Suite: $suite
Codename: $suite
Version: $version
Date: $(LC_ALL=C date -u -R -d @"$SOURCE_DATE_EPOCH")
Architectures: $arch
Components: main
Description: patchctl lab repository ($suite)
SHA256:
 $(sha256sum <"$repo/$idx/Packages" | cut -d' ' -f1) $(stat -c %s "$repo/$idx/Packages") main/binary-$arch/Packages
REL
}

build_lab_repo() {  # build_lab_repo WORK REPO_DIR RELEASE_VERSION LOG
    local work=$1 repo=$2 version=$3 log=$4
    export SOURCE_DATE_EPOCH=1700000000      # reproducible .deb timestamps
    lab_mkdeb "$work" "$log" patchlab-canary 1.0
    lab_mkdeb "$work" "$log" patchlab-tool 1.0
    # Like a real kernel/libc security update, 1.1 asks for a reboot.
    lab_mkdeb "$work" "$log" patchlab-canary 1.1 'if [ "$1" = configure ]; then
  touch /var/run/reboot-required
  grep -qsx patchlab-canary /var/run/reboot-required.pkgs || echo patchlab-canary >>/var/run/reboot-required.pkgs
fi'
    lab_mkdeb "$work" "$log" patchlab-tool 2.0
    lab_mksuite "$repo" "$version" "$log" lab-security PatchLab-Security "$work/patchlab-canary_1.1_all.deb"
    lab_mksuite "$repo" "$version" "$log" lab-updates PatchLab "$work/patchlab-tool_2.0_all.deb"
    chmod -R a+rX "$repo"                    # apt's _apt user must read it
}
