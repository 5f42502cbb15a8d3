/* policy.c: when the hybrid mode runs the backstop.
 *
 * The backstop marks the whole live heap each time, so on acyclic workloads it must run
 * rarely. Two triggers:
 *  - evidence of cyclic garbage: a thread counts decrements that left a count above zero on
 *    objects not flagged acyclic (Bacon and Rajan's candidate roots; hrc_object.h), from the
 *    last collection on. When its count passes the threshold at a cache refill, a collection
 *    runs. A collection that frees little of the heap raises the threshold fourfold, one that
 *    frees much halves it (as Nim's ORC and PHP adapt theirs), within [HRC_GC_CANDIDATES_MIN,
 *    HRC_GC_CANDIDATES_MAX]; what hybrid handed back to the collector itself
 *    (hrc_bdwgc_handed_back) does not count as freed. And since each collection marks the
 *    whole live heap, the threshold is never below one candidate per HRC_GC_CANDIDATE_BYTES
 *    of heap in use: the marking work stays proportional to the evidence. Each object counts
 *    once (HRC_FLAG_SUSPECT, hrc_object.h), so a closure called through many borrowed calls is
 *    one candidate;
 *  - heap growth, the safety net: bdwgc's own trigger, which in hybrid only sees the blocks
 *    the caches could not supply (so RC's eager frees hold it back). GC_FREE_SPACE_DIVISOR
 *    (bdwgc's knob, also hrc_gc_set_divisor) sets how far the heap may grow between
 *    collections.
 * Knobs: HRC_GC_CANDIDATES (initial threshold, default 65536) and the calls below.
 */
#include "bdwgc_internal.h"

#define HRC_GC_CANDIDATES_MIN  4096u
#define HRC_GC_CANDIDATES_MAX  (1u << 26)
#define HRC_GC_CANDIDATE_BYTES 64u

static uint64_t threshold = 65536;
static int64_t policy_collections;

/* HRC_GC_CANDIDATES, once at start-up. */
void hrc_policy_init(uint64_t candidate_threshold) {
  hrc_heap_set_candidate_threshold(candidate_threshold);
}

void hrc_heap_set_candidate_threshold(uint64_t n) {
  if (n < HRC_GC_CANDIDATES_MIN) n = HRC_GC_CANDIDATES_MIN;
  if (n > HRC_GC_CANDIDATES_MAX) n = HRC_GC_CANDIDATES_MAX;
  __atomic_store_n(&threshold, n, __ATOMIC_RELAXED);
}

static uint64_t handed_back_seen; /* hrc_bdwgc_handed_back at the last policy collection */

/* Called at cache refills: collect when this thread has seen enough possible cycle roots. */
void hrc_policy_check(void) {
  if (!HRC_COUNTING) return; /* gc mode: no evidence, bdwgc's growth trigger alone */
  /* Candidates count from the last collection on, whatever ran it: the growth trigger's
   * collections reclaim cycles too, and counting across them would collect twice. */
  static HRC_THREAD_LOCAL uint64_t seen_epoch, heap_floor;
  uint64_t epoch = hrc_heap_epoch();
  if (epoch != seen_epoch) {
    seen_epoch = epoch;
    hrc_tls_cycle_candidates = 0;
    heap_floor = hrc_bdwgc_in_use() / HRC_GC_CANDIDATE_BYTES;
    return;
  }
  uint64_t limit = __atomic_load_n(&threshold, __ATOMIC_RELAXED);
  if (HRC_LIKELY(hrc_tls_cycle_candidates < limit || hrc_tls_cycle_candidates < heap_floor)) return;
  hrc_tls_cycle_candidates = 0;
  size_t before = hrc_bdwgc_in_use();
  hrc_bdwgc_collect();
  size_t after = hrc_bdwgc_in_use();
  __atomic_add_fetch(&policy_collections, 1, __ATOMIC_RELAXED);
  uint64_t all = hrc_bdwgc_handed_back();
  uint64_t handed_back = all - __atomic_exchange_n(&handed_back_seen, all, __ATOMIC_RELAXED);
  size_t freed = before > after ? before - after : 0;
  freed = freed > handed_back ? freed - handed_back : 0;
  /* Freed under an eighth of what was in use: the evidence was weak, wait four times longer
   * than the count that started this collection (floor included, or the threshold would stay
   * under it; doubling from the threshold alone collected at each doubling of a growing heap:
   * docs/backstop.md). bdwgc sweeps lazily, so `after` is read before most of the sweep and
   * `freed` is a lower bound: in practice this backs off geometrically, and heap growth bounds
   * what cyclic garbage can pile up meanwhile. */
  uint64_t used = limit > heap_floor ? limit : heap_floor;
  if (freed < before / 8) hrc_heap_set_candidate_threshold(used * 4);
  else if (freed > before / 2) hrc_heap_set_candidate_threshold(limit / 2);
}

int64_t hrc_policy_collections(void) {
  return __atomic_load_n(&policy_collections, __ATOMIC_RELAXED);
}
