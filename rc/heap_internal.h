/* heap_internal.h: the allocator seam. The only place in rc/ that names an allocator.
 *
 * The rc mode takes blocks from mimalloc. The gc and hybrid modes (the backstop issue) supply
 * their own hrc_heap_* from backstop/ under HRC_MODE_GC / HRC_MODE_HYBRID, with the same
 * contract: alloc returns NULL when memory is exhausted, `scanned` says whether the block may
 * hold references (pointer-free payloads can come from atomic memory), free takes any block
 * alloc returned, from any thread.
 */
#ifndef HRC_HEAP_INTERNAL_H
#define HRC_HEAP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#if defined(HRC_MODE_RC)
#include <mimalloc.h>

/* A block of size bytes from mimalloc (scanned or not makes no difference without a tracer). */
static inline void *hrc_heap_alloc(size_t size, bool scanned) {
  (void)scanned;
  return mi_malloc(size);
}

/* Return a block to mimalloc; cross-thread frees are mimalloc's own business. */
static inline void hrc_heap_free(void *p) { mi_free(p); }

/* Usable bytes of a block, for objects too large to record their size in the header. */
static inline size_t hrc_heap_usable(const void *p) { return mi_usable_size(p); }

/* Zeroed memory for runtime records that hold references (per-thread caches); in the tracing
 * modes the collector scans it. */
static inline void *hrc_heap_alloc_root(size_t size) { return mi_zalloc(size); }

/* Release a record from hrc_heap_alloc_root. */
static inline void hrc_heap_free_root(void *p) { mi_free(p); }
#endif

#endif
