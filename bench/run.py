#!/usr/bin/env python3
"""bench/run.py: the benchmark suite and its report, the project's main job (scripts/run).

Runs every workload of bench/ in rc, gc (bdwgc's defaults), gc at hybrid's memory (bdwgc's
GC_FREE_SPACE_DIVISOR raised until its peak RSS is at most hybrid's) and hybrid, plus the
baselines, from release builds: timings from builds without statistics, the runtime's counters
from one more run of a build with them. Prints a table with ratios and the targets, and writes
one JSON object per benchmark x mode x size to results.jsonl, a terminal table to report.txt and
gnuplot charts (time.png, rss.png) in the output directory.

Invariants: every figure is the median of --runs runs (at least 3); a benchmark whose modes
print different checksums, or a checksum other than the reference at the paper's size, fails
the whole run (exit status 1) after the report is written.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODES = ["rc", "gc", "gc-matched", "hybrid"]

# name, executable stem, quick arguments, full arguments, modes, reference check at full size
SUITE = [
    ("rbtree", "rbtree", ["1000000"], ["4200000"], MODES, 420000),
    ("rbtree-ck", "rbtree", ["1000000", "5"], ["4200000", "5"], MODES, 420000),
    ("rbtree-fip", "rbtree-fip", ["1000000"], ["4200000"], MODES, 420000),
    ("deriv", "deriv", ["9"], ["10"], MODES, 40230090),
    ("nqueens", "nqueens", ["12"], ["13"], MODES, 73712),
    ("cfold", "cfold", ["19"], ["20"], MODES, 3447966),
    ("binary-trees", "binarytrees", ["18"], ["21"], MODES, 4194303),
    ("closures", "closures", ["1000000", "5"], ["1000000", "50"], MODES, None),
    ("threads", "threads", ["100"], ["400"], MODES, None),
    ("cyclic", "cyclic", ["20000"], ["100000"], MODES, None),
    ("cyclic-4x", "cyclic", ["80000"], ["400000"], ["gc", "hybrid"], None),
    ("mixed", "mixed", ["2000"], ["20000"], MODES, None),
]
# Baselines: (name, executable, modes it runs in); rbtree's arguments.
BASELINES = [
    ("rbtree-noreuse", "rbtree-noreuse", ["rc", "hybrid"]),
    ("rbtree-c-mimalloc", "rbtree-c-mimalloc", ["baseline"]),
    ("rbtree-c-malloc", "rbtree-c-malloc", ["baseline"]),
    ("rbtree-std-map", "rbtree-std-map", ["baseline"]),
]
PERCEUS = ["rbtree", "rbtree-ck", "rbtree-fip", "deriv", "nqueens", "cfold", "binary-trees", "closures"]
DIVISORS = [4, 6, 8, 12, 16, 24]  # bdwgc's default is 3; larger collects sooner
MATCH_SLACK = 1.05  # gc-matched aims at a peak RSS within 5% of hybrid's
MATCH_SLOWEST = 4   # ... and stops raising the divisor once a run takes 4x gc's default time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--full", action="store_true", help="the paper's sizes (slow)")
    p.add_argument("--runs", type=int, default=3, help="runs per figure, median (>= 3)")
    p.add_argument("--callgrind", action="store_true",
                   help="also count instructions (valgrind callgrind, one run each, slow)")
    p.add_argument("--only", default="", help="comma-separated benchmark names")
    p.add_argument("--out", default=os.path.join(ROOT, "bench-results"), help="output directory")
    p.add_argument("--no-defer", action="store_true", help="skip the defer micro-benchmarks")
    a = p.parse_args()
    if a.runs < 3:
        p.error("--runs must be at least 3 (figures are medians)")
    return a


class Progress:
    """One line on stderr that says what runs now, rewritten in place on a terminal."""

    def __init__(self, total):
        self.total, self.done, self.t0 = total, 0, time.time()
        self.tty = sys.stderr.isatty()

    def step(self, what):
        self.done += 1
        line = f"[{self.done}/{self.total} {time.time() - self.t0:6.0f}s] {what}"
        if self.tty:
            sys.stderr.write("\r\033[K" + line)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def end(self):
        if self.tty:
            sys.stderr.write("\r\033[K")
        sys.stderr.write(f"suite finished in {time.time() - self.t0:.0f} s\n")


def build(buildtype_dir, stats):
    """Configure (once) and build a release tree; returns its bench directory."""
    d = os.path.join(ROOT, buildtype_dir)
    if not os.path.exists(os.path.join(d, "build.ninja")):
        subprocess.run(["meson", "setup", d, "--buildtype=release", "-Dtests=false",
                        f"-Dstats={'true' if stats else 'false'}"], check=True,
                       stdout=subprocess.DEVNULL)
    subprocess.run(["ninja", "-C", d], check=True, stdout=subprocess.DEVNULL)
    return os.path.join(d, "bench")


def parse_result(out):
    for line in out.splitlines():
        if line.startswith("result "):
            return dict(kv.split("=", 1) for kv in line.split()[1:])
    return None


def run_once(exe, args, env_extra):
    """Run one program: wall time of the whole process measured here; user time and peak RSS
    as the program reports them (getrusage at its end)."""
    env = dict(os.environ, **env_extra)
    t0 = time.perf_counter()
    p = subprocess.Popen([exe] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = p.communicate()
    wall = time.perf_counter() - t0
    r = parse_result(out.decode())
    if p.returncode != 0 or r is None:
        sys.exit(f"\nbench: {os.path.basename(exe)} {' '.join(args)} failed "
                 f"(status {p.returncode}):\n{err.decode()[-2000:]}")
    r["ext_wall_s"] = wall
    return r


def exe_path(bench_dir, stem, mode):
    if mode == "baseline":
        return os.path.join(bench_dir, stem)
    return os.path.join(bench_dir, f"{stem}-{'gc' if mode == 'gc-matched' else mode}")


def callgrind(exe, args, env_extra):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"] + [exe] + args,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                       env=dict(os.environ, **env_extra))
        ann = subprocess.run(["callgrind_annotate", out], capture_output=True, text=True).stdout
        for line in ann.splitlines():
            if "PROGRAM TOTALS" in line:
                return int(line.split()[0].replace(",", ""))
    return None


def median(rs, key, cast=float):
    return statistics.median(cast(r[key]) for r in rs)


def measure(name, stem, args, mode, dirs, a, prog, env_extra):
    """Median of a.runs timed runs (no stats) plus one counted run (stats); one JSON record."""
    timed = []
    for i in range(a.runs):
        prog.step(f"{name} {mode} {' '.join(args)} run {i + 1}/{a.runs}")
        timed.append(run_once(exe_path(dirs["nostats"], stem, mode), args, env_extra))
    counted = timed[0]
    if mode != "baseline":
        prog.step(f"{name} {mode} counters")
        counted = run_once(exe_path(dirs["stats"], stem, mode), args, env_extra)
    rec = {
        "name": name, "mode": mode, "size": " ".join(args),
        "wall_s": round(median(timed, "ext_wall_s"), 4),
        "user_s": round(median(timed, "user_s"), 4),
        "peak_rss_kb": int(median(timed, "peak_rss_kb", int)),
        "collections": int(median(timed, "collections", int)),
        "gc_pause_ms": round(median(timed, "gc_pause_ms"), 2),
        "allocs": int(counted["allocs"]), "rc_frees": int(counted["rc_frees"]),
        "reuses": int(counted["reuses"]), "gc_reclaimed_kb": int(counted["gc_reclaimed_kb"]),
        "checksum": int(timed[0]["check"]), "runs": a.runs,
        "checksums_agree_across_runs": len({r["check"] for r in timed}) == 1,
        "wall_s_all": [round(float(r["ext_wall_s"]), 4) for r in timed],
    }
    if env_extra:
        rec["env"] = env_extra
    if a.callgrind:
        prog.step(f"{name} {mode} callgrind")
        rec["instructions"] = callgrind(exe_path(dirs["nostats"], stem, mode), args, env_extra)
    return rec


def matched_divisor(name, stem, args, target_kb, gc_wall, dirs, prog):
    """The smallest GC_FREE_SPACE_DIVISOR whose gc peak RSS is within MATCH_SLACK of hybrid's
    (one run each). bdwgc needs headroom over the live data, so where no divisor gets there, the
    last one tried before runs became MATCH_SLOWEST times slower than gc's default (the table
    shows the RSS it reached)."""
    best = 3
    for d in DIVISORS:
        prog.step(f"{name} gc-matched: trying GC_FREE_SPACE_DIVISOR={d}")
        r = run_once(exe_path(dirs["nostats"], stem, "gc"), args, {"GC_FREE_SPACE_DIVISOR": str(d)})
        best = d
        if int(r["peak_rss_kb"]) <= target_kb * MATCH_SLACK or r["ext_wall_s"] > MATCH_SLOWEST * gc_wall:
            break
    return best


def defer_rows(dirs, prog, a):
    recs = []
    for mode in ("rc", "gc", "hybrid"):
        prog.step(f"defer micro-benchmarks {mode}")
        exe = os.path.join(dirs["nostats"], f"defer-{mode}")
        out = subprocess.run(["taskset", "-c", "1", exe, "10" if a.full else "3"] if shutil.which("taskset")
                             else [exe, "10" if a.full else "3"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("row "):
                f = dict(kv.split("=", 1) for kv in line.split()[1:])
                recs.append({"name": "defer/" + f["name"], "mode": mode, "size": "micro",
                             "ns_per_op": float(f["ns"])})
    return recs


def fmt_table(records):
    by = {(r["name"], r["mode"]): r for r in records if "wall_s" in r}
    names = []
    for r in records:
        if "wall_s" in r and r["name"] not in names:
            names.append(r["name"])
    lines = [f"{'benchmark':<18}{'mode':<12}{'wall s':>8}{'x rc':>7}{'user s':>8}{'peak MB':>9}"
             f"{'x rc':>7}{'colls':>7}{'pause ms':>9}{'rc frees':>11}{'reuses':>11}{'instr M':>9}"
             f"{'check':>11}"]
    for n in names:
        base = by.get((n, "rc"))
        for mode in MODES + ["baseline"]:
            r = by.get((n, mode))
            if not r:
                continue
            xt = f"{r['wall_s'] / base['wall_s']:.2f}" if base else "-"
            xm = f"{r['peak_rss_kb'] / base['peak_rss_kb']:.2f}" if base else "-"
            ins = f"{r['instructions'] / 1e6:.0f}" if r.get("instructions") else "-"
            m = mode + (f" d={r['env']['GC_FREE_SPACE_DIVISOR']}" if r.get("env") else "")
            lines.append(f"{n:<18}{m:<12}{r['wall_s']:>8.3f}{xt:>7}{r['user_s']:>8.3f}"
                         f"{r['peak_rss_kb'] / 1024:>9.1f}{xm:>7}{r['collections']:>7}"
                         f"{r['gc_pause_ms']:>9.1f}{r['rc_frees']:>11}{r['reuses']:>11}{ins:>9}"
                         f"{r['checksum']:>11}")
    defer = [r for r in records if "ns_per_op" in r]
    if defer:
        lines += ["", f"{'defer micro-benchmark':<40}{'rc ns':>8}{'gc ns':>8}{'hybrid ns':>10}"]
        dn = {}
        for r in defer:
            dn.setdefault(r["name"], {})[r["mode"]] = r["ns_per_op"]
        for n, v in dn.items():
            lines.append(f"{n:<40}{v.get('rc', 0):>8.2f}{v.get('gc', 0):>8.2f}{v.get('hybrid', 0):>10.2f}")
    return lines


def targets(records, full):
    """The issue's targets, each with what this run shows."""
    by = {(r["name"], r["mode"]): r for r in records if "wall_s" in r}
    out = []

    def t(what, ok, shown):
        out.append(f"  [{'met' if ok else 'MISSED'}] {what}: {shown}")

    def w(n, m):
        return by[(n, m)]["wall_s"] if (n, m) in by else None

    if w("rbtree", "rc") and w("rbtree", "hybrid"):
        x = w("rbtree", "hybrid") / w("rbtree", "rc")
        t("rbtree hybrid <= 1.10x rc", x <= 1.10, f"{x:.2f}x")
    for n in ("rbtree", "rbtree-fip"):
        if w(n, "rc") and w("rbtree-c-mimalloc", "baseline"):
            x = w(n, "rc") / w("rbtree-c-mimalloc", "baseline")
            t(f"{n} rc <= 1.10x imperative C with mimalloc", x <= 1.10, f"{x:.2f}x")
    if full:
        for m in ("rc", "hybrid"):
            if ("rbtree", m) in by:
                mb = by[("rbtree", m)]["peak_rss_kb"] / 1024
                t(f"rbtree peak RSS <= 140 MB ({m}, 4.2M keys)", mb <= 140, f"{mb:.1f} MB")
    for n in PERCEUS:
        if w(n, "hybrid") and w(n, "gc") and w(n, "rc"):
            faster = w(n, "hybrid") < w(n, "gc")
            x = w(n, "hybrid") / w(n, "rc")
            t(f"{n}: hybrid faster than gc and <= 1.10x rc", faster and x <= 1.10,
              f"hybrid {w(n, 'hybrid'):.3f} s, gc {w(n, 'gc'):.3f} s, {x:.2f}x rc")
    if ("binary-trees", "hybrid") in by:
        r = by[("binary-trees", "hybrid")]
        t("binary-trees hybrid <= 10 collections", r["collections"] <= 10, str(r["collections"]))
        if r.get("instructions") and r["allocs"]:
            per = r["instructions"] / r["allocs"]
            t("binary-trees hybrid <= 60 instructions per node", per <= 60,
              f"{per:.0f} per allocated node (callgrind)")
    if ("cyclic", "hybrid") in by and ("cyclic", "gc") in by:
        x = by[("cyclic", "hybrid")]["peak_rss_kb"] / by[("cyclic", "gc")]["peak_rss_kb"]
        t("cyclic hybrid peak RSS <= 1.5x gc", x <= 1.5, f"{x:.2f}x")
        if ("cyclic-4x", "hybrid") in by:
            g = by[("cyclic-4x", "hybrid")]["peak_rss_kb"] / by[("cyclic", "hybrid")]["peak_rss_kb"]
            t("cyclic hybrid RSS bounded (4x the rounds)", g <= 1.25, f"{g:.2f}x the RSS")
        if ("cyclic", "rc") in by:
            x = by[("cyclic", "rc")]["peak_rss_kb"] / by[("cyclic", "hybrid")]["peak_rss_kb"]
            t("cyclic: rc visibly leaks", x >= 2, f"rc peak RSS {x:.1f}x hybrid's")
    if w("rbtree-noreuse", "rc") and w("rbtree", "rc"):
        x = w("rbtree-noreuse", "rc") / w("rbtree", "rc")
        t("rbtree without reuse measurably slower (rc)", x >= 1.05, f"{x:.2f}x with reuse's time")
    return out


