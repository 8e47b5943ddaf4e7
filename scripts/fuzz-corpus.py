#!/usr/bin/env python3
"""Writes the generated part of the fuzz corpus: Fuzz/corpus/{inventory,policy}/gen-*, and the
libFuzzer seeds of the scan parsers, Fuzz/corpus/{apt,dnf,zypper,wua,winget,known_hosts}/seed-*,
from the recorded outputs in Tests/PatchCoreTests/Fixtures.

Every file is a hostile or broken variant of a valid one: truncated, deeply nested, aliased,
wrongly typed, with huge numbers, odd unicode, NUL bytes, very long lines, a BOM, other
encodings. patchctl must answer each one with exit 0 or 65 within 10 s, never a signal
(Tests/patchctlTests/FuzzCorpusCommandTests.swift runs them in `make test`); `make fuzz` also
starts libFuzzer from them. Deterministic: the same script writes the same bytes. Hand-written
cases (hand-*) are kept as they are.

    scripts/fuzz-corpus.py            # rewrite Fuzz/corpus/*/gen-*
"""
import os
import random
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fuzz", "corpus")

INVENTORY = """all:
  vars:
    ansible_user: ops
    ansible_port: 22
  children:
    web:
      hosts:
        web1: {ansible_host: 127.0.0.1}
        web[2:3]:
      vars:
        ansible_group_priority: 10
    db:
      hosts:
        db1:
          ansible_host: 127.0.0.2
          ansible_port: 2222
"""

POLICY = """name: fuzz
targets: [web, db]
select:
  updates: security
  min_severity: important
  include: ["openssl*"]
  exclude: [kernel*]
window:
  patch_tuesday: {weekday: sat, nth: 1, offset_days: 0}
  start: "02:00"
  end: "05:00"
  timezone: Europe/Berlin
rings:
  - name: test
    targets: web
    batch: 1
    max_parallel: 2
    max_fail_percent: 0
  - name: production
    batch: "25%"
    max_fail_percent: 10
    soak: 24h
approval: after_test
reboot: {mode: if_required, grace_minutes: 5, message: "restart in {minutes} minutes"}
deferment: {max_deferrals: 3, deadline: 48h}
install_timeout: 1h
reboot_timeout: 15m
pre: ["true"]
post: ["dpkg --audit"]
"""

HUGE = ["9223372036854775807", "9223372036854775808", "-9223372036854775809", "99999999999999999999999",
        "1e400", "-1", ".inf", "-.inf", ".nan", "0x7fffffffffffffff", "1_000_000_000_000", "1:30:00:00:00"]

INVENTORY_NUMBERS = ["ansible_port", "ansible_group_priority", "port"]
POLICY_NUMBERS = [("reboot", "grace_minutes"), ("deferment", "max_deferrals"), ("deferment", "deadline"),
                  (None, "install_timeout"), (None, "reboot_timeout"), ("ring", "batch"), ("ring", "max_parallel"),
                  ("ring", "max_fail_percent"), ("ring", "soak"), ("patch_tuesday", "nth"), ("patch_tuesday", "offset_days")]

WRONG = ["5", "true", "~", "[]", "{}", "[a, b]", "{a: 1}", "''", "\"x\"", "!!binary aGVsbG8=", "!unsafe x", "!vault x"]

# Fewer variants where keys multiply them, to keep the corpus (and `make test`) bounded.
WRONG_FEW = ["5", "[a, b]", "{a: 1}", "!!binary aGVsbG8="]
HUGE_FEW = ["9223372036854775807", "99999999999999999999999", "1e400", "-1", ".nan", "0x7fffffffffffffff"]

UNICODE = ["wéb1", "веб1", "ウェブ", "web\u200b1", "web\u202e1", "e\u0301\u0301\u0301", "\U0001F4A9", "ǅ", "\ufeffweb",
           "web\u00a01", "\u0000", "\x1b]0;owned\x07", "\x1b[2J"]


