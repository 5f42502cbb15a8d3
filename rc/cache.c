/* cache.c: the per-thread block caches' storage and their release at thread exit.
 * The push/pop fast paths and the invariants are in cache_internal.h. */
#include "cache_internal.h"
#include "heap_internal.h"

__thread __attribute__((tls_model("initial-exec"))) hrc_cache_t hrc_tls_cache;

void hrc_cache_thread_exit(void) {
  for (size_t w = HRC_CACHE_MIN_WORDS; w <= HRC_CACHE_MAX_WORDS; w++) {
    void *b;
    while ((b = hrc_cache_pop(w)) != NULL) hrc_heap_free(b);
  }
}
