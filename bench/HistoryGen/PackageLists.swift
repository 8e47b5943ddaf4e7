/// Real package names of Debian 12, Ubuntu 22.04/24.04 and RHEL 9 (Rocky 9), grouped by source
/// package (an advisory updates every binary of its source at once), as a server fleet has them.
///
/// One source per line: `TIER SOURCE[@EPOCH][*WEIGHT] [only]: BINARY[/all|/noarch] ...`
/// - TIER: how many hosts have it installed: c core (nearly all), s standard, o optional, r rare.
/// - EPOCH: the version's epoch (`1:3.0.7-28.el9`); WEIGHT: how often it gets advisories (kernel, openssl).
/// - only: `[debian]`, `[ubuntu]`, `[jammy]`, `[noble]`, `[rhel]`, `[rocky]`: the distributions that ship it.
/// - Debian-family placeholders: {py} python3.11/3.10/3.12, {perl} 5.36/5.34/5.38, {pg} 15/14/16, {php} 8.2/8.1/8.3,
///   {ldap} 2.5-0/2.5-0/2.5-0, {node} 108/72/109.
enum PackageLists {
    static let debianFamily = """
        c linux*6 !kernel: linux-image
        c glibc*2: libc6 libc-bin libc-l10n/all locales/all
        c openssl*2: openssl libssl3
        c systemd*1.5: systemd libsystemd0 libudev1 udev systemd-sysv libpam-systemd
        c systemd-timesyncd [debian]: systemd-timesyncd
        c openssh@1*1.2: openssh-client openssh-server openssh-sftp-server
        c bash: bash
        c coreutils: coreutils
        c tar: tar
        c gzip: gzip
        c xz-utils: xz-utils liblzma5
        c zlib@1: zlib1g
        c curl*1.5: curl libcurl4 libcurl3-gnutls
        c gnutls28: libgnutls30
        c krb5: libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0
        c sudo: sudo
        c tzdata*1.5: tzdata/all
        c ca-certificates: ca-certificates/all
        c apt: apt libapt-pkg6.0 apt-utils
        c dpkg: dpkg
        c perl: perl perl-base perl-modules-{perl}/all libperl{perl}
        c {py}*1.2: {py} {py}-minimal lib{py}-minimal lib{py}-stdlib
        c expat: libexpat1
        c libxml2*1.2: libxml2
        c sqlite3: libsqlite3-0
        c pam: libpam0g libpam-modules libpam-modules-bin libpam-runtime/all
        c shadow@1: passwd login
        c util-linux: util-linux libblkid1 libmount1 libsmartcols1 libuuid1 fdisk mount bsdutils
        c e2fsprogs: e2fsprogs libcom-err2 libext2fs2 libss2 logsave
        c gnupg2: gnupg/all gpg gpgv gpg-agent dirmngr gpgconf
        c libgcrypt20: libgcrypt20
        c ncurses: libncursesw6 libtinfo6 ncurses-base/all ncurses-bin
        c readline: libreadline8 readline-common/all
        c pcre2: libpcre2-8-0
        c libcap2@1: libcap2 libcap2-bin
        c libseccomp: libseccomp2
        c libzstd: libzstd1
        c lz4: liblz4-1
        c bzip2: bzip2 libbz2-1.0
        c nghttp2: libnghttp2-14
        c libidn2: libidn2-0
        c libtasn1-6: libtasn1-6
        c p11-kit: libp11-kit0
        c cyrus-sasl2: libsasl2-2 libsasl2-modules-db
        c openldap: libldap-{ldap} libldap-common/all
        c dbus: dbus libdbus-1-3 dbus-bin dbus-daemon dbus-system-bus-common/all dbus-session-bus-common/all
        c glib2.0: libglib2.0-0
        c procps@2: procps libproc2-0
        c iproute2: iproute2
        c kmod: kmod libkmod2
        c cpio: cpio
        c less: less
        c file: file libmagic1 libmagic-mgc
        c libtirpc: libtirpc3 libtirpc-common/all
        c nss: libnss3
        c polkit-1: libpolkit-gobject-1-0 polkitd pkexec
        c intel-microcode: intel-microcode
        c grub2: grub-pc grub-pc-bin grub-common grub2-common
        c initramfs-tools: initramfs-tools/all initramfs-tools-core/all
        c wget: wget
        c rsyslog: rsyslog
        c logrotate: logrotate
        c cron: cron cron-daemon-common/all
        s python-urllib3: python3-urllib3/all
        s requests: python3-requests/all
        s jinja2: python3-jinja2/all
        s python-cryptography: python3-cryptography
        s python-certifi: python3-certifi/all
        s pyyaml: python3-yaml
        s iptables: iptables libip4tc2 libip6tc2 libxtables12
        s nftables@1: nftables libnftables1
        s isc-dhcp: isc-dhcp-client isc-dhcp-common
        s bind9@1: bind9-host bind9-libs bind9-dnsutils
        s vim@2: vim vim-common/all vim-runtime/all vim-tiny xxd
        s git@1: git git-man/all
        s unattended-upgrades: unattended-upgrades/all
        s rsync: rsync
        s qemu-guest-agent@1: qemu-guest-agent
        s cloud-init: cloud-init/all
        s chrony: chrony
        s lvm2: lvm2 dmsetup libdevmapper1.02.1 liblvm2cmd2.03
        s cryptsetup@2: cryptsetup libcryptsetup12
        s sysstat: sysstat
        s tcpdump: tcpdump
        s libpcap: libpcap0.8
        s libevent: libevent-2.1-7
        s libxslt: libxslt1.1
        s libpng1.6: libpng16-16
        s libjpeg-turbo@1: libjpeg62-turbo
        s tiff: libtiff6
        s freetype: libfreetype6
        s fontconfig: libfontconfig1 fontconfig-config/all
        s libwebp: libwebp7
        s libarchive: libarchive13
        s busybox@1: busybox
        s jq: jq libjq1
        s libonig: libonig5
        s libuv1: libuv1
        s libssh: libssh-4
        s postfix: postfix
        s amd64-microcode: amd64-microcode
        s nfs-utils@1: nfs-common
        s rpcbind: rpcbind
        s ubuntu-advantage-tools [jammy]: ubuntu-advantage-tools ubuntu-pro-client
        s ubuntu-pro-client [noble]: ubuntu-pro-client ubuntu-pro-client-l10n
        s snapd*1.3 [ubuntu]: snapd
        s netplan.io [ubuntu]: netplan.io libnetplan0
        s apport [ubuntu]: apport/all python3-apport/all python3-problem-report/all
        s update-notifier [ubuntu]: update-notifier-common/all
        s ubuntu-release-upgrader [ubuntu]: ubuntu-release-upgrader-core/all python3-distupgrade/all
        s distro-info-data [ubuntu]: distro-info-data/all
        s landscape-client [ubuntu]: landscape-common
        s fwupd [ubuntu]: fwupd libfwupd2
        s software-properties [ubuntu]: software-properties-common/all python3-software-properties/all
        s needrestart: needrestart/all
        s open-vm-tools@2: open-vm-tools
        o nginx*1.2: nginx nginx-common/all
        o apache2*1.2: apache2 apache2-bin apache2-data/all apache2-utils
        o php{php}: php{php}-cli php{php}-common php{php}-fpm php{php}-opcache php{php}-readline php{php}-mysql
        o postgresql-{pg}: postgresql-{pg} postgresql-client-{pg}
        o postgresql-common: postgresql-common/all postgresql-client-common/all
        o postgresql-libpq: libpq5
        o mariadb@1*1.2: mariadb-server mariadb-client mariadb-common/all libmariadb3
        o redis@5: redis-server redis-tools
        o haproxy: haproxy
        o openjdk-17*1.3: openjdk-17-jre-headless
        o exim4: exim4-base exim4-config/all exim4-daemon-light
        o containerd: containerd
        o runc: runc
        o docker.io: docker.io
        o samba@2: libwbclient0 samba-libs libsmbclient
        o nodejs: nodejs libnode{node}
        o libx11: libx11-6 libx11-data/all
        o ghostscript: libgs10 ghostscript
        o imagemagick@8: imagemagick-6-common/all libmagickcore-6.q16-6
        o mdadm: mdadm
        o giflib: libgif7
        o openjpeg2: libopenjp2-7
        r ruby3.1 [debian]: ruby3.1 libruby3.1
        r zabbix@1: zabbix-agent
        r net-snmp@5: libsnmp40 snmpd
        r squid@7: squid squid-common/all
        r bind9-server@1: bind9 bind9-utils
        r dnsmasq: dnsmasq-base
        r libvirt: libvirt0 libvirt-clients libvirt-daemon
        r qemu@1: qemu-system-x86 qemu-utils qemu-block-extra
        r keepalived@1: keepalived
        r openvpn: openvpn
        r strongswan: strongswan-charon strongswan-libcharon libstrongswan
        """

