/* heap.h: the heap contract, what rc needs of the memory under its objects.
 *
 * Two implementations, one per heap, chosen by the build (meson's per-mode source sets and
 * include directory): heap/mimalloc/ (rc mode) and heap/bdwgc/ (gc and hybrid: bdwgc is the
 * tracing backstop). Each folder holds the implementation (one .c file that names its
 * allocator) and heap_inline.h, the part of this contract inline code must see: the heap's
 * traits (HRC_HEAP_TRACED, HRC_HEAP_GRANULE) and, as static inline, those of the calls below
 * that sit on the allocation or free path of every object (the others are functions). Code
 * above this layer names no allocator.
 *
 * Contract, the same for both:
 *  - alloc returns NULL when memory or the heap limit is exhausted, never aborts; `scanned`
 *    says whether the block may hold references (a traced heap keeps pointer-free blocks apart);
 *  - free takes any block alloc or alloc_many returned, from any thread;
 *  - root memory holds runtime records (per-thread caches, defer records): never reclaimed by
 *    a collection, and scanned by it, so what a record refers to stays alive;
 *  - the heap's functions call nothing above it: what they need of the process (option values)
 *    is passed in, and a failure is returned, not reported.
 * Layers: public headers <- heap <- rc <- defer <- runtime; no arrow runs back up.
 */
#ifndef HRC_HEAP_H
#define HRC_HEAP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hrc.h"

#define HRC_HIDDEN __attribute__((visibility("hidden")))

/* ---- the span of the heap's blocks (heap/span.c; the same for every heap) ----
 *
 * [hrc_heap_lo, hrc_heap_hi) holds every block of the heap: a release build's check that a
 * dying object is a block of the heap at all (rc/free.c) costs a range test while the object
 * lies in it. An implementation notes the blocks it hands out where it can (exact: outside the
 * span is never the heap) or answers hrc_heap_owns for what lies outside, and the span grows
 * around the blocks it confirms. The span only grows, in steps of HRC_HEAP_GRANULE, and covers
 * what lies between. */
extern HRC_HIDDEN uintptr_t hrc_heap_lo, hrc_heap_hi;
HRC_HIDDEN HRC_COLD void hrc_heap_widen(uintptr_t lo, uintptr_t hi);

/* Whether p lies in the span (a stack address or static data does not). */
static inline bool hrc_heap_spans(const void *p) {
  uintptr_t lo = __atomic_load_n(&hrc_heap_lo, __ATOMIC_RELAXED);
  return (uintptr_t)p - lo < __atomic_load_n(&hrc_heap_hi, __ATOMIC_RELAXED) - lo;
}

/* The heap handed out blocks within [lo, hi): widen the span if they lie outside it. */
static inline void hrc_heap_note(uintptr_t lo, uintptr_t hi) {
  if (HRC_UNLIKELY(lo < __atomic_load_n(&hrc_heap_lo, __ATOMIC_RELAXED) ||
                   hi > __atomic_load_n(&hrc_heap_hi, __ATOMIC_RELAXED)))
    hrc_heap_widen(lo, hi);
}

#include "heap_inline.h" /* the chosen heap's folder: its traits and inline calls */

/* ---- the process and its threads ---- */

/* What the layers above read from the environment for the heap (rc/options.c). */
typedef struct hrc_heap_settings_s {
  bool show_warnings;           /* HRC_GC_WARNINGS: the collector's own warnings */
  bool keep_interior_pointers;  /* HRC_GC_INTERIOR_POINTERS: the collector's default kept */
  uint64_t candidate_threshold; /* HRC_GC_CANDIDATES: the cycle policy's first threshold */
  uint64_t growth_factor;       /* HRC_GC_GROWTH: the policy's safety net, 0 for the heap's own */
  uint64_t growth_min;          /* HRC_GC_GROWTH_MIN: no growth collection below this heap size */
  /* A traced heap calls this with the world stopped as each collection starts, before it
   * marks anything (NULL: nothing); rc clears its cached blocks' old fields there. */
  void (*before_mark)(void);
} hrc_heap_settings_t;

/* Once per process, before the first block: start the heap. */
HRC_HIDDEN void hrc_heap_process_init(const hrc_heap_settings_t *settings);
/* This thread's first use: make it known to the heap; false if that cannot be done. */
HRC_HIDDEN bool hrc_heap_thread_enter(void);
/* Whether the heap knows the calling thread (a tracer scans its stack); always true
 * without a tracer. */
HRC_HIDDEN bool hrc_heap_thread_known(void);
/* This thread's end (or detach): give back what the heap keeps for it. */
HRC_HIDDEN void hrc_heap_thread_exit(void);
/* pthread_create for a thread the heap must know before start runs. */
HRC_HIDDEN int hrc_heap_thread_create(pthread_t *thread, const pthread_attr_t *attr,
                                      void *(*start)(void *), void *arg);
