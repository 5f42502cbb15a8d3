/* hrc_config.h: build configuration seen by generated code.
 *
 * The build variant (mode, debug checks, statistics) is chosen when a program is compiled and
 * linked: the pkg-config module (hrc, hrc-rc, hrc-gc) or the meson dependency passes
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

/* Every thread-local of hrc, public or internal: initial-exec, one %fs-relative access even
 * from code compiled with -fPIC (the general-dynamic default calls __tls_get_addr on each
 * access: 12.8 M instructions on rbtree 4.2M, hybrid, for four such variables). The library is
 * therefore linked at program start, not dlopen'ed. */
#define HRC_THREAD_LOCAL __thread __attribute__((tls_model("initial-exec")))

#define HRC_API __attribute__((visibility("default")))
/* Out-of-line paths, named for which: a *_cold function is HRC_COLD (rare: errors, overflow,
 * refills), a *_slow one HRC_NOINLINE (out of line but hot: the last drop, freeing, the
 * allocation the inline pop could not serve). */
#define HRC_COLD     __attribute__((cold, noinline))
#define HRC_NOINLINE __attribute__((noinline))
#define HRC_NORETURN __attribute__((noreturn))
/* The allocation fast path, always inlined: gcc's heuristics outlined it from a function with
 * many allocation sites (bench/deriv.c's smart constructors: a call and 5.7 M instructions per
 * 90 M), which defeats a pop that exists to need no call. */
#define HRC_ALWAYS_INLINE inline __attribute__((always_inline))
#define HRC_LIKELY(x)     __builtin_expect(!!(x), 1)
#define HRC_UNLIKELY(x)   __builtin_expect(!!(x), 0)

/* The name of the variant, as the stats report and the demo print it. */
#if defined(HRC_MODE_RC)
#define HRC_TRACING    0 /* whether bdwgc owns the heap */
#define HRC_MODE_NAME  "rc"
#define HRC_MODE_TOKEN rc
#elif defined(HRC_MODE_GC)
#define HRC_TRACING    1
#define HRC_MODE_NAME  "gc"
#define HRC_MODE_TOKEN gc
#else
#define HRC_TRACING    1
#define HRC_MODE_NAME  "hybrid"
#define HRC_MODE_TOKEN hybrid
#endif

/* The variant a program was compiled for is a symbol only the matching library defines, and
 * every file that includes hrc.h refers to it: code compiled with one variant's flags does not
 * link against another variant's library (a gc-compiled program against libhrc-rc ran and
 * leaked), and the linker's message names the variant it looked for, e.g.
 * "undefined reference to `hrc_variant_hybrid_checked0_stats1'". */
#define HRC_CAT5(a, b, c, d, e)      a##b##c##d##e
#define HRC_VARIANT_NAME(m, d, s)    HRC_CAT5(hrc_variant_, m, _checked, d, _stats##s)
#define HRC_VARIANT_SYMBOL_(m, d, s) HRC_VARIANT_NAME(m, d, s)
#define HRC_VARIANT_SYMBOL           HRC_VARIANT_SYMBOL_(HRC_MODE_TOKEN, HRC_DEBUG, HRC_WITH_STATS)
extern HRC_API const char HRC_VARIANT_SYMBOL;
static const char *const hrc_variant_of_this_file __attribute__((used)) = &HRC_VARIANT_SYMBOL;

#endif
