/* collect.c: what the public API asks of the tracer, passed to the heap (heap/heap.h), which
 * does nothing without one (rc mode). */
#include "cache_internal.h"
#include "options_internal.h"
#include "rc_internal.h"

/* A full collection now (a thread the collector must know calls it), after handing the free
 * blocks ended threads left in the caches' pool back to it. */
void hrc_collect(void) {
  if (HRC_HEAP_TRACED) hrc_thread_attach();
  hrc_free_pending_all();
  hrc_cache_orphans_release();
  hrc_heap_collect();
}

/* The knobs start the runtime first, so that its start-up (which applies the environment's
 * values) does not overwrite them. */
void hrc_gc_set_candidate_threshold(uint64_t n) {
  hrc_thread_ensure();
  hrc_heap_set_candidate_threshold(n);
}

void hrc_gc_set_divisor(unsigned divisor) {
  hrc_thread_ensure();
  hrc_heap_set_divisor(divisor);
}

void hrc_gc_set_growth(unsigned factor, size_t min_bytes) {
  hrc_thread_ensure();
  if (min_bytes == 0) min_bytes = hrc_growth_min_default();
  if (HRC_HEAP_TRACED && HRC_COUNTING) hrc_heap_set_growth(factor, min_bytes);
}
