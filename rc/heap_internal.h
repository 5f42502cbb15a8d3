/* heap_internal.h: the allocator seam. The only place in rc/ that names an allocator.
 *
 * The rc mode takes blocks from mimalloc; gc and hybrid from bdwgc. Same contract: alloc
 * returns NULL when memory is exhausted, `scanned` says whether the block may hold references
 * (pointer-free payloads come from atomic memory in the tracing modes), free takes any block
 * alloc returned, from any thread; root records are scanned by the collector.
 * The heap limit (rc/limit.c): in rc mode the seam counts object blocks itself (root records
 * are not counted); in the tracing modes bdwgc enforces it (GC_set_max_heap_size).
 */
#ifndef HRC_HEAP_INTERNAL_H
#define HRC_HEAP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rc_internal.h"

/* A span of addresses that holds the heap's blocks, [hrc_heap_lo, hrc_heap_hi): a release
 * build's check that a dying object is a block of the heap at all (rc/free.c) costs a range
 * test while the object lies in it. rc notes every block mimalloc hands out (per batch), so
 * the span is exact: outside it is never the heap (mimalloc's own mi_is_in_heap_region knows
 * only segments below 40 TiB, and under ASan mimalloc's are above). In gc and hybrid bdwgc is
 * asked outside the span (hrc_heap_owns), and the span grows around the blocks it confirms.
 * The span only grows, in steps of HRC_HEAP_GRANULE, and covers what lies between. */
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

#if defined(HRC_MODE_RC)
#include <mimalloc.h>

/* The heap limit's count (rc/limit.c): bytes of object blocks this thread took from mimalloc
 * minus those it gave back, not yet added to the process's count. Kept per thread so that the
 * count costs a thread-local add per trip to mimalloc. A thread folds its bytes in once they
 * pass its allowance: HRC_HEAP_FOLD_BYTES, or what is left under the limit when that is less
 * (nothing once the limit is reached: then every allocation checks). */
extern HRC_HIDDEN HRC_THREAD_LOCAL int64_t hrc_tls_heap_pending;
extern HRC_HIDDEN HRC_THREAD_LOCAL int64_t hrc_tls_heap_allowance;
#define HRC_HEAP_FOLD_BYTES (256 * 1024)
/* Fold this thread's pending bytes in; false (and p, counted as bytes, given back) when the
 * limit is passed. */
HRC_HIDDEN HRC_COLD bool hrc_heap_fold(void *p, size_t bytes);

/* What a block counts for: cache-class blocks (hrc_cache_fits) their class's bytes, which the
 * caller knows without asking mimalloc (30 instructions per block on binary-trees); any other
 * block mimalloc's usable size. Alloc and free of one block count the same. */

/* Count a block p of `bytes` taken from mimalloc; NULL when that passes the heap limit. */
static inline void *hrc_heap_took(void *p, size_t bytes) {
  hrc_tls_heap_pending += (int64_t)bytes;
  if (HRC_UNLIKELY(hrc_tls_heap_pending > hrc_tls_heap_allowance) && !hrc_heap_fold(p, bytes))
    return NULL;
  return p;
}

/* A block of size bytes from mimalloc (scanned or not makes no difference without a tracer),
 * or NULL when memory or the heap limit is exhausted. Counted at its usable size. */
static inline void *hrc_heap_alloc(size_t size, bool scanned) {
  (void)scanned;
  void *p = mi_malloc(size);
  if (p == NULL) return NULL;
  hrc_heap_note((uintptr_t)p, (uintptr_t)p + size);
  return hrc_heap_took(p, mi_usable_size(p));
}

/* Return a block counted as `bytes` to mimalloc; cross-thread frees are mimalloc's business. */
static inline void hrc_heap_free_sized(void *p, size_t bytes) {
  hrc_tls_heap_pending -= (int64_t)bytes;
  mi_free(p);
  if (HRC_UNLIKELY(hrc_tls_heap_pending < -HRC_HEAP_FOLD_BYTES)) hrc_heap_fold(NULL, 0);
}

/* Return a block from hrc_heap_alloc. */
static inline void hrc_heap_free(void *p) { hrc_heap_free_sized(p, mi_usable_size(p)); }

/* Usable bytes of a block, for objects too large to record their size in the header. */
static inline size_t hrc_heap_usable(const void *p) { return mi_usable_size(p); }

