/* heap_inline.h (bdwgc): the part of the heap contract (heap.h) that inline code must see:
 * this heap's traits, and allocation and refills, inline because gc mode allocates every object
 * here (a call layer over GC_malloc cost gc 1.6% of binary-trees' instructions). bdwgc.c holds
 * the rest. */
#ifndef HRC_HEAP_INLINE_H
#define HRC_HEAP_INLINE_H

#define GC_THREADS 1
#include <gc/gc.h>

/* A tracer scans the heap conservatively: a block handed back is reclaimed only by the next
 * collection (so caches keep their overflow until then), a cached block's stale fields would
 * keep garbage alive (so frees clear them), and pointer-free blocks come from memory the tracer
 * never scans (so they are never cached for objects with fields). */
#define HRC_HEAP_TRACED 1
/* The span's step (heap.h): bdwgc's heap block. */
#define HRC_HEAP_GRANULE ((uintptr_t)4096)

static inline void *hrc_heap_alloc(size_t size, bool scanned) {
  return scanned ? GC_malloc(size) : GC_malloc_atomic(size);
}

static inline size_t hrc_heap_usable(const void *p) { return GC_size(p); }

/* Collections so far (bdwgc.c counts them): caches trim what they hold when it moves. */
extern HRC_HIDDEN uint64_t hrc_bdwgc_epoch;
static inline uint64_t hrc_heap_epoch(void) {
  return __atomic_load_n(&hrc_bdwgc_epoch, __ATOMIC_RELAXED);
}

/* The refill hook is the hybrid policy's check (policy.c); gc mode leaves it to bdwgc. */
HRC_HIDDEN void hrc_policy_check(void);
static inline void hrc_heap_pace(void) {
  if (HRC_COUNTING) hrc_policy_check();
}

/* Count bytes handed back to the collector (bdwgc.c; the policy's measure). */
HRC_HIDDEN HRC_COLD void hrc_bdwgc_handed_back_now(size_t bytes);

/* Hand a list of free blocks to the collector: unlinked, so that each block is garbage on its
 * own (one stale word pointing at the head of a linked list would keep all of it). Inline:
 * caches trim in a loop over their sizes, which a call per list made dearer. */
static inline void hrc_heap_free_list(void *list, size_t size) {
  size_t bytes = 0;
  for (void **b = list; b != NULL;) {
    void **next = b[0];
    b[0] = NULL;
    b = next;
    bytes += size;
  }
  if (bytes > 0) hrc_bdwgc_handed_back_now(bytes);
}

HRC_HIDDEN void hrc_heap_free(void *p);
HRC_HIDDEN void hrc_heap_free_sized(void *p, size_t size);

/* Bytes this thread left to the collector, not yet added to the total (bdwgc.c). */
extern HRC_HIDDEN HRC_THREAD_LOCAL uint64_t hrc_bdwgc_left_here;
HRC_HIDDEN HRC_COLD void hrc_bdwgc_left_flush(void);

/* A small pointer-free block is garbage on its own (nothing links through it): leave it to
 * the next collection, counted, since such garbage is one of the policy's causes. */
static inline void hrc_heap_leave(void *p, size_t size) {
  (void)p;
  hrc_bdwgc_left_here += size;
  if (HRC_UNLIKELY(hrc_bdwgc_left_here >= HRC_CACHE_TRIM_BYTES)) hrc_bdwgc_left_flush();
}

/* The batch rotation's pseudo-random state (bdwgc.c). */
extern HRC_HIDDEN HRC_THREAD_LOCAL uint32_t hrc_bdwgc_seed;

/* The number of blocks on a list. */
static inline size_t hrc_bdwgc_list_length(void **b) {
  size_t n = 0;
  for (; b != NULL; b = b[0]) n++;
  return n;
}

/* A fresh batch from bdwgc lists one heap block's objects in address order; start it at a
 * pseudo-random element instead, so that objects built one after another in different
 * batches do not land at the same offsets of their 4 KiB blocks and contend for one L1 set
 * (docs/backstop.md). */
static inline void *hrc_bdwgc_rotate(void **list) {
  size_t n = hrc_bdwgc_list_length(list);
  if (n < 2) return list;
  hrc_bdwgc_seed = hrc_bdwgc_seed * 1664525u + 1013904223u;
  size_t r = (hrc_bdwgc_seed >> 8) % n;
  if (r == 0) return list;
  void **tail = list, **cut = list;
  for (size_t i = 1; i < r; i++) cut = cut[0];
  void **start = cut[0];
  cut[0] = NULL;
  for (tail = start; tail[0] != NULL; tail = tail[0]) {
  }
  tail[0] = list;
  return start;
}

/* bdwgc picks the batch (about a heap block's worth) and clears it (GC_malloc_many). */
static inline void *hrc_heap_alloc_many(size_t size, unsigned count) {
  (void)count;
  return hrc_bdwgc_rotate(GC_malloc_many(size));
}

#endif
