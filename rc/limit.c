/* limit.c: the heap limit's API and the environment variable that sets it.
 *
 * A limit (HRC_HEAP_LIMIT or hrc_set_heap_limit) caps the heap hrc allocates objects from; the
 * heap counts and enforces it (heap/heap.h: hrc_heap_set_limit, hrc_heap_bytes):
 *  - rc (mimalloc): the bytes of object blocks hrc holds (live objects and the blocks its
 *    caches keep), exact to within 256 KiB per thread; runtime records are not counted;
 *  - gc and hybrid (bdwgc): bdwgc's heap size, free space between collections included; bdwgc
 *    collects before it would grow past the limit.
 * What an allocation does when the limit (or the system) refuses it is rc/oom.c's.
 */
#include "options_internal.h"
#include "rc_internal.h"

static size_t limit_bytes; /* 0: no limit */

/* Make bytes the limit, here and in the heap. */
static void store_limit(size_t bytes) {
  __atomic_store_n(&limit_bytes, bytes, __ATOMIC_RELAXED);
  hrc_heap_set_limit(bytes);
}

size_t hrc_heap_in_use(void) {
  hrc_thread_attach(); /* the heap starts with the first registration */
  return hrc_heap_bytes();
}

void hrc_set_heap_limit(size_t bytes) {
  /* Registered first: the first registration reads HRC_HEAP_LIMIT (and starts the heap, which
   * may read its own settings), which must not undo this call. */
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
