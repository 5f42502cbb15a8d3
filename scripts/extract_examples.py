#!/usr/bin/env python3
"""Extract the compiled examples of a Markdown guide.

An example is a ```c fenced block preceded (blank lines allowed) by an HTML comment
`<!-- example: NAME -->`. `--list FILE` prints the names, one per line; `FILE OUTDIR` writes
OUTDIR/NAME.c for each. The meson build uses both, so every example in docs/lowering.md is
compiled and run by the test suite.
"""
import pathlib
import re
import sys

MARK = re.compile(r"<!--\s*example:\s*([A-Za-z0-9_]+)\s*-->")


def examples(text):
    """Yield (name, code) for each marked ```c block."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = MARK.search(lines[i])
        i += 1
        if not m:
            continue
        while i < len(lines) and not lines[i].strip():
            i += 1
        if i >= len(lines) or lines[i].strip() != "```c":
            sys.exit(f"example {m.group(1)}: the marker must be followed by a ```c block")
        i += 1
        start = i
        while i < len(lines) and lines[i].strip() != "```":
            i += 1
        yield m.group(1), "\n".join(lines[start:i]) + "\n"


def main(argv):
    if len(argv) == 3 and argv[1] == "--list":
        for name, _ in examples(pathlib.Path(argv[2]).read_text()):
            print(name)
        return 0
    if len(argv) == 3:
        out = pathlib.Path(argv[2])
        out.mkdir(parents=True, exist_ok=True)
        names = set()
        for name, code in examples(pathlib.Path(argv[1]).read_text()):
            if name in names:
                sys.exit(f"example {name} appears twice")
            names.add(name)
            (out / f"{name}.c").write_text(code)
        return 0
    sys.exit("usage: extract_examples.py --list GUIDE.md | GUIDE.md OUTDIR")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