/* Outside the span is never mimalloc's: every block is noted when it is handed out. */
static inline bool hrc_heap_owns(const void *p) {
  (void)p;
  return false;
}
#define HRC_HEAP_GRANULE ((uintptr_t)4 << 20) /* mimalloc 2.0's segments are 4 MiB */

/* Note a batch of blocks linked through their first words. spread: the xor of each block
 * with the one before it, or-ed together (two instructions a block; a per-block minimum and
 * maximum cost binary-trees rc 2% of its instructions): when consecutive blocks differ only
 * below the granule, all lie in one granule and one note covers them; else each is noted. */
static inline void hrc_heap_note_batch(void *list, uintptr_t spread, size_t size) {
  uintptr_t granule = (uintptr_t)list & ~(HRC_HEAP_GRANULE - 1);
  if (HRC_LIKELY(spread < HRC_HEAP_GRANULE)) {
    hrc_heap_note(granule, granule + HRC_HEAP_GRANULE);
    return;
  }
  for (void **b = list; b != NULL; b = b[0]) hrc_heap_note((uintptr_t)b, (uintptr_t)b + size);
}

/* Zeroed memory for runtime records that hold references (per-thread caches); in the tracing
 * modes the collector scans it. */
static inline void *hrc_heap_alloc_root(size_t size) { return mi_zalloc(size); }

/* Release a record from hrc_heap_alloc_root. */
static inline void hrc_heap_free_root(void *p) { mi_free(p); }

/* Root memory whose contents the caller writes before anything reads them (no clearing
 * needed where nothing scans it). */
static inline void *hrc_heap_alloc_root_uncleared(size_t size) { return mi_malloc(size); }

/* A batch of cache-class blocks of `size` bytes (each counted as size) linked through their
 * first word, or NULL. */
static inline void *hrc_heap_alloc_many(size_t size, unsigned count) {
  void **list = mi_malloc(size);
  if (list == NULL || (list = hrc_heap_took(list, size)) == NULL) return NULL;
  list[0] = NULL;
  uintptr_t spread = 0; /* the bits in which some block differs from the one before it */
  for (unsigned i = 1; i < count; i++) {
    void **b = mi_malloc(size);
    if (b != NULL) b = hrc_heap_took(b, size);
    if (b == NULL) break;
    spread |= (uintptr_t)b ^ (uintptr_t)list;
    b[0] = list;
    list = b;
  }
  hrc_heap_note_batch(list, spread, size);
  return list;
}

#else /* gc and hybrid: the bdwgc heap */
#define GC_THREADS 1
#include <gc/gc.h>

/* A block from bdwgc: scanned memory, or pointer-free ("atomic") memory for payloads. */
static inline void *hrc_heap_alloc(size_t size, bool scanned) {
  return scanned ? GC_malloc(size) : GC_malloc_atomic(size);
}

/* Hand a dead block back (rc/cache.c): large blocks and quarantine evictions come here;
 * cache-class blocks go to the per-thread caches. */
HRC_HIDDEN HRC_COLD void hrc_heap_free_traced(void *p);
static inline void hrc_heap_free(void *p) { hrc_heap_free_traced(p); }

/* hrc_heap_free for a block of known size (which only the rc mode's count needs). */
static inline void hrc_heap_free_sized(void *p, size_t bytes) {
  (void)bytes;
  hrc_heap_free_traced(p);
}

static inline size_t hrc_heap_usable(const void *p) { return GC_size(p); }

/* Whether p lies in bdwgc's heap (its block headers); the span grows by heap blocks
 * (HBLKSIZE) around the blocks it confirms. */
static inline bool hrc_heap_owns(const void *p) { return GC_is_heap_ptr(p) != 0; }
#define HRC_HEAP_GRANULE ((uintptr_t)4096)

/* Uncollectable, scanned memory: the collector sees every reference a record holds. */
static inline void *hrc_heap_alloc_root(size_t size) { return GC_malloc_uncollectable(size); }

static inline void hrc_heap_free_root(void *p) { GC_free(p); }

/* bdwgc clears uncollectable memory anyway (it is scanned from the start). */
static inline void *hrc_heap_alloc_root_uncleared(size_t size) {
  return GC_malloc_uncollectable(size);
}

/* A batch of cleared blocks linked through their first word (GC_malloc_many), or NULL. */
static inline void *hrc_heap_alloc_many(size_t size, unsigned count) {
  (void)count; /* bdwgc picks the batch: about a heap block's worth */
  return GC_malloc_many(size);
}
#endif

#endif
