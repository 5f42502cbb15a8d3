/* cache_internal.h: per-thread, size-segregated caches of free blocks in front of the heap.
 *
 * A dead object's block goes to its thread's cache for its size (in 8-byte words, 2..32) and
 * the next allocation of that size takes it back: a push and a pop on a thread-local list,
 * instead of a trip through the allocator (Debian's mimalloc 2.0.9 spends about 116
 * instructions on malloc+free of 32 bytes, measured with callgrind on bench/primitives).
 * The pop is also inline in hrc_alloc (hrc_alloc.h). The hybrid mode will keep the same caches
 * in scanned memory (DESIGN.md section 4).
 *
 * Invariants: a cached block is dead and belongs to no object; its first word links the
 * list. Each class holds at most HRC_CACHE_CLASS_BYTES of blocks; beyond that blocks go back
 * to the heap, so a thread never hoards more than 31 x 64 KiB. Only the owning thread touches
 * its caches; a thread's exit returns them to the heap (hrc_cache_thread_exit). Checked builds
 * bypass the caches (freed blocks go to the quarantine instead).
 */
#ifndef HRC_CACHE_INTERNAL_H
#define HRC_CACHE_INTERNAL_H

#include <stdint.h>

#include "rc_internal.h"

#define HRC_CACHE_CLASS_BYTES (64u * 1024u)

/* hrc_cache_t, hrc_tls_cache and hrc_cache_fits are public (hrc_alloc.h): the allocation fast
 * path is inline in generated code. */

/* A cached block of exactly `words` words, or NULL. */
static inline void *hrc_cache_pop(size_t words) {
  void *b = hrc_tls_cache.head[words];
  if (b != NULL) {
    hrc_tls_cache.head[words] = *(void **)b;
    hrc_tls_cache.bytes[words] -= (uint32_t)(words * 8);
  }
  return b;
}

/* Keep a dead block of `words` words; false when that class is full. */
static inline bool hrc_cache_push(void *b, size_t words) {
  if (hrc_tls_cache.bytes[words] >= HRC_CACHE_CLASS_BYTES) return false;
  *(void **)b = hrc_tls_cache.head[words];
  hrc_tls_cache.head[words] = b;
  hrc_tls_cache.bytes[words] += (uint32_t)(words * 8);
  return true;
}

/* Return every cached block of this thread to the heap. */
HRC_HIDDEN void hrc_cache_thread_exit(void);

#endif
