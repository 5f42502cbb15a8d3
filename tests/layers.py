#!/usr/bin/env python3
"""layers.py: check the library's layering by reading its includes and the names it calls.

Layers, each calling only those before it: public headers (codegen-helpers/) <- heap (heap/:
the contract heap.h, one implementation per heap) <- rc (rc/) <- defer (defer/) <- runtime
(runtime/). Checked here, one TAP line each:
  - no file includes a header of a layer above its own (a header's layer is its folder);
  - rc, defer and runtime include no heap implementation's internals (bdwgc_internal.h, gc.h,
    mimalloc.h); only the contract, heap.h, which brings the chosen heap's heap_inline.h;
  - the heap includes nothing of rc, defer or runtime;
  - per heap, one .c file names its allocator (GC_* or mi_* calls), besides the contract's
    inline part (heap/<heap>/heap_inline.h); no file outside heap/<heap> does;
  - no library file outside the public headers tests the mode by name (HRC_MODE_*, HRC_TRACING):
    the library spells it HRC_COUNTING and HRC_HEAP_TRACED.
Usage: layers.py SOURCE_ROOT
"""
import re
import sys
from pathlib import Path

root = Path(sys.argv[1])
LAYERS = ["codegen-helpers", "heap", "rc", "defer", "runtime"]
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def layer_of(path):
    return LAYERS.index(path.relative_to(root).parts[0])


def library_files():
    for folder in LAYERS[1:]:
        for p in sorted((root / folder).rglob("*")):
            if p.suffix in (".c", ".h"):
                yield p


# Which layer each header name lives in (names are unique across the library).
header_layer = {}
for folder in LAYERS:
    for p in (root / folder).rglob("*.h"):
        header_layer.setdefault(p.name, LAYERS.index(folder))

results = []


def check(ok, name, detail=""):
    results.append((ok, name, detail))


for p in library_files():
    rel = p.relative_to(root)
    text = p.read_text()
    code = COMMENT.sub("", text)
    includes = INCLUDE.findall(code)
    mine = layer_of(p)
    up = [h for h in includes if header_layer.get(h, -1) > mine]
    check(not up, f"{rel} includes nothing from a layer above", ", ".join(up))
    if mine >= LAYERS.index("rc"):
        internals = [h for h in includes if h in ("bdwgc_internal.h", "gc/gc.h", "mimalloc.h")]
        check(not internals, f"{rel} includes no heap implementation's internals",
              ", ".join(internals))
    spelled = re.findall(r"\b(HRC_MODE_(?:RC|GC|HYBRID)|HRC_TRACING)\b", code)
    check(not spelled, f"{rel} does not test the mode by name", ", ".join(sorted(set(spelled))))

allocators = {"bdwgc": re.compile(r"\bGC_[a-z]\w*\s*\("), "mimalloc": re.compile(r"\bmi_\w+\s*\(")}
for heap, pattern in allocators.items():
    naming = [p.relative_to(root) for p in library_files()
              if pattern.search(COMMENT.sub("", p.read_text()))]
    inside = [str(p) for p in naming if p.parts[:2] == ("heap", heap) and p.suffix == ".c"]
    outside = [str(p) for p in naming if p.parts[:2] != ("heap", heap)]
    check(len(inside) == 1, f"one .c file of heap/{heap} names {heap}", ", ".join(inside))
    check(not outside, f"no file outside heap/{heap} names {heap}", ", ".join(outside))

print(f"1..{len(results)}")
for i, (ok, name, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}" + ("" if ok else f": {detail}"))
sys.exit(0 if all(ok for ok, _, _ in results) else 1)
