/* hrc.h: the one header generated C includes.
 *
 * hrc is a runtime for compilers that emit C: Perceus reference counting with reuse in place,
 * a bdwgc tracing backstop (modes rc, gc, hybrid) and Go-style defer/panic/recover. Compile
 * with the flags of `pkg-config --cflags hrc` (hybrid; `hrc-rc` and `hrc-gc` for the other
 * modes) or the meson dependency of the same name, which select the mode and match the
 * library's build options; code compiled for one variant does not link against another.
 *
 * Parts: hrc_config.h (build variant), hrc_object.h (header, RC states, dup/drop, boxed
 * scalars), hrc_alloc.h (allocation, reuse tokens, drop specialisation), hrc_closure.h
 * (closures), hrc_data.h (strings, scalar and value arrays), hrc_trmc.h (constructor contexts
 * for tail recursion modulo cons), hrc_defer.h (defer, panic, recover, thread exit),
 * hrc_stats.h (statistics), hrc_roots.h (references kept where the collector does not look).
 * docs/lowering.md shows how each source construct lowers to these calls.
 */
#ifndef HRC_H
#define HRC_H

#include <pthread.h>

#include "hrc_config.h"
#include "hrc_object.h"
#include "hrc_stats.h"
#include "hrc_alloc.h"
#include "hrc_closure.h"
#include "hrc_data.h"
#include "hrc_trmc.h"
#include "hrc_defer.h"
#include "hrc_roots.h"

/* Print one line "hrc: <message>" to stderr and abort: for misuse that cannot continue. */
HRC_API HRC_NORETURN HRC_COLD void hrc_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Threads. In gc and hybrid modes bdwgc must know every thread that holds references:
 * hrc_thread_create creates a registered thread (join it with hrc_thread_join); a thread created
 * elsewhere is registered on its first hrc call, or earlier with hrc_thread_attach (do that before
 * it receives objects), and hrc_thread_detach releases its runtime state before it stops using hrc
 * (with no defer frame entered: detaching inside one is one fatal line). */
HRC_API int hrc_thread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                              void *arg);
/* Join a thread made by hrc_thread_create (bdwgc keeps a joinable thread's record until then). */
HRC_API int hrc_thread_join(pthread_t thread, void **result);
HRC_API void hrc_thread_attach(void);
HRC_API void hrc_thread_detach(void);
/* Threads registered with hrc now; each owns runtime root records until it exits. */
HRC_API size_t hrc_attached_threads(void);

/* A full collection now, which also returns free heap memory to the system (gc and hybrid;
 * nothing in rc mode). */
HRC_API void hrc_collect(void);
/* hybrid: collect after this many possible cycle roots per thread (heap/bdwgc/policy.c);
 * the threshold adapts to what collections free. Also HRC_GC_CANDIDATES. */
HRC_API void hrc_gc_set_candidate_threshold(uint64_t n);
/* gc, hybrid: bdwgc's heap-growth trigger (GC_FREE_SPACE_DIVISOR; larger = more collections).
 * In hybrid it runs only with the growth factor 0 (below). */
HRC_API void hrc_gc_set_divisor(unsigned divisor);
/* hybrid: the safety net for garbage no evidence saw: collect once the collector has handed
 * out `factor` times what the last collection left in use since it, and at least min_bytes
 * (0: an eighth of physical memory, at least 256 MiB); factor 0 hands the trigger back to
 * bdwgc. Also HRC_GC_GROWTH and HRC_GC_GROWTH_MIN. Nothing in rc and gc. */
HRC_API void hrc_gc_set_growth(unsigned factor, size_t min_bytes);

/* The heap limit: 0 (the default) for none; also HRC_HEAP_LIMIT (bytes, or with K, M, G).
 * rc counts the bytes of object blocks hrc holds from mimalloc; gc and hybrid, bdwgc's heap
 * size. An allocation that would pass it frees this thread's cached blocks, runs a full
 * collection and tries again; if that fails it panics with hrc_out_of_memory_value(), which
 * a deferred call may recover (rc/limit.c, rc/oom.c). */
HRC_API void hrc_set_heap_limit(size_t bytes);
HRC_API size_t hrc_heap_limit(void);
/* Bytes of the heap in use now: rc, the object blocks hrc holds (what the limit caps); gc and
 * hybrid, bdwgc's heap less its free bytes (the limit caps the heap, free space included). */
HRC_API size_t hrc_heap_in_use(void);
/* The panic value of a failed allocation (immortal), and whether v is it. */
HRC_API hrc_obj_t *hrc_out_of_memory_value(void);
HRC_API bool hrc_is_out_of_memory(const hrc_obj_t *v);

/* Library version, and the variant it was built as: the mode, then "+checks" and "+stats"
 * when built with them ("hybrid+stats", "rc+checks+stats"...). */
HRC_API const char *hrc_version(void);
HRC_API const char *hrc_variant(void);

#endif