    static let rhelFamily = """
        c kernel*6 !kernel: kernel kernel-core kernel-modules kernel-modules-core kernel-tools kernel-tools-libs
        c linux-firmware: linux-firmware/noarch linux-firmware-whence/noarch
        c glibc*2: glibc glibc-common glibc-minimal-langpack glibc-langpack-en glibc-gconv-extra
        c openssl@1*2: openssl openssl-libs
        c systemd*1.5: systemd systemd-libs systemd-pam systemd-udev systemd-rpm-macros/noarch
        c openssh*1.2: openssh openssh-clients openssh-server
        c bash: bash
        c coreutils: coreutils coreutils-common
        c tar@2: tar
        c gzip: gzip
        c xz: xz xz-libs
        c zlib: zlib
        c curl*1.5: curl libcurl
        c gnutls: gnutls
        c krb5: krb5-libs
        c sudo: sudo
        c tzdata*1.5: tzdata/noarch
        c ca-certificates: ca-certificates/noarch
        c dnf: dnf/noarch dnf-data/noarch python3-dnf/noarch yum/noarch
        c libdnf: libdnf python3-libdnf python3-hawkey
        c rpm: rpm rpm-libs rpm-build-libs rpm-sign-libs python3-rpm rpm-plugin-selinux rpm-plugin-audit
        c perl: perl-interpreter perl-libs
        c python3.9*1.2: python3 python3-libs
        c expat: expat
        c libxml2*1.2: libxml2
        c sqlite: sqlite-libs
        c pam: pam
        c shadow-utils@2: shadow-utils
        c util-linux: util-linux util-linux-core libblkid libmount libsmartcols libuuid libfdisk
        c e2fsprogs: e2fsprogs e2fsprogs-libs libcom_err libss
        c gnupg2: gnupg2
        c libgcrypt: libgcrypt
        c nss: nss nss-util nss-softokn nss-softokn-freebl nss-sysinit
        c ncurses: ncurses ncurses-libs ncurses-base/noarch
        c readline: readline
        c pcre2: pcre2 pcre2-syntax/noarch
        c libcap: libcap
        c libseccomp: libseccomp
        c zstd: libzstd
        c lz4: lz4-libs
        c bzip2: bzip2-libs
        c nghttp2: libnghttp2
        c libidn2: libidn2
        c libtasn1: libtasn1
        c p11-kit: p11-kit p11-kit-trust
        c cyrus-sasl: cyrus-sasl-lib
        c openldap: openldap
        c dbus@1: dbus dbus-libs dbus-common/noarch dbus-tools
        c dbus-broker: dbus-broker
        c glib2: glib2
        c procps-ng: procps-ng
        c iproute: iproute iproute-tc
        c kmod: kmod kmod-libs
        c cpio: cpio
        c less: less
        c file: file file-libs
        c libtirpc: libtirpc
        c polkit: polkit polkit-libs
        c microcode_ctl@4: microcode_ctl/noarch
        c grub2@1: grub2-common/noarch grub2-pc grub2-pc-modules/noarch grub2-tools grub2-tools-minimal grub2-efi-x64
        c shim: shim-x64
        c dracut: dracut dracut-config-rescue dracut-network dracut-squash
        c rsyslog: rsyslog rsyslog-logrotate
        c logrotate: logrotate
        c cronie: cronie cronie-anacron
        c selinux-policy*1.2: selinux-policy/noarch selinux-policy-targeted/noarch
        c libselinux: libselinux libselinux-utils python3-libselinux
        c audit: audit audit-libs
        c NetworkManager@1: NetworkManager NetworkManager-libnm NetworkManager-team NetworkManager-tui
        c crypto-policies: crypto-policies/noarch crypto-policies-scripts/noarch
        c libxcrypt: libxcrypt
        c gcc: libgcc libstdc++ libgomp
        c binutils: binutils binutils-gold
        c elfutils: elfutils-libs elfutils-libelf elfutils-default-yama-scope/noarch
        c findutils@1: findutils
        c grep: grep
        c sed: sed
        c gawk: gawk
        c which: which
        c authselect: authselect authselect-libs
        c sssd: sssd-client sssd-common sssd-kcm
        c libsolv: libsolv
        c librepo: librepo
        c c-ares: c-ares
        c tpm2-tss: tpm2-tss
        c subscription-manager [rhel]: subscription-manager subscription-manager-rhsm-certificates/noarch python3-subscription-manager-rhsm
        c redhat-release [rhel]: redhat-release
        c rocky-release [rocky]: rocky-release/noarch rocky-repos/noarch rocky-gpg-keys/noarch
        s insights-client [rhel]: insights-client/noarch
        s python-urllib3: python3-urllib3/noarch
        s python-requests: python3-requests/noarch
        s python-jinja2: python3-jinja2/noarch
        s python-cryptography: python3-cryptography
        s PyYAML: python3-pyyaml
        s python-setuptools: python3-setuptools/noarch python3-setuptools-wheel/noarch
        s python-pip: python3-pip-wheel/noarch
        s iptables: iptables-libs iptables-nft
        s nftables@1: nftables
        s firewalld: firewalld/noarch firewalld-filesystem/noarch python3-firewall/noarch
        s dhcp@12: dhcp-client dhcp-common/noarch
        s bind@32: bind-libs bind-utils bind-license/noarch
        s vim@2: vim-minimal vim-enhanced vim-common vim-filesystem/noarch
        s git: git git-core git-core-doc/noarch perl-Git/noarch
        s rsync: rsync
        s qemu-guest-agent@17: qemu-guest-agent
        s cloud-init: cloud-init/noarch
        s chrony: chrony
        s tuned: tuned/noarch
        s lvm2@9: lvm2 lvm2-libs device-mapper device-mapper-libs
        s cryptsetup: cryptsetup-libs
        s sysstat: sysstat
        s tcpdump@14: tcpdump
        s libpcap@14: libpcap
        s libevent: libevent
        s libxslt: libxslt
        s libpng@2: libpng
        s libjpeg-turbo: libjpeg-turbo
        s libtiff: libtiff
        s freetype: freetype
        s fontconfig: fontconfig
        s libwebp: libwebp
        s libarchive: libarchive
        s jq: jq
        s oniguruma: oniguruma
        s libuv@1: libuv
        s libssh: libssh libssh-config/noarch
        s postfix@2: postfix
        s nfs-utils@1: nfs-utils
        s rpcbind: rpcbind
        s avahi: avahi-libs
        s cups@1: cups-libs
        s open-vm-tools: open-vm-tools
        s net-snmp@1: net-snmp-libs
        o nginx@1*1.2: nginx nginx-core nginx-filesystem/noarch
        o httpd*1.2: httpd httpd-core httpd-tools httpd-filesystem/noarch mod_ssl
        o php*1.2: php php-cli php-common php-fpm php-mysqlnd php-opcache
        o postgresql: postgresql postgresql-server postgresql-private-libs
        o mariadb@3*1.2: mariadb mariadb-server mariadb-common mariadb-connector-c
        o redis: redis
        o haproxy: haproxy
        o java-17-openjdk@1*1.3: java-17-openjdk-headless
        o nodejs@1: nodejs nodejs-libs npm
        o podman@5: podman podman-plugins
        o buildah@2: buildah
        o skopeo@2: skopeo
        o containers-common@2: containers-common/noarch
        o crun: crun
        o runc@4: runc
        o conmon@3: conmon
        o samba: samba-client-libs samba-common/noarch libwbclient
        o libX11: libX11 libX11-common/noarch
        o ghostscript: ghostscript libgs
        o mdadm: mdadm
        o giflib: giflib
        o openjpeg2: openjpeg2
        r ruby: ruby ruby-libs rubygem-json
        r squid@7: squid
        r bind-server@32: bind bind-dnssec-utils
        r dnsmasq: dnsmasq
        r libvirt: libvirt-libs libvirt-client libvirt-daemon
        r qemu-kvm@17: qemu-kvm qemu-img qemu-kvm-core
        r keepalived: keepalived
        r openvpn: openvpn
        r libreswan: libreswan
        r tomcat@1: tomcat tomcat-lib/noarch
        """
}

