#!/usr/bin/env bash
# consumers.sh BUILD_ROOT SOURCE_ROOT: hrc as its users get it.
#  1. `meson install` into a staging directory, then build the demo with nothing but
#     `pkg-config --cflags --libs hrc-rc` and the installed headers (<hrc/...> via subdirs),
#  2. a separate meson project that takes hrc as a subproject and uses dependency('hrc-rc').
# Both programs must build and run clean (live objects 0 at exit). TAP output.
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "1..2"

stage=$work/stage
meson install -C "$build" --destdir "$stage" --no-rebuild --quiet >/dev/null
pcdir=$(dirname "$(find "$stage" -name hrc-rc.pc | head -1)")
export PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$stage
libdir=$(dirname "$(find "$stage" -name 'libhrc-rc.so' | head -1)")
if cc -std=gnu11 -Wall -Wextra $(pkg-config --cflags hrc-rc) "$src/examples/demo.c" -o "$work/demo" \
     $(pkg-config --libs hrc-rc) >"$work/log" 2>&1 &&
   LD_LIBRARY_PATH=$libdir "$work/demo" >>"$work/log" 2>&1; then
  echo "ok 1 - installed headers and pkg-config hrc-rc build and run the demo"
else
  echo "not ok 1 - installed headers and pkg-config hrc-rc"; sed 's/^/# /' "$work/log"
fi

proj=$work/consumer
mkdir -p "$proj/subprojects"
ln -s "$src" "$proj/subprojects/hrc"
cp "$src/examples/demo.c" "$proj/"
cat > "$proj/meson.build" <<'MESON'
project('consumer', 'c', default_options: ['c_std=gnu11'])
hrc = dependency('hrc-rc', fallback: ['hrc'], default_options: ['tests=false', 'bench=false'])
executable('demo', 'demo.c', dependencies: [hrc, dependency('threads')])
MESON
if (cd "$proj" && meson setup b >"$work/log2" 2>&1 && ninja -C b >>"$work/log2" 2>&1 &&
    ./b/demo >>"$work/log2" 2>&1); then
  echo "ok 2 - a meson project uses hrc as a subproject through dependency('hrc-rc')"
else
  echo "not ok 2 - hrc as a meson subproject"; sed 's/^/# /' "$work/log2"
fi
