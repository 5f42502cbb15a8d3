/* cache_internal.h: per-thread, size-segregated caches of free blocks in front of the heap.
 *
 * A dead object's block goes to its thread's cache for its size (in 8-byte words, 2..32) and
 * the next allocation of that size takes it back: a push and a pop on a thread-local list,
 * instead of a trip through the allocator (Debian's mimalloc 2.0.9 spends 55-116 instructions
 * on malloc+free of 32 bytes, measured with callgrind on bench/primitives). The pop is also
 * inline in hrc_alloc (hrc_alloc.h). Each thread's lists live in a record from
 * hrc_heap_alloc_root: on a traced heap memory the collector scans (bdwgc does not scan
 * __thread storage: an object reachable only from one was seen reclaimed while in use;
 * docs/backstop.md).
 *
 * Invariants: a cached block is dead and belongs to no object; its first word links its
 * list; freed[w] holds cap[w] - room[w] blocks. A `freed` list holds at most cap[w] blocks
 * (HRC_CACHE_BYTES, default HRC_CACHE_CLASS_BYTES; 0 blocks in the empty shared record); beyond
 * that blocks go back to the heap, or, on a traced heap (where a block given back is reclaimed only
 * by the next collection), the full list moves to spill[w], a stack of such lists linked through
 * their head block's second word (the list was cleared as it spilled), and refills take from
 * it before the heap. `ready` holds a former `freed` or spilled list or a fresh batch. Only the
 * owning thread changes its lists (on a traced heap a collection clears the old fields of the
 * blocks on `ready` and `freed` as it starts, the world stopped: hrc_cache_clear_all); it trims
 * `ready` and `freed` and hands `spill` back after collections (hrc_heap_epoch), so between two
 * collections a thread's caches hold at most about twice the bound per size beyond what it freed
 * since the first; a thread's exit hands them to a pool for other threads (hrc_cache_thread_exit;
 * rc keeps about one thread's worth there and gives the rest back; hrc_collect empties it). Checked
 * builds bypass the caches (freed blocks go to the quarantine instead).
 */
#ifndef HRC_CACHE_INTERNAL_H
#define HRC_CACHE_INTERNAL_H

#include <stdint.h>

#include "rc_internal.h"

/* HRC_CACHE_CLASS_BYTES and HRC_CACHE_TRIM_BYTES (the caches' bounds) are in hrc_alloc.h. */

/* hrc_cache_t, hrc_tls_cache and hrc_cache_fits are public (hrc_alloc.h): the allocation fast
 * path is inline in generated code. */

#define HRC_CACHE_BATCH 16u /* fresh blocks taken from the heap when a class runs dry */

HRC_HIDDEN void *hrc_cache_refill(size_t words);
/* Traced heap, counting: clear every cached block's old fields (the heap calls it with the
 * world stopped as a collection starts; rc/cache.c). */
HRC_HIDDEN void hrc_cache_clear_all(void);
/* Give this thread a cache record of its own (at registration). */
HRC_HIDDEN void hrc_cache_thread_enter(void);

/* A cached block of exactly `words` words, or NULL when the class is empty and the heap is
 * exhausted; refills the class when it runs dry. */
static inline void *hrc_cache_pop(size_t words) {
  void **b = hrc_tls_cache->ready[words];
  if (HRC_UNLIKELY(b == NULL)) return hrc_cache_refill(words);
  hrc_tls_cache->ready[words] = b[0];
  return b;
}

/* Keep a dead block of `words` words (any header size, 0..255) in `cache` (this thread's);
 * false when that class's `freed` list holds its share, or the size is not cached (room 0). */
static inline bool hrc_cache_push_to(hrc_cache_t *cache, void *block, size_t words) {
  uint32_t room = cache->room[words];
  if (HRC_UNLIKELY(room == 0)) return false;
  *(void **)block = cache->freed[words];
  cache->freed[words] = block;
  cache->room[words] = room - 1;
  return true;
}

/* hrc_cache_push_to this thread's cache. */
static inline bool hrc_cache_push(void *block, size_t words) {
  return hrc_cache_push_to(hrc_tls_cache, block, words);
}

/* Traced heap: `freed` of this size is full: move it to the spill stack and start a new one
 * with block. */
HRC_HIDDEN void hrc_cache_spill(void *block, size_t words);

/* A dead block of a class whose `freed` list is full: spill (traced heap) or give it back. */
static inline void hrc_cache_overflow(void *block, size_t words) {
  if (HRC_HEAP_TRACED) hrc_cache_spill(block, words);
  else hrc_heap_free_sized(block, words * 8);
}

/* Hand the blocks ended threads left for later threads back to the heap (an explicit
 * collection does, so that a traced heap reclaims them and rc's memory goes back). */
HRC_HIDDEN void hrc_cache_orphans_release(void);

/* Return every cached block of this thread to the heap. */
HRC_HIDDEN void hrc_cache_release(void);
/* The same, and release the cache record: the thread is ending. */
HRC_HIDDEN void hrc_cache_thread_exit(void);

#endif
