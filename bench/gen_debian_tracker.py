#!/usr/bin/env python3
"""Writes a Debian Security Tracker JSON of realistic size and shape to stdout.

Shape as https://security-tracker.debian.org/tracker/data/json (source package -> CVE or TEMP- id
-> {description, scope, debianbug?, releases: {codename: {status, repositories, fixed_version?,
urgency, nodsa?, nodsa_reason?}}}). Sizes as the real file (about 70 MB): tens of thousands of
source packages, most with a few CVEs and a long tail with hundreds (the kernel thousands),
five releases each. Deterministic for a given --seed.
Usage: bench/gen_debian_tracker.py [--packages 30000] [--seed 12] > tracker.json
"""
import argparse
import json
import random
import sys

RELEASES = ["bullseye", "bookworm", "trixie", "forky", "sid"]
URGENCIES = ["not yet assigned"] * 30 + ["unimportant"] * 25 + ["low"] * 15 + ["medium"] * 12 + ["high"] * 6 + ["low**", "medium**", "end-of-life"] * 4
WORDS = ("buffer overflow in the parser allows remote attackers to cause a denial of service or possibly execute arbitrary code "
         "via a crafted file because of an integer overflow and use after free in the handling of malformed input data").split()


def version(rng):
    v = f"{rng.randint(0, 12)}.{rng.randint(0, 40)}.{rng.randint(0, 30)}-{rng.randint(1, 9)}"
    if rng.random() < 0.15:
        v = f"{rng.randint(1, 3)}:{v}"
    if rng.random() < 0.3:
        v += f"+deb{rng.randint(11, 13)}u{rng.randint(1, 9)}"
    if rng.random() < 0.1:
        v += "~bpo1"
    return v


def release(rng, codename):
    entry = {}
    r = rng.random()
    if r < 0.55:
        entry["status"] = "resolved"
        entry["repositories"] = {codename: version(rng)}
        entry["fixed_version"] = version(rng)
    elif r < 0.72:
        entry["status"] = "resolved"
        entry["repositories"] = {codename: version(rng)}
        entry["fixed_version"] = "0"
    elif r < 0.95:
        entry["status"] = "open"
        entry["repositories"] = {codename: version(rng)}
    else:
        entry["status"] = "undetermined"
        entry["repositories"] = {codename: version(rng)}
    entry["urgency"] = rng.choice(URGENCIES)
    if entry["status"] == "open" and rng.random() < 0.4:
        entry["nodsa"] = "Minor issue"
        entry["nodsa_reason"] = rng.choice(["ignored", "postponed", ""])
    return entry


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    out = sys.stdout
    out.write("{")
    cve_serial = 0
    for p in range(args.packages):
        name = f"pkg{p:05d}-" + rng.choice(["lib", "python3-", "node-", "golang-", "r-cran-", ""]) + rng.choice(WORDS)
        if p == 0:
            count = 8000  # the kernel
        else:
            count = min(600, max(1, int(rng.paretovariate(1.3))))
        cves = {}
        for _ in range(count):
            cve_serial += 1
            if rng.random() < 0.03:
                key = f"TEMP-{rng.randint(0, 9999999):07d}-{rng.randint(0, 0xFFFFFF):06X}"
            else:
                key = f"CVE-{rng.randint(1999, 2026)}-{cve_serial:05d}"
            entry = {"description": " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 40))), "scope": rng.choice(["local", "remote"])}
            if rng.random() < 0.3:
                entry["debianbug"] = rng.randint(100000, 1100000)
            entry["releases"] = {c: release(rng, c) for c in RELEASES if rng.random() < 0.92}
            cves[key] = entry
        out.write(("," if p else "") + json.dumps(name) + ":" + json.dumps(cves, indent=None, separators=(", ", ": ")))
    out.write("}\n")


if __name__ == "__main__":
    main()
