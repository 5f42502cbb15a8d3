/* block_internal.h: where an object's memory comes from and goes back to.
 *
 * Release builds: a block is the object; sizes the caches hold (cache_internal.h) come from
 * and go back to this thread's cache, the rest to the heap (heap/heap.h). On a traced heap
 * (HRC_HEAP_TRACED) a cached block's fields are cleared, so the cache pins no garbage, and
 * pointer-free blocks are never cached. Checked builds: a 16-byte prefix precedes the object,
 * and freed blocks are poisoned and quarantined (rc/debug.c). Inline because every allocation
 * and every free passes here.
 */
#ifndef HRC_BLOCK_INTERNAL_H
#define HRC_BLOCK_INTERNAL_H

#include "cache_internal.h"
#include "rc_internal.h"

#if HRC_DEBUG
#define BLOCK_PREFIX 16u
HRC_HIDDEN void hrc_debug_on_alloc(hrc_obj_t *o, size_t size);
HRC_HIDDEN void hrc_debug_release(hrc_obj_t *o);
HRC_HIDDEN size_t hrc_debug_requested(const hrc_obj_t *o);
#else
#define BLOCK_PREFIX 0u
#endif

/* A block for an object of size bytes, or NULL: from this thread's cache when it has one of
 * that size (release builds that count), else from the heap; `atomic` asks for pointer-free
 * memory, which a traced heap keeps apart (so it is never cached). */
static inline hrc_obj_t *hrc_block_alloc(size_t size, bool atomic) {
#if !HRC_DEBUG && HRC_COUNTING
  size_t words = (size + 7) / 8;
  bool cacheable = !atomic || !HRC_HEAP_TRACED;
  if (HRC_LIKELY(cacheable && hrc_cache_fits(words))) return hrc_cache_pop(words);
#endif
  bool scanned = !atomic;
  /* Blocks the caches do not hold never pass a refill (and checked builds have no caches):
   * the refill's duties, a bounded drop's rest and the heap's pace, happen here. */
  if (HRC_UNLIKELY(hrc_tls_pending != NULL)) hrc_free_pending_some();
  hrc_heap_pace();
  if (HRC_UNLIKELY(size > SIZE_MAX - BLOCK_PREFIX)) return NULL;
  char *p = hrc_heap_alloc(size + BLOCK_PREFIX, scanned);
  if (HRC_UNLIKELY(p == NULL)) return NULL;
  hrc_obj_t *o = (hrc_obj_t *)(p + BLOCK_PREFIX);
#if HRC_DEBUG
  hrc_debug_on_alloc(o, size);
#endif
  return o;
}

/* Give a dead object's block back: to this thread's cache when it has room (release builds),
 * else to the heap; checked builds poison and quarantine it instead. On a traced heap a
 * pointer-free block is left to the collector, and a full cache class keeps the block on its
 * spill stack until the next collection (cache_internal.h). */
static inline void hrc_block_release(hrc_obj_t *o) {
#if HRC_DEBUG
  hrc_debug_release(o);
#else
  size_t words = o->words;
  if (HRC_HEAP_TRACED && (o->flags & HRC_FLAG_ATOMIC)) {
    /* Never cached (a traced heap keeps pointer-free memory apart): a small block is left to
     * the next collection, a larger one given back now (dropped 100 MB strings stayed in
     * hybrid's heap until a collection found them). */
    if (hrc_cache_fits(words)) hrc_heap_leave(o, words * 8);
    else hrc_heap_free(o);
    return;
  }
  if (HRC_LIKELY(hrc_cache_fits(words))) { /* its old fields: hrc_cache_clear_all */
    if (HRC_LIKELY(hrc_cache_push(o, words))) return;
    hrc_cache_overflow(o, words);
    return;
  }
  hrc_heap_free(o);
#endif
}

/* hrc_block_release for a dead object with exactly two scanned fields (so neither pointer-free
 * nor an array), given this thread's cache record: the free walk's usual case without the
 * general tests or a thread-local load per block. */
static inline void hrc_block_release_pair(hrc_cache_t *cache, hrc_obj_t *o) {
#if !HRC_DEBUG && HRC_COUNTING
  size_t words = o->words;
  if (HRC_LIKELY(hrc_cache_push_to(cache, o, words))) return; /* room 0: not a cached size */
  if (hrc_cache_fits(words)) hrc_cache_overflow(o, words);
  else hrc_heap_free(o);
#else
  (void)cache;
  hrc_block_release(o);
#endif
}

#endif
