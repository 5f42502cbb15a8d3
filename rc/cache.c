/* cache.c: the per-thread block caches' storage and their release at thread exit.
 * The push/pop fast paths and the invariants are in cache_internal.h. */
#include "cache_internal.h"
#include "heap_internal.h"

#include <stdlib.h>

/* The record of threads that have none yet: every list empty, never written. */
static hrc_cache_t empty_cache;

__thread __attribute__((tls_model("initial-exec"))) hrc_cache_t *hrc_tls_cache = &empty_cache;

void hrc_cache_thread_enter(void) {
  hrc_cache_t *c = hrc_heap_alloc_root(sizeof(hrc_cache_t));
  if (c == NULL) hrc_out_of_memory(sizeof(hrc_cache_t));
  hrc_tls_cache = c;
}

/* `ready` ran dry: take the `freed` list, or a batch of fresh blocks; then pop. */
void *hrc_cache_refill(size_t words) {
  void **list = hrc_tls_cache->freed[words];
  hrc_tls_cache->freed[words] = NULL;
  if (list == NULL) list = hrc_heap_alloc_many(words * 8, HRC_CACHE_BATCH);
  hrc_tls_cache->ready[words] = list;
  void **b = hrc_tls_cache->ready[words];
  if (b != NULL) hrc_tls_cache->ready[words] = b[0];
  return b;
}

size_t hrc_cache_bytes(void) {
  size_t bytes = 0;
  for (size_t w = HRC_CACHE_MIN_WORDS; w <= HRC_CACHE_MAX_WORDS; w++) {
    void **freed = hrc_tls_cache->freed[w];
    if (freed != NULL) bytes += (uintptr_t)freed[1] * w * 8;
    for (void **b = hrc_tls_cache->ready[w]; b != NULL; b = b[0]) bytes += w * 8;
  }
  return bytes;
}

/* Free every block on a list (in the tracing modes the collector takes them back). */
static void release_list(void *list) {
#if !defined(HRC_MODE_RC)
  (void)list;
  return;
#endif
  while (list != NULL) {
    void *next = *(void **)list;
    hrc_heap_free(list);
    list = next;
  }
}

void hrc_cache_thread_exit(void) {
  hrc_cache_t *c = hrc_tls_cache;
  if (c == &empty_cache) return;
  for (size_t w = HRC_CACHE_MIN_WORDS; w <= HRC_CACHE_MAX_WORDS; w++) {
    release_list(c->ready[w]);
    release_list(c->freed[w]);
  }
  hrc_tls_cache = &empty_cache;
  hrc_heap_free_root(c);
}