extension PackageLists {
    /// The versions (without epoch) the releases shipped for the best-known sources; the rest get a
    /// plausible one derived from the name. Updates append `+deb12uN` (Debian), `.N` (Ubuntu) or
    /// raise the release (`-28.el9_5`, RHEL).
    static let baseVersions: [String: [String: String]] = [
        "debian12": [
            "glibc": "2.36-9", "openssl": "3.0.15-1", "systemd": "252.30-1", "openssh": "9.2p1-2", "bash": "5.2.15-2", "coreutils": "9.1-1",
            "tar": "1.34+dfsg-1.2", "gzip": "1.12-1", "xz-utils": "5.4.1-0.2", "zlib": "1.2.13.dfsg-1", "curl": "7.88.1-10", "gnutls28": "3.7.9-2",
            "krb5": "1.20.1-2", "sudo": "1.9.13p3-1", "tzdata": "2024a-0", "apt": "2.6.1", "dpkg": "1.21.22", "perl": "5.36.0-7",
            "python3.11": "3.11.2-6", "expat": "2.5.0-1", "libxml2": "2.9.14+dfsg-1.3", "sqlite3": "3.40.1-2", "pam": "1.5.2-6",
            "util-linux": "2.38.1-5", "e2fsprogs": "1.47.0-2", "gnupg2": "2.2.40-1.1", "libgcrypt20": "1.10.1-3", "ncurses": "6.4-4",
            "readline": "8.2-1.3", "pcre2": "10.42-1", "libcap2": "2.66-4", "libseccomp": "2.5.4-1", "libzstd": "1.5.4+dfsg2-5", "lz4": "1.9.4-1",
            "bzip2": "1.0.8-5", "nghttp2": "1.52.0-1", "libidn2": "2.3.3-1", "libtasn1-6": "4.19.0-2", "p11-kit": "0.24.1-2",
            "cyrus-sasl2": "2.1.28+dfsg-10", "openldap": "2.5.13+dfsg-5", "dbus": "1.14.10-1", "glib2.0": "2.74.6-2", "procps": "4.0.2-3",
            "iproute2": "6.1.0-3", "kmod": "30+20221128-1", "cpio": "2.13+dfsg-7.1", "less": "590-2.1", "file": "5.44-3", "libtirpc": "1.3.3+ds-1",
            "nss": "3.87.1-1", "polkit-1": "122-3", "intel-microcode": "3.20240813.1", "grub2": "2.06-13", "initramfs-tools": "0.142",
            "wget": "1.21.3-1", "rsyslog": "8.2302.0-1", "logrotate": "3.21.0-1", "cron": "3.0pl1-162", "shadow": "4.13+dfsg1-1",
            "python-urllib3": "1.26.12-1", "requests": "2.28.1+dfsg-1", "jinja2": "3.1.2-1", "python-cryptography": "38.0.4-3",
            "python-certifi": "2022.9.24-1", "pyyaml": "6.0-3", "iptables": "1.8.9-2", "nftables": "1.0.6-2", "isc-dhcp": "4.4.3-P1-2",
            "bind9": "9.18.28-1", "vim": "9.0.1378-2", "git": "2.39.5-0", "unattended-upgrades": "2.9.1+nmu3", "rsync": "3.2.7-1",
            "qemu-guest-agent": "7.2+dfsg-7", "cloud-init": "22.4.2-1", "chrony": "4.3-2", "lvm2": "2.03.16-2", "cryptsetup": "2.6.1-4",
            "sysstat": "12.6.1-1", "tcpdump": "4.99.3-1", "libpcap": "1.10.3-1", "libevent": "2.1.12-stable-8", "libxslt": "1.1.35-1",
            "libpng1.6": "1.6.39-2", "libjpeg-turbo": "2.1.5-2", "tiff": "4.5.0-6", "freetype": "2.12.1+dfsg-5", "fontconfig": "2.14.1-4",
            "libwebp": "1.2.4-0.2", "libarchive": "3.6.2-1", "busybox": "1.35.0-4", "jq": "1.6-2.1", "libonig": "6.9.8-1", "libuv1": "1.44.2-1",
            "libssh": "0.10.6-0", "postfix": "3.7.11-0", "amd64-microcode": "3.20240820.1", "nfs-utils": "2.6.2-4", "rpcbind": "1.2.6-6",
            "needrestart": "3.6-4", "open-vm-tools": "12.2.0-1", "nginx": "1.22.1-9", "apache2": "2.4.62-1", "php8.2": "8.2.20-1",
            "postgresql-15": "15.8-0", "postgresql-common": "248", "postgresql-libpq": "15.8-0", "mariadb": "10.11.6-0", "redis": "7.0.15-1",
            "haproxy": "2.6.12-1", "openjdk-17": "17.0.13+11-2", "exim4": "4.96-15", "containerd": "1.6.20~ds1-1", "runc": "1.1.5+ds1-1",
            "docker.io": "20.10.24+dfsg1-1", "samba": "4.17.12+dfsg-0", "nodejs": "18.19.0+dfsg-6", "libx11": "1.8.4-2",
            "ghostscript": "10.0.0~dfsg-11", "imagemagick": "6.9.11.60+dfsg-1.6", "mdadm": "4.2-5", "giflib": "5.2.1-2.5", "openjpeg2": "2.5.0-2",
            "ca-certificates": "20230311",
        ],
        "ubuntu2204": [
            "glibc": "2.35-0ubuntu3", "openssl": "3.0.2-0ubuntu1", "systemd": "249.11-0ubuntu3", "openssh": "8.9p1-3ubuntu0", "bash": "5.1-6ubuntu1",
            "curl": "7.81.0-1ubuntu1", "sudo": "1.9.9-1ubuntu2", "python3.10": "3.10.12-1~22.04", "perl": "5.34.0-3ubuntu1", "apt": "2.4.13",
            "libxml2": "2.9.13+dfsg-1ubuntu0", "expat": "2.4.7-1ubuntu0", "git": "2.34.1-1ubuntu1", "vim": "8.2.3995-1ubuntu2",
            "nginx": "1.18.0-6ubuntu14", "apache2": "2.4.52-1ubuntu4", "snapd": "2.63+22.04ubuntu0", "tzdata": "2024a-0ubuntu0.22.04",
            "ca-certificates": "20240203~22.04",
        ],
        "ubuntu2404": [
            "glibc": "2.39-0ubuntu8", "openssl": "3.0.13-0ubuntu3", "systemd": "255.4-1ubuntu8", "openssh": "9.6p1-3ubuntu13", "bash": "5.2.21-2ubuntu4",
            "curl": "8.5.0-2ubuntu10", "sudo": "1.9.15p5-3ubuntu5", "python3.12": "3.12.3-1ubuntu0", "perl": "5.38.2-3.2build2", "apt": "2.7.14build2",
            "libxml2": "2.9.14+dfsg-1.3ubuntu3", "expat": "2.6.1-2ubuntu0", "git": "2.43.0-1ubuntu7", "vim": "9.1.0016-1ubuntu7",
            "nginx": "1.24.0-2ubuntu7", "apache2": "2.4.58-1ubuntu8", "snapd": "2.63+24.04ubuntu0", "tzdata": "2024a-3ubuntu1",
            "ca-certificates": "20240203",
        ],
        "el9": [
            "glibc": "2.34-100.el9", "openssl": "3.0.7-27.el9", "systemd": "252-32.el9", "openssh": "8.7p1-38.el9", "bash": "5.1.8-9.el9",
            "coreutils": "8.32-35.el9", "curl": "7.76.1-29.el9", "sudo": "1.9.5p2-10.el9", "python3.9": "3.9.18-3.el9", "perl": "5.32.1-481.el9",
            "dnf": "4.14.0-9.el9", "rpm": "4.16.1.3-29.el9", "libxml2": "2.9.13-6.el9", "expat": "2.5.0-2.el9", "git": "2.43.5-1.el9",
            "vim": "8.2.2637-20.el9", "nginx": "1.20.1-14.el9", "httpd": "2.4.57-11.el9", "tzdata": "2024a-1.el9", "krb5": "1.21.1-1.el9",
            "gnutls": "3.8.3-4.el9", "nss": "3.90.0-7.el9", "selinux-policy": "38.1.35-2.el9", "linux-firmware": "20240610-143.el9",
            "NetworkManager": "1.46.0-8.el9", "podman": "4.9.4-6.el9", "python-urllib3": "1.26.5-5.el9", "ca-certificates": "2024.2.69_v8.0.303-91.4.el9",
            "postgresql": "13.14-1.el9", "mariadb": "10.5.22-1.el9", "php": "8.0.30-1.el9", "java-17-openjdk": "17.0.11.0.9-2.el9",
        ],
    ]
}
