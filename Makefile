# patchctl — see README.md. Every target installs what it needs (Debian 12, as root); build, install and
# deb need only Swift and the build packages (scripts/build-deps.sh --build), and no root.
SWIFT  ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
PREFIX ?= /usr/local
CONFIG ?= release
BIN     = .build/$(CONFIG)/patchctl
MANPAGE = .build/man/patchctl.1
LAB_KNOWN_HOSTS = .lab/known_hosts
# libssh2 >= 1.11 (RSA with rsa-sha2-256/512): the system's, or Debian trixie's built static by scripts/libssh2.sh.
LIBSSH2 = PKG_CONFIG_PATH="$$(scripts/libssh2.sh)"

.PHONY: bench-advisories bench-discover bench-history all deps build lab lab-stop demo test fuzz bench install uninstall deb clean record-fixtures

all: build

deps:
	scripts/build-deps.sh
	lab/deps.sh

# The release binary, self-contained (Swift's runtime, Foundation, libssh2, OpenSSL and SQLite linked in):
# it runs on any Debian 12 without Swift; scripts/build-release.sh checks what it links. And its man page.
build:
	SWIFT=$(SWIFT) CONFIG=$(CONFIG) scripts/build-release.sh >/dev/null

# The local lab: a real sshd on 127.x.y.z:2222-2229 chrooted into Debian 12 and Debian 13 trees, a Rocky 9 and a
# SLES 15 look-alike (each built once per machine).
lab: deps
	lab/build-chroot.sh
	lab/advisory-data.sh
	lab/build-rhel.sh
	lab/build-trixie.sh
	lab/build-suse.sh
	lab/start.sh

lab-stop:
	lab/stop.sh

# The main job on the bundled lab: scan every lab host, record it in the default history database.
demo: build lab
	$(BIN) scan -i inventories/lab.yml --known-hosts $(LAB_KNOWN_HOSTS) --details
	lab/trixie.sh reset
	$(BIN) scan -i inventories/lab-debian13.yml --known-hosts $(LAB_KNOWN_HOSTS) --details
	for n in 1 2 3; do lab/slot.sh reset $$n >/dev/null; done
	$(BIN) deploy -i inventories/lab-deploy.yml --policy lab-rollout --known-hosts $(LAB_KNOWN_HOSTS) --dry-run
	$(BIN) deploy -i inventories/lab-deploy.yml --policy lab-rollout --known-hosts $(LAB_KNOWN_HOSTS)
	$(BIN) history --last 5
	$(BIN) report compliance --standard pci-dss -i inventories/lab-deploy.yml --format html -o patch-report.html
	@echo "compliance report with charts: $$(pwd)/patch-report.html"

# Fixtures from your own host (docs/platforms.md#recording-fixtures): the scan's own command over SSH, its output
# with host names, the login user, addresses and MACs scrubbed, and a SOURCE.md, into OUT/<os>-<version>-<date>/.
# make record-fixtures HOST=[user@]host[:port] [KEY=path] [OUT=dir] [SHELL_TYPE=powershell] [KNOWN_HOSTS=file]
OUT ?= Tests/PatchCoreTests/Fixtures/recorded
record-fixtures: build
	@test -n "$(HOST)" || { echo 'usage: make record-fixtures HOST=[user@]host[:port] [KEY=path] [OUT=dir] [SHELL_TYPE=powershell]' >&2; exit 64; }
	$(BIN) record-fixtures '$(HOST)' --out '$(OUT)' $(if $(KEY),--private-key '$(KEY)') \
	    $(if $(SHELL_TYPE),--shell-type '$(SHELL_TYPE)') $(if $(KNOWN_HOSTS),--known-hosts '$(KNOWN_HOSTS)')

# Unit tests on recorded outputs plus integration tests against the lab's real sshd and apt, and
# inventory tests against ansible-core's own answers (in .venv/, see scripts/test-venv.sh).
# `deb` first: the package test installs .build/deb/patchctl_*.deb into a clean Debian 12 chroot.
test: deps lab deb
	lab/reset-rw.sh
	scripts/test-venv.sh
	# pywinrm's venv and the WinRM test CA, before the tests: made inside them (pip from PyPI, a minute or
	# two on a fresh clone), it held the test process's few shared threads, and other tests' waits ran out.
	lab/winrm/setup.sh
	$(LIBSSH2) PATCHCTL_REQUIRE_LAB=1 SWIFT=$(SWIFT) scripts/run-tests.sh

# libFuzzer + ASan on the parsers (inventory, policy, apt, dnf, zypper, WUA, winget, known_hosts), FUZZ_SECONDS each (default 30).
fuzz: deps
	SWIFT=$(SWIFT) scripts/fuzz.sh

# patchctl vs parallel-ssh, Ansible and OpenSSH on 100/1000 loopback hosts (bench/README.md); ~15 min on 2 cores.
bench: build lab
	PATCHCTL_BIN=$(BIN) bench/run.sh
	$(MAKE) bench-advisories
	$(MAKE) bench-discover

# Advisories: a full-size generated Debian tracker sync (time, memory), and the controller CPU a
# scan spends per host with feeds synced against none.
bench-advisories: build lab
	PATCHCTL_BIN=$(BIN) bench/advisories-sync.sh
	PATCHCTL_BIN=$(BIN) bench/advisories-scan.sh

# Discover (issue 18): the sweep of 127.0.20.0/22 with sshd on 200 addresses, patchctl discover beside
# nmap -sT -p22 and ssh-keyscan -f (wall time, peak RSS, same hosts and fingerprints); under a minute.
bench-discover: build deps
	PATCHCTL_BIN=$(BIN) bench/discover.sh

# History at fleet scale (issue 15): generated 1,000 × 180 and 10,000 × 365 nightly histories (cached in
# /var/tmp/patchctl-bench-history), reports, history list, nightly write, DB size, v9 migration. Long; not run by `bench`.
# SIZES=1000x180 for the small one only. Builds the release binaries itself (patchctl with the flags above, and the generator).
bench-history: deps
	SWIFT=$(SWIFT) bench/history.sh

# The binary, bash/zsh/fish completions, the man page and example systemd units under $(DESTDIR)$(PREFIX);
# as any user who can write there: make install PREFIX=$$HOME/.local (scripts/install.sh says where each goes).
install: build
	SWIFT=$(SWIFT) PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) scripts/install.sh $(BIN) $(MANPAGE)

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/patchctl $(DESTDIR)$(PREFIX)/share/man/man1/patchctl.1 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/patchctl $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_patchctl \
	    $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/patchctl.fish
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/patchctl

# .build/deb/patchctl_VERSION_ARCH.deb (dpkg-deb): installs with dpkg -i on a fresh Debian 12, no Swift needed.
deb: build
	SWIFT=$(SWIFT) scripts/deb.sh $(BIN) $(MANPAGE)

clean:
	rm -rf .build
