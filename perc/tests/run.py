#!/usr/bin/env python3
"""run.py: perc's test suite (meson test --suite perc).

  run.py --mode rc --hrc-build BUILD   every program in perc/tests/programs: compiled by perc
                                       against BUILD's checked library of the mode, run, its
                                       output compared with NAME.out; in rc and hybrid it must
                                       also end garbage free (no object alive: --check-garbage-
                                       free), unless its first line starts `// cyclic` or `// no-garbage-check` (saying why). A program
                                       may name its arguments on a first line `// args: ...`.
  run.py --errors                      every program in perc/tests/errors must fail to compile
                                       with exactly one line, the one its first line names after
                                       `// error: ` (file:line:col: error: message: text).
Programs run with a 1 MiB C stack (main's thread: perc --stack 1m). Prints TAP; exits 1 on any failure.
"""
import argparse
import glob
import resource
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PERC = os.path.join(os.path.dirname(HERE), "perc")


def first_line_value(path, key):
    with open(path) as f:
        line = f.readline().strip()
    prefix = f"// {key}: "
    return line[len(prefix):] if line.startswith(prefix) else None


def small_stack():
    """Programs run with a 1 MiB C stack, so that a recursion over a million-element list that
    is not a loop (TRMC) fails the test."""
    hard = resource.getrlimit(resource.RLIMIT_STACK)[1]
    resource.setrlimit(resource.RLIMIT_STACK, (1 << 20, hard))


def programs(a):
    progs = sorted(glob.glob(os.path.join(HERE, "programs", "*.prc")))
    failed = 0
    print(f"1..{len(progs)}")
    with tempfile.TemporaryDirectory() as tmp:
        for n, src in enumerate(progs, 1):
            name = os.path.splitext(os.path.basename(src))[0]
            exe = os.path.join(tmp, name)
            with open(src) as f:
                first = f.readline()
            exempt = first.startswith("// cyclic") or first.startswith("// no-garbage-check")
            check = [] if exempt else ["--check-garbage-free"]  # cycles: rc leaks them
            build = subprocess.run([sys.executable, PERC, "build", src, "--mode", a.mode, "--checked",
                                    "--stack", "1m"]
                                   + check + ["--hrc-build", a.hrc_build, "-o", exe],
                                   capture_output=True, text=True)
            if build.returncode != 0:
                failed += 1
                print(f"not ok {n} - {name} ({a.mode}): did not compile\n# " +
                      (build.stderr + build.stdout).strip().replace("\n", "\n# "))
                continue
            args = (first_line_value(src, "args") or "").split()
            run = subprocess.run([exe] + args, capture_output=True, text=True, timeout=300,
                                 preexec_fn=small_stack)
            with open(os.path.join(HERE, "programs", name + ".out")) as f:
                want = f.read()
            if run.returncode != 0 or run.stdout != want:
                failed += 1
                print(f"not ok {n} - {name} ({a.mode}): status {run.returncode}\n# got:\n# " +
                      run.stdout.strip().replace("\n", "\n# ") + "\n# want:\n# " +
                      want.strip().replace("\n", "\n# ") + "\n# stderr:\n# " +
                      run.stderr.strip().replace("\n", "\n# "))
            else:
                print(f"ok {n} - {name} ({a.mode})")
    return failed


def errors():
    progs = sorted(glob.glob(os.path.join(HERE, "errors", "*.prc")))
    failed = 0
    print(f"1..{len(progs)}")
    for n, src in enumerate(progs, 1):
        name = os.path.basename(src)
        want = first_line_value(src, "error")
        r = subprocess.run([sys.executable, PERC, "build", src, "--emit-c", "-o", os.devnull],
                           capture_output=True, text=True)
        lines = r.stderr.strip().split("\n")
        got = lines[0].split(f"{name}:", 1)[-1] if lines else ""
        if r.returncode != 1 or len(lines) != 1 or got != want:
            failed += 1
            print(f"not ok {n} - {name}\n# got (status {r.returncode}): " +
                  r.stderr.strip().replace("\n", "\n# ") + f"\n# want: {name}:{want}")
        else:
            print(f"ok {n} - {name}")
    return failed


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["rc", "gc", "hybrid"])
    p.add_argument("--hrc-build")
    p.add_argument("--errors", action="store_true")
    a = p.parse_args()
    failed = errors() if a.errors else programs(a)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
