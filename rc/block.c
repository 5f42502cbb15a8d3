/* block.c: objects' blocks, the allocation entry points and objects' sizes.
 *
 * In release builds a block is the object. In checked builds (HRC_DEBUG) a 16-byte prefix
 * {requested size, cookie} precedes the object; rc/debug.c owns its meaning. Every allocation
 * checks its arguments (one compare each) because a wrong scan count corrupts the heap much
 * later, far from the mistake.
 */
#include "block_internal.h"

/* Usable bytes of an object's block, prefix excluded. */
size_t hrc_block_usable(const hrc_obj_t *o) {
  return hrc_heap_usable((const char *)o - BLOCK_PREFIX) - BLOCK_PREFIX;
}

/* Bytes an object accounts for: from the header when small; else the requested size (checked
 * builds keep it in the prefix) or the length fields, and the block's size for other tags. */
size_t hrc_obj_size(const hrc_obj_t *o) {
  if (HRC_LIKELY(o->words != 0)) return (size_t)o->words * 8;
#if HRC_DEBUG
  return hrc_debug_requested(o);
#else
  switch (o->tag) {
  case HRC_TAG_BYTES:
    return sizeof(hrc_bytes_t) + ((const hrc_bytes_t *)o)->len + 1;
  case HRC_TAG_ARRAY:
    return sizeof(hrc_array_t) + ((const hrc_array_t *)o)->len * sizeof(void *);
  case HRC_TAG_SCALARS: {
    const hrc_scalars_t *s = (const hrc_scalars_t *)o;
    return (sizeof(hrc_scalars_t) + s->count * s->elem_size + 15) & ~(size_t)15;
  }
  default:
    return hrc_block_usable(o);
  }
#endif
}

/* Bytes a large object built in token tok will account for when it is freed. */
size_t hrc_large_size_in(const hrc_obj_t *tok) {
#if HRC_DEBUG
  return hrc_debug_requested(tok);
#else
  return hrc_block_usable(tok);
#endif
}

/* Stop a wrong size, tag or scan count at the allocation that has it. */
static void check_alloc_args(size_t size, unsigned tag, unsigned scan) {
  bool runtime_object = tag == HRC_TAG_CLOSURE || tag == HRC_TAG_ERROR;
  if (HRC_UNLIKELY(tag > HRC_TAG_MAX_CTOR && !runtime_object))
    hrc_fatal("alloc with tag %u, which is reserved for hrc (constructor tags are 0..%u)", tag,
              HRC_TAG_MAX_CTOR);
  if (HRC_UNLIKELY(scan > HRC_SCAN_MAX))
    hrc_fatal("alloc with %u scanned fields (at most %u)", scan, HRC_SCAN_MAX);
  if (HRC_UNLIKELY(size < sizeof(hrc_obj_t) + (size_t)scan * sizeof(void *)))
    hrc_fatal("alloc of %zu bytes cannot hold a header and %u scanned fields", size, scan);
  /* A closure's first scanned field is its code pointer: with scan 0 its arity reads as -1. */
  if (HRC_UNLIKELY(tag == HRC_TAG_CLOSURE && scan == 0))
    hrc_fatal("alloc of a closure with 0 scanned fields: its code pointer is the first (scan is "
              "1 + the captured values; hrc_closure_alloc)");
}

/* Allocate and initialise an object; the one place fresh objects come from. `atomic` asks for
 * pointer-free memory (payloads; in gc mode also constructors without scanned fields). In
 * hybrid a payload of a cached size comes from the caches like any object (bdwgc scans its
 * bytes conservatively), so no cached block is ever pointer-free memory and the inline free
 * (hrc_cache_put) needs no test for it: binary-trees depth 16, hybrid, 2 instructions per node. */
hrc_obj_t *hrc_alloc_object(size_t size, unsigned tag, unsigned scan, bool atomic) {
  if (HRC_COUNTING && HRC_HEAP_TRACED && hrc_cache_fits(hrc_size_words(size))) atomic = false;
  hrc_thread_ensure();
  hrc_obj_t *o = hrc_block_alloc(size, atomic);
  if (HRC_UNLIKELY(o == NULL)) o = hrc_block_alloc_failed(size, atomic);
  /* No scanned field, no cycle through it: never evidence of cyclic garbage. */
  hrc_header_init(o, size, tag, scan, scan == 0 ? HRC_FLAG_ACYCLIC : 0);
  if (HRC_HEAP_TRACED && atomic) o->flags |= HRC_FLAG_ATOMIC;
  return o;
}

/* Allocation when the inline pop in hrc_alloc found nothing, and always in checked builds:
 * check the arguments, then take a block from the cache or the heap. */
hrc_obj_t *hrc_alloc_slow(size_t size, unsigned tag, unsigned scan) {
  check_alloc_args(size, tag, scan);
  hrc_obj_t *o = hrc_alloc_object(size, tag, scan, !HRC_COUNTING && scan == 0);
  hrc_stats_on_alloc(o);
  return o;
}

/* hybrid: a token from pointer-free memory cannot hold a new object; its block is left to the
 * collector and the object is allocated afresh. */
hrc_obj_t *hrc_alloc_refused_cold(hrc_reuse_t tok, size_t size, unsigned tag, unsigned scan) {
  hrc_stats_on_free(tok);
  return hrc_alloc_slow(size, tag, scan);
}
