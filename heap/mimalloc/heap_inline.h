/* heap_inline.h (mimalloc): the part of the heap contract (heap.h) that inline code must see:
 * this heap's traits, and the calls on the allocation, refill and free paths, which are inline
 * because a call layer over mi_malloc and mi_free cost rc 3% of binary-trees' instructions.
 * mimalloc.c holds the rest and the byte count's invariants. */
#ifndef HRC_HEAP_INLINE_H
#define HRC_HEAP_INLINE_H

#include <mimalloc.h>

/* No tracer: a block given back is free at once, nothing scans cached blocks, and pointer-free
 * blocks are blocks like any other. */
#define HRC_HEAP_TRACED 0
/* The span's step (heap.h): mimalloc 2.0's segments are 4 MiB. */
#define HRC_HEAP_GRANULE ((uintptr_t)4 << 20)

/* The heap limit's count (mimalloc.c): this thread's bytes not yet folded into the process's,
 * and how many it may take before it folds. */
extern HRC_HIDDEN HRC_THREAD_LOCAL int64_t hrc_mi_pending;
extern HRC_HIDDEN HRC_THREAD_LOCAL int64_t hrc_mi_allowance;
#define HRC_MI_FOLD_BYTES (256 * 1024)
/* Fold this thread's count in; false (and p, counted as bytes, given back) past the limit. */
HRC_HIDDEN HRC_COLD bool hrc_mi_fold(void *p, size_t bytes);

HRC_HIDDEN void *hrc_heap_alloc(size_t size, bool scanned);

/* Count a block p of `bytes` taken from mimalloc; NULL when that passes the heap limit. */
static inline void *hrc_mi_took(void *p, size_t bytes) {
  hrc_mi_pending += (int64_t)bytes;
  if (HRC_UNLIKELY(hrc_mi_pending > hrc_mi_allowance) && !hrc_mi_fold(p, bytes)) return NULL;
  return p;
}

/* Counted as `size`; cross-thread frees are mimalloc's business. */
static inline void hrc_heap_free_sized(void *p, size_t size) {
  hrc_mi_pending -= (int64_t)size;
  mi_free(p);
  if (HRC_UNLIKELY(hrc_mi_pending < -HRC_MI_FOLD_BYTES)) hrc_mi_fold(NULL, 0);
}

/* Note a batch of blocks linked through their first words. spread: the xor of each block
 * with the one before it, or-ed together (two instructions a block; a per-block minimum and
 * maximum cost binary-trees 2% of its instructions): when consecutive blocks differ only
 * below the granule, all lie in one granule and one note covers them; else each is noted. */
static inline void hrc_mi_note_batch(void *list, uintptr_t spread, size_t size) {
  uintptr_t granule = (uintptr_t)list & ~(HRC_HEAP_GRANULE - 1);
  if (HRC_LIKELY(spread < HRC_HEAP_GRANULE)) {
    hrc_heap_note(granule, granule + HRC_HEAP_GRANULE);
    return;
  }
  for (void **b = list; b != NULL; b = b[0]) hrc_heap_note((uintptr_t)b, (uintptr_t)b + size);
}

/* A batch took this thread past its allowance (mimalloc.c): fold, and past the limit give blocks
 * back until the rest fits; what is left of the list (NULL when nothing fits). */
HRC_HIDDEN HRC_COLD void *hrc_mi_fold_batch(void **list, size_t size);

/* Counted once per batch, not per block (43 instructions per fresh block before, against
 * mimalloc's own 11 for the allocation). mi_malloc_small: the caches' sizes (at most 256
 * bytes) are small for mimalloc, so its size dispatch is skipped. */
_Static_assert(HRC_CACHE_MAX_WORDS * 8 <= MI_SMALL_SIZE_MAX,
               "hrc: cached sizes are small for mimalloc");
static inline void *hrc_heap_alloc_many(size_t size, unsigned count) {
  void **list = mi_malloc_small(size);
  if (HRC_UNLIKELY(list == NULL)) return NULL;
  list[0] = NULL;
  uintptr_t spread = 0; /* the bits in which some block differs from the one before it */
  unsigned n = 1;
  for (; n < count; n++) {
    void **b = mi_malloc_small(size);
    if (HRC_UNLIKELY(b == NULL)) break;
    spread |= (uintptr_t)b ^ (uintptr_t)list;
    b[0] = list;
    list = b;
  }
  hrc_mi_pending += (int64_t)(n * size);
  if (HRC_UNLIKELY(hrc_mi_pending > hrc_mi_allowance) &&
      (list = hrc_mi_fold_batch(list, size)) == NULL)
    return NULL;
  hrc_mi_note_batch(list, spread, size);
  return list;
}

/* No collections: the epoch never moves, and a refill has nothing to pace. */
static inline uint64_t hrc_heap_epoch(void) { return 0; }
static inline void hrc_heap_pace(void) {}

HRC_HIDDEN void hrc_heap_free_list(void *list, size_t size);

static inline void hrc_heap_free(void *p) { hrc_heap_free_sized(p, mi_usable_size(p)); }

/* mimalloc frees at once whatever the block holds. */
static inline void hrc_heap_leave(void *p, size_t size) { hrc_heap_free_sized(p, size); }

static inline size_t hrc_heap_usable(const void *p) { return mi_usable_size(p); }

#endif