def charts(records, outdir):
    if not shutil.which("gnuplot"):
        return "gnuplot not found: no charts"
    rows = [r for r in records if "wall_s" in r and r["mode"] != "baseline"]
    names = []
    for r in rows:
        if r["name"] not in names:
            names.append(r["name"])
    dat = os.path.join(outdir, "chart.dat")
    with open(dat, "w") as f:
        for key, scale in (("wall_s", 1), ("peak_rss_kb", 1 / 1024)):
            f.write("name " + " ".join(MODES) + "\n")
            for n in names:
                vals = []
                for m in MODES:
                    r = next((x for x in rows if x["name"] == n and x["mode"] == m), None)
                    vals.append(f"{r[key] * scale:.4f}" if r else "NaN")
                f.write(n + " " + " ".join(vals) + "\n")
            f.write("\n\n")
    for idx, (png, ylabel) in enumerate((("time.png", "wall time (s)"), ("rss.png", "peak RSS (MB)"))):
        script = f"""
set terminal pngcairo size 1200,600 noenhanced
set output '{os.path.join(outdir, png)}'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel '{ylabel}'
set xtics rotate by -30
set key top left
set logscale y
set title 'hrc benchmarks: {ylabel} by mode (log scale)'
plot for [c=2:{len(MODES) + 1}] '{dat}' index {idx} using c:xtic(1) title columnheader(c)
"""
        res = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
        if res.returncode != 0:
            # pngcairo is in gnuplot-nox; fall back to the plain png terminal
            res = subprocess.run(["gnuplot"], input=script.replace("pngcairo", "png"), text=True,
                                 capture_output=True)
            if res.returncode != 0:
                return "gnuplot failed: " + res.stderr.strip()[:300]
    return f"charts: {os.path.join(outdir, 'time.png')}, {os.path.join(outdir, 'rss.png')}"


