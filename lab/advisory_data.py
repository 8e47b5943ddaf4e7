#!/usr/bin/env python3
"""Records which CVEs the lab tree's pending security updates fix, from Debian's own changelogs.

Usage: lab/advisory_data.py TREE OUT.json DEBS-FOLDER

For every pending update from a -security archive in TREE, the candidate .deb is downloaded
from the mirror the tree uses (`apt-get download --print-uris`, SHA-256 checked), its
changelog.Debian.gz read, and the CVE ids named in the entries newer than the installed source
version (and at most the candidate) are kept with the entry version that first names them.
CVE ids named only in entries at or below the installed version are kept apart: they are real
CVEs fixed before, which a feed may list and a scan must not report.
Every candidate .deb is kept in DEBS-FOLDER under apt's own file name: a deploy test seeds a
tree's apt cache with them, so it installs the very files recorded here even once the mirror has
moved on to newer versions.

The advisory tests build a Debian Security Tracker feed from this file (plus decoys), serve it
over HTTP on loopback, and check that a scan of the lab maps exactly these CVEs. Standard library
only; run as root (chroot).
"""
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

CVE = re.compile(r"\bCVE-\d{4}-\d{4,}\b")
HEADER = re.compile(r"^(\S+) \(([^)]+)\) ([^;]+);")


def chroot(tree, *args):
    return subprocess.run(["chroot", tree, "env", "LC_ALL=C", *args], check=True, capture_output=True, text=True).stdout


def newer(a, b):
    """dpkg's own order: a > b."""
    return subprocess.run(["dpkg", "--compare-versions", a, "gt", b]).returncode == 0


def pending_security(tree):
    out = chroot(tree, "apt-get", "-s", "-o", "Debug::NoLocking=1", "dist-upgrade")
    found = []
    for line in out.splitlines():
        m = re.match(r"^Inst (\S+) \[([^\]]+)\] \((\S+) ([^\[]+?)(?: \[([^\]]+)\])?\)", line)
        if m and any(o.strip().split("/")[-1].endswith("-security") for o in m.group(4).split(",")):
            found.append({"name": m.group(1), "installed": m.group(2), "candidate": m.group(3)})
    return found


def download(tree, name, version, folder):
    line = chroot(tree, "apt-get", "download", "--print-uris", f"{name}={version}").strip().splitlines()[-1]
    url, filename, _size, digest = line.split()
    url = url.strip("'")
    if url.startswith("file:"):  # the lab's own repository, inside the tree
        with open(os.path.join(tree, url[len("file:"):].lstrip("/")), "rb") as f:
            data = f.read()
    else:
        data = urllib.request.urlopen(url, timeout=120).read()
    algo, expected = digest.split(":", 1)
    if algo.upper() != "SHA256" or hashlib.sha256(data).hexdigest() != expected:
        raise SystemExit(f"advisory data: {url}: checksum mismatch")
    path = os.path.join(folder, filename)
    with open(path, "wb") as f:
        f.write(data)
    return path


def changelog(deb, folder):
    target = os.path.join(folder, "x")
    subprocess.run(["dpkg-deb", "-x", deb, target], check=True)
    docs = os.path.join(target, "usr/share/doc")
    # changelog.Debian.gz, or changelog.gz for a native package (apt) when it is Debian's format.
    for name in ("changelog.Debian.gz", "changelog.gz"):
        for package in sorted(os.listdir(docs)) if os.path.isdir(docs) else []:
            path = os.path.join(docs, package, name)
            if os.path.isfile(path) and not os.path.islink(path):
                with gzip.open(path, "rt", errors="replace") as f:
                    text = f.read()
                if HEADER.match(text):
                    return text
    return None


def entries(text):
    found = []
    for line in text.splitlines():
        m = HEADER.match(line)
        if m:
            found.append({"source": m.group(1), "version": m.group(2), "text": ""})
        elif found:
            found[-1]["text"] += line + "\n"
    return found


def main():
    tree, out, debs = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(debs, exist_ok=True)
    updates = pending_security(tree)
    if not updates:
        raise SystemExit("advisory data: the tree has no pending security update")
    names = [u["name"] for u in updates]
    info = chroot(tree, "dpkg-query", "-W", "-f=${Package}\t${source:Package}\t${source:Version}\n", *names)
    source_of = {}
    for line in info.splitlines():
        package, source, version = line.split("\t")
        source_of[package] = (source, version)
    sources = {}
    for u in updates:
        source, installed = source_of[u["name"]]
        entry = sources.setdefault(source, {"source": source, "installed_version": installed,
                                            "candidate_version": u["candidate"], "binaries": []})
        entry["binaries"].append(u["name"])
    result = []
    with tempfile.TemporaryDirectory() as folder:
        for source in sorted(sources):
            entry = sources[source]
            text = None
            for binary in entry["binaries"]:
                sub = tempfile.mkdtemp(dir=folder)
                deb = download(tree, binary, entry["candidate_version"], sub)
                text = text or changelog(deb, sub)
                shutil.copy(deb, os.path.join(debs, os.path.basename(deb)))
            fixed, older = {}, {}
            if text is None:  # the lab's own packages carry no changelog: no CVE to map
                text = ""
            for item in entries(text):
                version = item["version"]
                if newer(version, entry["candidate_version"]):
                    continue
                ids = CVE.findall(item["text"])
                if newer(version, entry["installed_version"]):
                    for cve in ids:  # entries run newest first: the last seen is the first fix
                        fixed[cve] = version
                else:
                    for cve in ids:
                        older.setdefault(cve, version)
            entry["cves"] = [{"id": c, "fixed_version": v} for c, v in sorted(fixed.items())]
            # A CVE also named by a newer entry (a follow-up fix) counts as fixed by the newer one.
            entry["fixed_before"] = [{"id": c, "fixed_version": v} for c, v in sorted(older.items()) if c not in fixed][:3]
            result.append(entry)
    document = {"tree": tree, "generated_by": "lab/advisory_data.py",
                "pending": sorted(f"{u['name']} {u['installed']} {u['candidate']}" for u in updates),
                "sources": result}
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(document, f, indent=1, sort_keys=True)
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
