/* hrc_config.h: build configuration seen by generated code.
 *
 * The build variant (mode, debug checks, statistics) is chosen when a program is compiled and
 * linked: the pkg-config module (hrc-rc, later hrc and hrc-gc) or the meson dependency passes
 * the matching -D flags, and the library it links was built with the same ones. Exactly one of
 * HRC_MODE_RC, HRC_MODE_GC, HRC_MODE_HYBRID must be defined.
 *
 * This header only defines hrc_/HRC_ names; it defines no feature macros and silences no
 * warnings, because it is included by other people's generated code.
 */
#ifndef HRC_CONFIG_H
#define HRC_CONFIG_H

#if defined(HRC_MODE_RC) + defined(HRC_MODE_GC) + defined(HRC_MODE_HYBRID) != 1
#error "hrc: define one of HRC_MODE_RC, HRC_MODE_GC, HRC_MODE_HYBRID (pkg-config --cflags hrc)"
#endif
/* HRC_COUNTING: 1 when dup/drop count (rc, hybrid); 0 in pure tracing (gc), where they compile
 * to nothing and reuse tokens are always empty. */
#if defined(HRC_MODE_GC)
#define HRC_COUNTING 0
#else
#define HRC_COUNTING 1
#endif

/* HRC_DEBUG: 1 checks every RC operation and poisons freed blocks (meson -Dchecks=true). */
#ifndef HRC_DEBUG
#define HRC_DEBUG 0
#endif
/* HRC_WITH_STATS: 1 compiles the counters in (meson -Dstats=true); 0 removes them entirely. */
#ifndef HRC_WITH_STATS
#define HRC_WITH_STATS 0
#endif

#if !defined(__GNUC__)
#error "hrc: needs GCC or Clang (it uses __atomic builtins and branch hints)"
#endif

#define HRC_API         __attribute__((visibility("default")))
#define HRC_COLD        __attribute__((cold, noinline))
#define HRC_NOINLINE    __attribute__((noinline)) /* out of line but hot: freeing, reuse */
#define HRC_NORETURN    __attribute__((noreturn))
#define HRC_LIKELY(x)   __builtin_expect(!!(x), 1)
#define HRC_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* The name of the variant, as the stats report and the demo print it. */
#if defined(HRC_MODE_RC)
#define HRC_TRACING 0 /* whether bdwgc owns the heap */
#define HRC_MODE_NAME "rc"
#elif defined(HRC_MODE_GC)
#define HRC_TRACING   1
#define HRC_MODE_NAME "gc"
#else
#define HRC_TRACING   1
#define HRC_MODE_NAME "hybrid"
#endif

#endif
