#!/usr/bin/env bash
# consumers.sh BUILD_ROOT SOURCE_ROOT: hrc as its users get it.
#  1. `meson install` into a staging directory, then build the demo with nothing but
#     `pkg-config --cflags --libs M` and the installed headers, for each installed module M
#     (hrc, hrc-gc, hrc-rc and their -checked builds),
#  2. a separate meson project that takes hrc as a subproject with its default options (which
#     build no tests or benchmarks) and uses dependency('hrc'),
#  3. code compiled with -fPIC (a shared object of generated code) reaches hrc's thread-locals
#     without __tls_get_addr calls,
#  4. code compiled with one module's flags does not link against another module's library.
# The programs must build and run clean (live objects 0 at exit). TAP output.
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
modules=$(cd "$build/meson-private" && ls hrc*.pc | sed 's/\.pc$//' | sort)
echo "1..$(( $(echo "$modules" | wc -w) + 3 ))"

stage=$work/stage
meson install -C "$build" --destdir "$stage" --no-rebuild --quiet >/dev/null
pcdir=$(dirname "$(find "$stage" -name '*.pc' | head -1)")
export PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$stage
libdir=$(dirname "$(find "$stage" -name 'libhrc*.so' | head -1)")
n=0
for m in $modules; do
  n=$((n + 1))
  if cc -std=gnu11 -Wall -Wextra $(pkg-config --cflags "$m") "$src/examples/demo.c" -o "$work/demo" \
       $(pkg-config --libs "$m") >"$work/log" 2>&1 &&
     LD_LIBRARY_PATH=$libdir "$work/demo" >>"$work/log" 2>&1; then
    echo "ok $n - installed headers and pkg-config $m build and run the demo"
  else
    echo "not ok $n - installed headers and pkg-config $m"; sed 's/^/# /' "$work/log"
  fi
done

proj=$work/consumer
mkdir -p "$proj/subprojects"
ln -s "$src" "$proj/subprojects/hrc"
cp "$src/examples/demo.c" "$proj/"
cat > "$proj/meson.build" <<'MESON'
project('consumer', 'c', default_options: ['c_std=gnu11'])
hrc = dependency('hrc', fallback: ['hrc'])
executable('demo', 'demo.c', dependencies: [hrc, dependency('threads')])
MESON
# With its default options a subproject builds hrc's libraries only: no tests, no benchmarks.
if (cd "$proj" && meson setup b >"$work/log2" 2>&1 && ninja -C b >>"$work/log2" 2>&1 &&
    ./b/demo >>"$work/log2" 2>&1) &&
   ! find "$proj/b/subprojects" -name 'test_*' -o -name 'rbtree-*' | grep -q .; then
  echo "ok $((n + 1)) - a meson project uses hrc as a subproject through dependency('hrc'), which builds no tests or benchmarks"
else
  echo "not ok $((n + 1)) - hrc as a meson subproject"; sed 's/^/# /' "$work/log2"
fi

# 3. -fPIC: every thread-local hrc.h declares is initial-exec (HRC_THREAD_LOCAL).
first=$(echo "$modules" | head -1)
cat > "$work/pic.c" <<'C'
#include "hrc.h"
hrc_obj_t *make(void) { return hrc_alloc(24, 1, 2); }
void drop(hrc_obj_t *o) { hrc_drop(o); }
hrc_defer_state_t *state(void) { return hrc_tls_defer; }
C
if cc -std=gnu11 -O2 -fPIC -S $(pkg-config --cflags "$first") "$work/pic.c" -o "$work/pic.s" \
     >"$work/log3" 2>&1 && ! grep -q __tls_get_addr "$work/pic.s"; then
  echo "ok $((n + 2)) - -fPIC code reaches hrc's thread-locals without __tls_get_addr"
else
  echo "not ok $((n + 2)) - -fPIC code calls __tls_get_addr"; sed 's/^/# /' "$work/log3"
fi

# 4. Flags of one module, library of another: a link error that names the variant.
set -- $modules
if [ $# -ge 2 ]; then
  if cc -std=gnu11 $(pkg-config --cflags "$1") "$src/examples/demo.c" -o "$work/mixed" \
       $(pkg-config --libs "$2") >"$work/log4" 2>&1; then
    echo "not ok $((n + 3)) - code compiled for $1 linked against $2"
  elif grep -q "hrc_variant_" "$work/log4"; then
    echo "ok $((n + 3)) - code compiled for $1 does not link against $2 (the error names the variant)"
  else
    echo "not ok $((n + 3)) - the link failed for another reason"; sed 's/^/# /' "$work/log4"
  fi
else
  echo "ok $((n + 3)) # SKIP one module built"
fi