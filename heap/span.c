/* span.c: the span of addresses that holds the heap's blocks (heap.h), the same for every heap.
 * Invariant: the span only grows, and every block the heap handed out lies in it once noted. */
#include "heap.h"

uintptr_t hrc_heap_lo = UINTPTR_MAX, hrc_heap_hi = 0; /* empty until the first block */

/* Grow the span to cover [lo, hi) rounded out to HRC_HEAP_GRANULE, and what lies between it
 * and the old span. Two stores, not one: a thread reading between them sees a smaller span,
 * which only sends it to the exact test (or, in rc, can never happen for a block it was
 * handed, since the note came before the block). */
void hrc_heap_widen(uintptr_t lo, uintptr_t hi) {
  lo &= ~(HRC_HEAP_GRANULE - 1);
  hi = hi > UINTPTR_MAX - HRC_HEAP_GRANULE ? UINTPTR_MAX
                                           : (hi + HRC_HEAP_GRANULE - 1) & ~(HRC_HEAP_GRANULE - 1);
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&lock);
  uintptr_t cur_lo = __atomic_load_n(&hrc_heap_lo, __ATOMIC_RELAXED);
  uintptr_t cur_hi = __atomic_load_n(&hrc_heap_hi, __ATOMIC_RELAXED);
  if (cur_lo < lo) lo = cur_lo;
  if (cur_hi > hi) hi = cur_hi;
  __atomic_store_n(&hrc_heap_lo, lo, __ATOMIC_RELAXED);
  __atomic_store_n(&hrc_heap_hi, hi, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&lock);
}