/* pthread_join for a thread from hrc_heap_thread_create. */
HRC_HIDDEN int hrc_heap_thread_join(pthread_t thread, void **result);
/* End the calling thread now (pthread_exit, through the heap when it tracks threads). */
HRC_HIDDEN HRC_NORETURN void hrc_heap_thread_end(void);

/* ---- blocks ---- */

/* Some calls are declared or defined by heap_inline.h, inline where the heap chose so:
 *   void *hrc_heap_alloc(size_t size, bool scanned): a block of size bytes, or NULL;
 *   void hrc_heap_free(void *p): give back a block from hrc_heap_alloc;
 *   void hrc_heap_free_sized(void *p, size_t size): give back a cache-class block of size
 *     bytes from hrc_heap_alloc_many (or one that size hrc_heap_alloc returned);
 *   size_t hrc_heap_usable(const void *p): usable bytes of a block, for objects too large to
 *     record their size in the header;
 *   void *hrc_heap_alloc_many(size_t size, unsigned count): up to count scanned blocks of size
 *     bytes (a cache class) linked through their first words, or NULL;
 *   uint64_t hrc_heap_epoch(void): collections so far (caches trim what they hold when it
 *     moves);
 *   void hrc_heap_free_list(void *list, size_t size): give back a list of cache-class blocks
 *     of size bytes linked through their first words;
 *   void hrc_heap_leave(void *p, size_t size): give back a pointer-free block of size bytes
 *     that fits a cache class (a traced heap leaves it to the next collection, and counts it);
 *   void hrc_heap_pace(void): the refill hook: a thread's cache ran dry, a good moment to
 *     decide on a collection. */
/* Whether p is a block of this heap; asked only outside the span below. */
HRC_HIDDEN bool hrc_heap_owns(const void *p);

/* ---- root memory ---- */

/* Zeroed root memory, or NULL. */
HRC_HIDDEN void *hrc_heap_alloc_root(size_t size);
/* Root memory whose contents the caller writes before anything reads them, or NULL. */
HRC_HIDDEN void *hrc_heap_alloc_root_uncleared(size_t size);
HRC_HIDDEN void hrc_heap_free_root(void *p);

/* ---- roots the host declares (heap/roots.c; the same for every heap) ---- */

/* Declare [start, start + len) as holding references: an id (never 0), or 0 when out of
 * memory. A traced heap scans every declared range at each collection. */
HRC_HIDDEN uint64_t hrc_heap_root_add(const void *start, size_t len);
/* End a declaration; false when id names none (undeclared already, or never declared). */
HRC_HIDDEN bool hrc_heap_root_remove(uint64_t id);
/* Ranges declared now. */
HRC_HIDDEN size_t hrc_heap_root_count(void);
/* Call fn on every range declared now (for the collector, with the world stopped). */
HRC_HIDDEN void hrc_heap_roots_each(void (*fn)(void *lo, void *hi));

/* ---- collection (a heap without a tracer does nothing) ---- */

/* A full collection now, and free memory back to the system. */
HRC_HIDDEN void hrc_heap_collect(void);
/* The cycle policy's threshold of suspect decrements (hrc_gc_set_candidate_threshold). */
HRC_HIDDEN void hrc_heap_set_candidate_threshold(uint64_t n);
/* The policy's growth safety net (hrc_gc_set_growth; a traced heap under counting only). */
HRC_HIDDEN void hrc_heap_set_growth(unsigned factor, size_t min_bytes);
/* How far the heap may grow between collections (hrc_gc_set_divisor). */
HRC_HIDDEN void hrc_heap_set_divisor(unsigned divisor);

/* ---- the heap limit ---- */

/* Cap the heap at bytes (0: no cap). */
HRC_HIDDEN void hrc_heap_set_limit(size_t bytes);
/* Bytes in use (rc: object blocks held, which the limit caps; bdwgc: its heap less its free
 * bytes, where the limit caps the heap's size). */
HRC_HIDDEN size_t hrc_heap_bytes(void);

/* ---- statistics ---- */

typedef struct hrc_heap_stats_s {
  int64_t collections;
  int64_t pause_ns;
  int64_t max_pause_ns;
  int64_t p99_pause_ns;
  int64_t heap_bytes;
  int64_t reclaimed_bytes; /* bytes the collector's sweeps have reclaimed so far */
  int64_t left_bytes;      /* bytes freed blocks left to the collector (hrc_heap_free...) */
  int64_t in_use_after;    /* heap in use when the last collection ended */
  int64_t by_cause[HRC_GC_CAUSES];
  int64_t found_by_cause[HRC_GC_CAUSES]; /* reclaimed beyond what was left, per cause */
} hrc_heap_stats_t;
/* The heap's figures (zeros without a tracer). */
HRC_HIDDEN void hrc_heap_stats(hrc_heap_stats_t *s);

#endif