def main():
    a = parse_args()
    only = set(filter(None, a.only.split(",")))
    suite = [s for s in SUITE if not only or s[0] in only]
    baselines = [b for b in BASELINES if not only or b[0] in only or "rbtree" in only]
    dirs = {"nostats": build("build-bench-nostats", False), "stats": build("build-bench-stats", True)}
    os.makedirs(a.out, exist_ok=True)

    per = a.runs + 1 + (1 if a.callgrind else 0)
    total = sum(per * len(s[4]) + (len(DIVISORS) if "gc-matched" in s[4] else 0) for s in suite)
    total += sum(len(b[2]) * per for b in baselines) + (0 if a.no_defer or only else 3)
    prog = Progress(total)
    records, failures = [], []
    for name, stem, quick, full, modes, ref in suite:
        args = full if a.full else quick
        got = {}
        for mode in [m for m in ("rc", "hybrid", "gc", "gc-matched") if m in modes]:
            env = {}
            if mode == "gc-matched":
                target = got["hybrid"]["peak_rss_kb"] if "hybrid" in got else None
                d = matched_divisor(name, stem, args, target, got["gc"]["wall_s"], dirs, prog) \
                    if target and "gc" in got else 3
                env = {"GC_FREE_SPACE_DIVISOR": str(d)}
            got[mode] = measure(name, stem, args, mode, dirs, a, prog, env)
        records += [got[m] for m in MODES if m in got]
        checks = {r["checksum"] for r in got.values()}
        if len(checks) != 1 or not all(r["checksums_agree_across_runs"] for r in got.values()):
            failures.append(f"{name}: the modes disagree on the checksum: "
                            + ", ".join(f"{m}={r['checksum']}" for m, r in got.items()))
        elif a.full and ref is not None and checks != {ref}:
            failures.append(f"{name}: checksum {checks.pop()} is not the reference {ref}")
    rb = next((s for s in SUITE if s[0] == "rbtree"), None)
    for name, exe, modes in baselines:
        args = rb[3] if a.full else rb[2]
        for mode in modes:
            rec = measure(name, exe, args, mode, dirs, a, prog, {})
            records.append(rec)
            main_rb = next((r for r in records if r["name"] == "rbtree" and r["mode"] == "rc"), None)
            if main_rb and rec["checksum"] != main_rb["checksum"]:
                failures.append(f"{name} ({mode}): checksum {rec['checksum']} differs from rbtree's "
                                f"{main_rb['checksum']}")
    if not a.no_defer and not only:
        records += defer_rows(dirs, prog, a)
    prog.end()

    machine = subprocess.run(["uname", "-srm"], capture_output=True, text=True).stdout.strip()
    cpus = os.cpu_count()
    header = [f"hrc benchmarks, {'full (paper) sizes' if a.full else 'quick sizes'}, "
              f"median of {a.runs} runs, {time.strftime('%Y-%m-%d %H:%M')}, {machine}, {cpus} cpus",
              "wall = whole process; x rc = ratio to the rc row; gc-matched = gc with "
              "GC_FREE_SPACE_DIVISOR=d, the smallest d whose peak RSS is within 5% of hybrid's "
              "(or the last tried before runs took 4x gc's time)", ""]
    lines = header + fmt_table(records) + ["", "targets:"] + targets(records, a.full)
    lines.append("")
    lines.append(charts(records, a.out))
    with open(os.path.join(a.out, "results.jsonl"), "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    lines.append(f"results: {os.path.join(a.out, 'results.jsonl')}")
    with open(os.path.join(a.out, "report.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    if failures:
        print("\nbench: CHECKSUM FAILURE\n" + "\n".join("  " + x for x in failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