def laughs(indent, levels=10, width=10):
    lines = [f"{indent}a0: &a0 [" + ",".join(["x"] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"{indent}a{level}: &a{level} [" + ",".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def inventory_cases(rng):
    cases = {}
    raw = INVENTORY.encode()
    # Truncated at many points, including mid-token and mid-flow-map.
    for cut in sorted(set([1, 3, 5, 12, 30, 57, 80, 101, 140, 190, 230, len(raw) - 1] + rng.sample(range(1, len(raw)), 12))):
        cases[f"truncated-{cut:03d}"] = raw[:cut]
    # Nesting: just within, just past and far past the limit; block and flow styles.
    for depth in (62, 63, 64, 65, 500, 999, 1000, 1001, 20000):
        cases[f"deep-flow-{depth}"] = ("all:\n  vars:\n    deep: " + "[" * depth + "]" * depth + "\n").encode()
        cases[f"deep-unclosed-{depth}"] = ("all:\n  vars:\n    deep: " + "{a: " * depth + "\n").encode()
    block = "all:\n  hosts:\n    h1:\n  vars:\n"
    for level in range(70):
        block += "  " * (level + 2) + f"k{level}:\n"
    cases["deep-block-70"] = block.encode()
    # Aliases: the billion laughs in several places, alias keys, merge-key bombs, many small aliases.
    cases["alias-laughs-top"] = laughs("").encode()
    cases["alias-laughs-vars"] = ("all:\n  hosts:\n    h1:\n  vars:\n" + laughs("    ")).encode()
    cases["alias-laughs-hostvars"] = ("all:\n  hosts:\n    h1:\n" + laughs("      ")).encode()
    cases["alias-key"] = (laughs("") + "? *a9\n: 1\n").encode()
    merge = "all:\n  vars:\n    m0: &m0 {k0: 0, k1: 1}\n"
    for level in range(1, 30):
        merge += f"    m{level}: &m{level} {{<<: [*m{level - 1}, *m{level - 1}], k{level}x: {level}}}\n"
    merge += "  hosts:\n    h1:\n      <<: *m29\n"
    cases["alias-merge-chain"] = merge.encode()
    cases["alias-many-small"] = ("all:\n  vars:\n    a: &a x\n    l: [" + ",".join(["*a"] * 5000) + "]\n  hosts:\n    h1:\n").encode()
    cases["alias-undefined"] = b"all:\n  hosts:\n    h1: *nothing\n"
    cases["alias-self"] = b"all: &a\n  children:\n    x: *a\n"
    # Wrong types in every section.
    for index, wrong in enumerate(WRONG):
        cases[f"type-root-{index:02d}"] = (wrong + "\n").encode()
        cases[f"type-group-{index:02d}"] = f"all: {wrong}\n".encode()
        cases[f"type-hosts-{index:02d}"] = f"all:\n  hosts: {wrong}\n".encode()
        cases[f"type-children-{index:02d}"] = f"all:\n  children: {wrong}\n  hosts:\n    h1:\n".encode()
        cases[f"type-vars-{index:02d}"] = f"all:\n  vars: {wrong}\n  hosts:\n    h1:\n".encode()
        cases[f"type-hostvars-{index:02d}"] = f"all:\n  hosts:\n    h1: {wrong}\n".encode()
        cases[f"type-hostname-{index:02d}"] = f"all:\n  hosts:\n    ? {wrong}\n".encode()
    # Huge and odd numbers in every numeric key.
    for key in INVENTORY_NUMBERS:
        for index, number in enumerate(HUGE_FEW):
            cases[f"number-{key}-{index:02d}"] = f"all:\n  hosts:\n    h1:\n      {key}: {number}\n  vars:\n    ansible_group_priority: {number}\n".encode()
    for index, rng_text in enumerate(["h[0:9223372036854775807]", "h[1:99999]", "h[0:9999][0:9999]", "h[a:Z]", "h[:]", "h[1:2:0]",
                                      "h[1:2:-1]", "h[9:1]", "h1:99999", "[::1]:0", "h[1:3]:70000"]):
        cases[f"number-range-{index:02d}"] = f"all:\n  hosts:\n    {rng_text}:\n".encode()
    # Unicode in names, values and keys.
    for index, text in enumerate(UNICODE):
        quoted = text.replace("\\", "\\\\").replace('"', '\\"')
        cases[f"unicode-{index:02d}"] = f"all:\n  hosts:\n    \"{quoted}\":\n      note: \"{quoted}\"\n".encode("utf-8", "surrogatepass")
    # Raw bytes: NUL, invalid UTF-8, BOMs, other encodings, CRLF, tabs, a very long line.
    cases["bytes-nul-in-name"] = b"all:\n  hosts:\n    nul\x00byte:\n"
    cases["bytes-nul-only"] = b"\x00" * 64
    cases["bytes-invalid-utf8"] = b"all:\n  hosts:\n    \xff\xfe\xc3(:\n"
    cases["bytes-bom-utf8"] = b"\xef\xbb\xbf" + raw
    cases["bytes-bom-utf16le"] = b"\xff\xfe" + INVENTORY.encode("utf-16-le")
    cases["bytes-utf16be"] = INVENTORY.encode("utf-16-be")
    cases["bytes-crlf"] = raw.replace(b"\n", b"\r\n")
    cases["bytes-cr-only"] = raw.replace(b"\n", b"\r")
    cases["bytes-tabs"] = raw.replace(b"  ", b"\t")
    cases["bytes-long-line"] = b"all:\n  hosts:\n    h1:\n      note: " + b"x" * 262_144 + b"\n"
    cases["bytes-long-key"] = b"all:\n  hosts:\n    " + b"h" * 262_144 + b":\n"
    cases["bytes-control"] = b"all:\n  hosts:\n    h1: {ansible_host: \"\x1b[2J\x07\"}\n"
    cases["bytes-random"] = bytes(rng.randrange(256) for _ in range(4096))
    # Two documents, an INI file, a JSON inventory.
    cases["multi-document"] = raw + b"---\n" + raw
    cases["ini"] = b"[web]\nweb1 ansible_host=127.0.0.1\n"
    cases["json"] = b'{"all": {"hosts": {"h1": {"ansible_host": "127.0.0.1"}}}}\n'
    return cases


def policy_with(section, key, value):
    if section is None:
        return POLICY + f"{key}: {value}\n".replace(f"\n{key}:", f"\n{key}:")
    if section == "reboot":
        return POLICY.replace("reboot: {mode: if_required, grace_minutes: 5,", f"reboot: {{mode: if_required, {key}: {value},")
    if section == "deferment":
        return POLICY.replace("deferment: {max_deferrals: 3, deadline: 48h}", f"deferment: {{{key}: {value}}}")
    if section == "ring":
        return POLICY.replace("    max_parallel: 2\n", f"    {key}: {value}\n") if key != "max_parallel" else POLICY.replace("max_parallel: 2", f"max_parallel: {value}")
    if section == "patch_tuesday":
        return POLICY.replace("patch_tuesday: {weekday: sat, nth: 1, offset_days: 0}", f"patch_tuesday: {{weekday: sat, {key}: {value}}}")
    raise ValueError(section)


def policy_cases(rng):
    cases = {}
    raw = POLICY.encode()
    for cut in sorted(set([1, 6, 14, 40, 100, 200, 333, 400, 500, 600, len(raw) - 1] + rng.sample(range(1, len(raw)), 12))):
        cases[f"truncated-{cut:03d}"] = raw[:cut]
    for depth in (63, 64, 65, 999, 1000, 20000):
        cases[f"deep-flow-{depth}"] = ("name: p\ntargets: all\npre: " + "[" * depth + "]" * depth + "\n").encode()
        cases[f"deep-unclosed-{depth}"] = ("name: p\ntargets: all\nselect: " + "{a: " * depth + "\n").encode()
    pre = "name: p\ntargets: all\npre:\n  - &a0 [" + ",".join(["x"] * 10) + "]\n"
    for level in range(1, 10):
        pre += f"  - &a{level} [" + ",".join([f"*a{level - 1}"] * 10) + "]\n"
    cases["alias-laughs-pre"] = pre.encode()
    cases["alias-laughs-top"] = laughs("").encode()
    cases["alias-key"] = (laughs("") + "? *a9\n: 1\nname: p\n").encode()
    cases["alias-merge-ring"] = (POLICY + "x_defaults: &d {batch: 1}\n").encode()
    cases["alias-rings"] = b"name: p\ntargets: all\nrings:\n  - &r {name: a, targets: web}\n  - *r\n"
    cases["alias-vault"] = b"name: p\ntargets: all\npre: [!vault x]\n"
    top = ["name", "targets", "select", "window", "rings", "approval", "reboot", "deferment", "pre", "post", "refresh",
           "install_timeout", "reboot_timeout", "install", "test_ring_installs_pending", "winrm_fallback"]
    for key in top:
        for index, wrong in enumerate(WRONG_FEW):
            body = "\n".join(line for line in POLICY.splitlines() if not line.startswith(key + ":")) + "\n"
            cases[f"type-{key}-{index:02d}"] = (f"{key}: {wrong}\n" + (body if key != "name" else body.replace("name: fuzz\n", ""))).encode()
    for index, wrong in enumerate(WRONG):
        cases[f"type-root-{index:02d}"] = (wrong + "\n").encode()
        cases[f"type-ring-{index:02d}"] = f"name: p\ntargets: all\nrings: [{wrong}]\n".encode()
        cases[f"type-window-days-{index:02d}"] = f"name: p\ntargets: all\nwindow: {{days: {wrong}, start: '01:00', end: '02:00'}}\n".encode()
    for section, key in POLICY_NUMBERS:
        for index, number in enumerate(HUGE_FEW):
            cases[f"number-{key}-{index:02d}"] = policy_with(section, key, number).encode()
    for index, text in enumerate(UNICODE):
        quoted = text.replace("\\", "\\\\").replace('"', '\\"')
        cases[f"unicode-{index:02d}"] = f"name: \"{quoted}\"\ntargets: \"{quoted}\"\npre: [\"{quoted}\"]\ninstall: [\"{quoted}\"]\n".encode("utf-8", "surrogatepass")
    cases["bytes-nul-in-name"] = b"name: nul\x00byte\ntargets: all\n"
    cases["bytes-nul-only"] = b"\x00" * 64
    cases["bytes-invalid-utf8"] = b"name: \xff\xfe\ntargets: all\n"
    cases["bytes-bom-utf8"] = b"\xef\xbb\xbf" + raw
    cases["bytes-bom-utf16le"] = b"\xff\xfe" + POLICY.encode("utf-16-le")
    cases["bytes-crlf"] = raw.replace(b"\n", b"\r\n")
    cases["bytes-tabs"] = raw.replace(b"  ", b"\t")
    cases["bytes-long-line"] = b"name: p\ntargets: all\npre: [\"" + b"x" * 262_144 + b"\"]\n"
    cases["bytes-long-targets"] = b"name: p\ntargets: " + b"a:" * 100_000 + b"b\n"
    cases["bytes-long-regex"] = b"name: p\ntargets: \"~" + b"(a+)+" * 2000 + b"$\"\n"
    cases["bytes-random"] = bytes(rng.randrange(256) for _ in range(4096))
    cases["multi-document"] = raw + b"---\n" + raw
    return cases


def write(kind, cases):
    folder = os.path.join(ROOT, kind)
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.startswith("gen-"):
            os.remove(os.path.join(folder, name))
    for name, data in sorted(cases.items()):
        with open(os.path.join(folder, f"gen-{name}.yml"), "wb") as handle:
            handle.write(data)
    return len(cases)


FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "PatchCoreTests", "Fixtures")


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        return handle.read()


def sections(pairs):
    """A scan output as patchctl's scripts print it: `@@patchctl NAME` then the section's text."""
    out = b""
    for name, text in pairs:
        out += b"@@patchctl " + name.encode() + b"\n" + text + (b"" if text.endswith(b"\n") or not text else b"\n")
    return out


def seeds():
    folder = lambda path: sorted(os.listdir(os.path.join(FIXTURES, path)))
    apt = {}
    for name in ["debian12/apt-get-s-dist-upgrade.txt", "debian-public/debian13-apt-get-s-upgrade.txt"]:
        raw = fixture(name)
        apt[os.path.basename(name)] = raw
        apt["scan-" + os.path.basename(name)] = sections([("apt", raw), ("apt-exit", b"0"), ("installed", b"123"),
                                                          ("reboot", b"required\nlinux-image-6.1.0-28-amd64\nlibc6")])
    dnf = {}
    for name in [n for n in folder("rocky9-lab") if n.startswith("dnf-")] + ["../rhel-public/" + n for n in folder("rhel-public") if n.endswith(".txt")]:
        dnf[os.path.basename(name)] = fixture(os.path.join("rocky9-lab", name))
    dnf["scan-lab"] = sections([("check-update", fixture("rocky9-lab/dnf-check-update.txt")), ("check-update-exit", b"100"),
                                ("updateinfo", fixture("rocky9-lab/dnf-updateinfo-list-available.txt")), ("updateinfo-exit", b"0"),
                                ("rpm", fixture("rocky9-lab/rpm-qa.txt")), ("reboot", fixture("rocky9-lab/needs-restarting-required.txt")),
                                ("reboot-exit", b"1"), ("kernels", b"kernel-core-5.14.0-427.el9.x86_64"), ("running-kernel", b"5.14.0-427.el9.x86_64")])
    zypper = {name: fixture("suse/" + name) for name in folder("suse") if name != "SOURCE.md"}
    zypper["scan-leap16"] = sections([("patches", fixture("suse/leap16-list-patches-security.xml")), ("patches-exit", b"0"),
                                      ("updates", fixture("suse/leap16-list-updates.xml")), ("updates-exit", b"0"),
                                      ("patch-info", fixture("suse/sles15-info-patch.txt")), ("installed", b"1234"),
                                      ("reboot", b"needs-rebooting 102\nreboot-needed-file")])
    wua = {name: fixture("windows/" + name) for name in folder("windows") if name != "SOURCE.md"}
    wua["scan-empty"] = b"@@patchctl os\r\nVersion\t10.0.20348\r\n@@patchctl wua\r\n@@patchctl wua-result\r\n2\r\n@@patchctl reboot\r\nCBS\\RebootPending\r\n@@patchctl installed\r\n0\r\n"
    winget = {name: fixture("thirdparty/" + name) for name in folder("thirdparty") if name.startswith(("winget", "choco"))}
    winget["export.json"] = b'{"Sources":[{"Packages":[{"PackageIdentifier":"Mozilla.Firefox","Version":"128.0"}]}]}'
    key = b"AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG8UGfMNHqW4Q4p5t2TB1rzvT3pBsVb"
    known = {
        "plain": b"web1 ssh-ed25519 " + key + b"\n[127.0.0.1]:2222 ssh-ed25519 " + key + b"\n",
        "crlf": b"web1 ssh-ed25519 " + key + b"\r\n",
        "markers": b"@revoked web1 ssh-ed25519 " + key + b"\n@cert-authority *.example.com ssh-ed25519 " + key + b"\n",
        "patterns": b"web*,!web2,[::1]:22 ssh-ed25519 " + key + b" comment\n# comment\n\n",
        "hashed": b"|1|F1E1KeoE/eEWhi10WpGv4OdiO6Y=|3988QV0VE8wmZL7suNrYQLITLCg= ssh-ed25519 " + key + b"\n",
    }
    return {"apt": apt, "dnf": dnf, "zypper": zypper, "wua": wua, "winget": winget, "known_hosts": known}


def write_seeds(kind, files):
    folder = os.path.join(ROOT, kind)
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.startswith("seed-"):
            os.remove(os.path.join(folder, name))
    for name, data in sorted(files.items()):
        with open(os.path.join(folder, "seed-" + name.replace("/", "-")), "wb") as handle:
            handle.write(data)
    return len(files)


def main():
    rng = random.Random(14)
    counts = [write("inventory", inventory_cases(rng)), write("policy", policy_cases(rng))]
    print(f"wrote {counts[0]} inventory and {counts[1]} policy cases under {os.path.normpath(ROOT)}", file=sys.stderr)
    for kind, files in seeds().items():
        print(f"wrote {write_seeds(kind, files)} {kind} seeds", file=sys.stderr)


if __name__ == "__main__":
    main()
