#!/usr/bin/env python3
"""Writes a Debian 12 advisory feed of realistic size and shape into a patchctl history database
(bench/advisories-scan.sh): what `advisories sync` stores from the Debian Security Tracker, KEV
and EPSS, generated, not downloaded.

Shape (the tracker's bookworm data, late 2026, in round figures): ~2 500 source packages with
~60 000 (CVE, package) ranges; most CVEs fixed long ago, ~10% open, some `unimportant`; the
kernel alone ~6 000. The lab host's own source packages (from BINARIES, `dpkg-query` lines
`SOURCE<TAB>SOURCE-VERSION`) get 5-150 CVEs each, fixed below, at and above their installed
versions, so matching has real work. KEV: 1 400 entries; EPSS: 280 000 scores.

Usage: advisories_feed.py DB BINARIES [SEED]
"""
import random
import sqlite3
import sys
from datetime import datetime, timezone

db_path, binaries_path = sys.argv[1], sys.argv[2]
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 12)
URGENCY = ["unimportant", "low", "low", "medium", "medium", "medium", "high", "not yet assigned"]
SEVERITY = {"unimportant": "none", "low": "low", "medium": "medium", "high": "high", "not yet assigned": "unknown"}
cve_numbers = iter(rng.sample(range(1000, 99999), 90000))


def cve() -> str:
    return f"CVE-{rng.randint(2005, 2026)}-{next(cve_numbers)}"


lab_sources = {}
for line in open(binaries_path):
    fields = line.rstrip("\n").split("\t")
    if len(fields) >= 2 and fields[0]:
        lab_sources[fields[0]] = fields[1]

rows = []
for source, installed in sorted(lab_sources.items()):
    for _ in range(rng.randint(5, 150)):
        roll = rng.random()
        if roll < 0.75:
            fixed = "0.1-1"                        # long fixed
        elif roll < 0.85:
            fixed = None                           # open
        elif roll < 0.95:
            fixed = installed + "+deb12u1"         # fixed by a newer build
        else:
            fixed = installed + "+deb12u9"         # fixed beyond most candidates
        rows.append((cve(), source, fixed, rng.choice(URGENCY)))
for index in range(2500 - len(lab_sources)):
    package = "linux" if index == 0 else f"src-{index:04d}"
    for _ in range(6000 if index == 0 else rng.randint(3, 40)):
        rows.append((cve(), package, None if rng.random() < 0.1 else f"{rng.randint(1, 9)}.{rng.randint(0, 20)}-{rng.randint(1, 5)}+deb12u{rng.randint(1, 9)}",
                     rng.choice(URGENCY)))

now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.000")
con = sqlite3.connect(db_path)
with con:
    cur = con.cursor()
    cur.execute("INSERT INTO advisory_feeds (kind, location, synced_at, checked_at, record_count) VALUES ('debian-tracker', 'generated', ?, ?, ?)",
                (now, now, len(rows)))
    tracker = cur.lastrowid
    cur.executemany("INSERT INTO advisory_ranges (feed_id, vulnerability, ecosystem, package, introduced, fixed, vendor_severity, severity) "
                    "VALUES (?, ?, 'Debian:12', ?, '0', ?, ?, ?)",
                    [(tracker, c, p, f, u, SEVERITY[u]) for c, p, f, u in rows])
    cves = [r[0] for r in rows]
    cur.execute("INSERT INTO advisory_feeds (kind, location, synced_at, checked_at, record_count) VALUES ('kev', 'generated', ?, ?, 1400)", (now, now))
    kev = cur.lastrowid
    cur.executemany("INSERT OR IGNORE INTO kev (cve, feed_id, vendor, product, name, date_added) VALUES (?, ?, 'v', 'p', 'n', '2024-01-01')",
                    [(c, kev) for c in rng.sample(cves, 1400)])
    cur.execute("INSERT INTO advisory_feeds (kind, location, synced_at, checked_at, record_count) VALUES ('epss', 'generated', ?, ?, 280000)", (now, now))
    epss = cur.lastrowid
    scored = set(cves)
    extra = (f"CVE-{2000 + i % 27}-{200000 + i}" for i in range(280000))
    cur.executemany("INSERT OR IGNORE INTO epss (cve, feed_id, score, percentile) VALUES (?, ?, ?, ?)",
                    [(c, epss, rng.random() ** 4, rng.random()) for c in list(scored) + [next(extra) for _ in range(280000 - len(scored))]])
print(f"{len(rows)} ranges over {len({r[1] for r in rows})} source packages ({len(lab_sources)} the lab host's), 1400 KEV, 280000 EPSS")
