#!/usr/bin/env python3
"""bench/smoke.py: one workload at a small size against a checked library, as a test.

Usage: smoke.py EXE CHECK LIVE [ARGS...]. Passes when the program exits 0 and its `result` line
shows checksum CHECK and, when LIVE is not '-', that many live objects at the end (0 for every
acyclic workload in rc and hybrid: the Perceus lowering dropped everything it made). The checked
library stops a wrong dup/drop/reuse with one line, so this is where the lowering is verified.
"""
import subprocess
import sys

exe, check, live, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
p = subprocess.run([exe] + args, capture_output=True, text=True)
if p.returncode != 0:
    sys.exit(f"{exe} exited with {p.returncode}:\n{p.stderr[-3000:]}")
line = next((l for l in p.stdout.splitlines() if l.startswith("result ")), None)
if line is None:
    sys.exit(f"{exe}: no result line in:\n{p.stdout[-2000:]}")
r = dict(kv.split("=", 1) for kv in line.split()[1:])
if r["check"] != check:
    sys.exit(f"{exe}: checksum {r['check']}, expected {check}")
if live != "-" and r["live"] != live:
    sys.exit(f"{exe}: {r['live']} objects alive at the end, expected {live}")
print(f"ok: {r['name']} {r['mode']} check={r['check']} live={r['live']}")
