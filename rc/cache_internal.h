/* cache_internal.h: per-thread, size-segregated caches of free blocks in front of the heap.
 *
 * A dead object's block goes to its thread's cache for its size (in 8-byte words, 2..32) and
 * the next allocation of that size takes it back: a push and a pop on a thread-local list,
 * instead of a trip through the allocator (Debian's mimalloc 2.0.9 spends about 116
 * instructions on malloc+free of 32 bytes, measured with callgrind on bench/primitives).
 * The pop is also inline in hrc_alloc (hrc_alloc.h). The hybrid mode will keep the same caches
 * in scanned memory (DESIGN.md section 4).
 *
 * Invariants: a cached block is dead and belongs to no object; its first word links its
 * list; on a `freed` list its second word holds the list's length from that block on (every
 * class has at least two words). A `freed` list holds at most HRC_CACHE_CLASS_BYTES; beyond
 * that blocks go back to the heap. `ready` holds a former `freed` list or a batch of
 * HRC_CACHE_BATCH fresh blocks, so a thread keeps at most about 31 x 128 KiB. Only the owning
 * thread touches its caches; a thread's exit returns them to the heap (hrc_cache_thread_exit).
 * Checked builds bypass the caches (freed blocks go to the quarantine instead).
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

/* Keep a dead block of `words` words; false when that class's `freed` list holds its share.
 * The list's length lives in the blocks (word 1), not in a counter next to the heads. */
static inline bool hrc_cache_push(void *block, size_t words) {
  void **b = block, **head = hrc_tls_cache->freed[words];
  uintptr_t len = head != NULL ? (uintptr_t)head[1] + 1 : 1;
  if (HRC_UNLIKELY(len * words * 8 > HRC_CACHE_CLASS_BYTES)) return false;
  b[0] = head;
  b[1] = (void *)len;
  hrc_tls_cache->freed[words] = b;
  return true;
}

/* Return every cached block of this thread to the heap. */
HRC_HIDDEN void hrc_cache_thread_exit(void);

#endif
