/* limit.c: the heap limit and what happens when memory runs out.
 *
 * A limit (HRC_HEAP_LIMIT or hrc_set_heap_limit) caps the heap hrc allocates objects from:
 *  - rc: the bytes of object blocks hrc holds from mimalloc (live objects and the blocks its
 *    caches keep), counted by the heap seam (heap_internal.h) per thread and folded into one
 *    process-wide count every HRC_HEAP_FOLD_BYTES, so the limit is exact to within that much
 *    per thread; runtime records (caches, defer records) are not counted;
 *  - gc and hybrid: bdwgc's heap size (GC_set_max_heap_size), free space between collections
 *    included; bdwgc collects before it would grow past the limit.
 * An allocation that fails (the limit, or the system out of memory) gives this thread's cached
 * blocks back, runs a full collection and tries once more; then it panics with the
 * out-of-memory value, which a deferred call can recover like any panic (an unrecovered one
 * prints "panic: runtime error: out of memory" and exits with status 2). Runtime records that
 * cannot be allocated end the process with one line instead (hrc_out_of_memory).
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

/* The panic value of a failed allocation: immortal, so panicking needs no memory. */
static const struct {
  hrc_obj_t header;
  size_t len;
  char data[32];
} oom_text = {HRC_IMMORTAL_HEADER(HRC_TAG_BYTES, 0, 0), sizeof "runtime error: out of memory" - 1,
              "runtime error: out of memory"};
static const hrc_error_t oom_error = {HRC_IMMORTAL_HEADER(HRC_TAG_ERROR, 1, 2),
                                      (hrc_obj_t *)&oom_text};

hrc_obj_t *hrc_out_of_memory_value(void) { return (hrc_obj_t *)&oom_error.header; }

bool hrc_is_out_of_memory(const hrc_obj_t *v) { return v == &oom_error.header; }

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

/* An object's block could not be had: free what this thread holds in reserve, collect, try
 * once more, and panic with the out-of-memory value if that fails too. */
hrc_obj_t *hrc_block_alloc_failed(size_t size, bool atomic) {
#if HRC_DEBUG
  hrc_debug_quarantine_flush();
#else
  hrc_cache_release();
#endif
  hrc_collect();
  hrc_obj_t *o = hrc_block_alloc(size, atomic);
  if (o != NULL) return o;
  HRC_STAT_ADD(out_of_memory, 1);
  hrc_panic(hrc_out_of_memory_value());
}
