/* limit.c: the heap limit and the count of bytes it is checked against.
 *
 * A limit (HRC_HEAP_LIMIT or hrc_set_heap_limit) caps the heap hrc allocates objects from:
 *  - rc: the bytes of object blocks hrc holds from mimalloc (live objects and the blocks its
 *    caches keep), counted by the heap seam (heap_internal.h) per thread and folded into one
 *    process-wide count every HRC_HEAP_FOLD_BYTES, so the limit is exact to within that much
 *    per thread; runtime records (caches, defer records) are not counted;
 *  - gc and hybrid: bdwgc's heap size (GC_set_max_heap_size), free space between collections
 *    included; bdwgc collects before it would grow past the limit.
 * What an allocation does when the limit (or the system) refuses it is rc/oom.c's.
 */
#include <stdlib.h>

#include "block_internal.h"
#include "options_internal.h"
#include "rc_internal.h"

static size_t limit_bytes; /* 0: no limit */

/* Make bytes the limit (and bdwgc's, in the tracing modes). */
static void store_limit(size_t bytes) {
  __atomic_store_n(&limit_bytes, bytes, __ATOMIC_RELAXED);
#if HRC_TRACING
  GC_set_max_heap_size(bytes);
#endif
}

#if defined(HRC_MODE_RC)
HRC_THREAD_LOCAL int64_t hrc_tls_heap_pending;
HRC_THREAD_LOCAL int64_t hrc_tls_heap_allowance;
static int64_t heap_bytes; /* folded counts of every thread */

bool hrc_heap_fold(void *p, size_t bytes) {
  int64_t pending = hrc_tls_heap_pending;
  hrc_tls_heap_pending = 0;
  int64_t total = __atomic_add_fetch(&heap_bytes, pending, __ATOMIC_RELAXED);
  int64_t limit = (int64_t)__atomic_load_n(&limit_bytes, __ATOMIC_RELAXED);
  int64_t left = limit - total;
  hrc_tls_heap_allowance = limit == 0 || left > HRC_HEAP_FOLD_BYTES ? HRC_HEAP_FOLD_BYTES
                           : left > 0                               ? left
                                                                    : INT64_MIN; /* every time */
  if (p == NULL || limit == 0 || total <= limit) return true;
  hrc_heap_free_sized(p, bytes); /* over the limit: the allocation that took p fails */
  return false;
}

/* What a block with `words` in its header counts for (heap_internal.h). */
static int64_t counted_bytes(const hrc_obj_t *o, size_t words) {
  return (int64_t)(hrc_cache_fits(words) ? words * 8 : mi_usable_size(o));
}

/* A reuse token takes an object of another size: count its block as the new object's, so its
 * free gives back what is counted. */
void hrc_heap_recount_cold(hrc_obj_t *tok, size_t size) {
  hrc_tls_heap_pending += counted_bytes(tok, hrc_size_words(size)) - counted_bytes(tok, tok->words);
}

void hrc_heap_thread_exit(void) { hrc_heap_fold(NULL, 0); }

size_t hrc_heap_in_use(void) {
  int64_t total = __atomic_load_n(&heap_bytes, __ATOMIC_RELAXED) + hrc_tls_heap_pending;
  return total > 0 ? (size_t)total : 0;
}
#else
size_t hrc_heap_in_use(void) {
  hrc_thread_attach();
  return GC_get_heap_size();
}
#endif

void hrc_set_heap_limit(size_t bytes) {
  /* Registered first: the first registration reads HRC_HEAP_LIMIT (and starts bdwgc, which
   * reads its own settings), which must not undo this call. */
  hrc_thread_ensure();
  store_limit(bytes);
}

size_t hrc_heap_limit(void) {
  hrc_thread_ensure(); /* the first hrc call reads HRC_HEAP_LIMIT */
  return __atomic_load_n(&limit_bytes, __ATOMIC_RELAXED);
}

/* HRC_HEAP_LIMIT (rc/options.c validates it). */
void hrc_limit_process_init(void) {
  uint64_t bytes = hrc_option(HRC_OPTION_HEAP_LIMIT);
  if (bytes > SIZE_MAX) bytes = SIZE_MAX;
  if (bytes != 0) store_limit((size_t)bytes); /* not hrc_set_heap_limit: inside registration */
}
