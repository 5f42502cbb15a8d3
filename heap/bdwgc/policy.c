/* policy.c: when the hybrid mode runs the backstop.
 *
 * RC frees the acyclic garbage the moment it dies, so in hybrid a collection finds only what RC
 * could not free, and marks the whole live heap to find it. The policy therefore collects on
 * evidence that such garbage exists, not on heap growth: a growing heap is, as far as RC can
 * tell, growing live data, which a collection would only mark (rbtree at 4.2M keys, hybrid:
 * 5 growth collections, +541 M instructions, 8 KB reclaimed; docs/backstop.md). bdwgc's own
 * trigger waits for a much larger growth; the causes, each counted in the statistics:
 *  - evidence: a thread counts the references given up that left an object alive, on objects
 *    not flagged acyclic (Bacon and Rajan's candidate roots: the generated code's drops,
 *    hrc_object.h; a dying parent's fields, shared and sticky objects, rc/), each object once,
 *    from the last collection on. When its count passes the threshold at a cache refill, a
 *    collection runs. The threshold adapts to what collections find: that is known only once
 *    bdwgc's lazy sweep has run, so a collection is judged when the next one is due (its
 *    sweeps' reclaimed bytes, less the blocks RC left to the collector): under an eighth of the
 *    heap in use before it, the threshold rises fourfold (from the count that started it, floor
 *    included) and the collection waits for it; over a half, it halves (as Nim's ORC and PHP
 *    adapt theirs), within [HRC_GC_CANDIDATES_MIN, HRC_GC_CANDIDATES_MAX]. And since each
 *    collection marks the live heap, the threshold is never below one candidate per
 *    HRC_GC_CANDIDATE_BYTES of what the last collection left in use. With fewer candidates
 *    (at least HRC_GC_EVIDENCE_MIN), a collection also runs once the collector has handed out
 *    as much as the last collection left in use (and 4 MiB): one dropped parent whose
 *    children point back at it is one candidate for all of them (bench/mixed.c);
 *  - garbage: blocks RC left to the collector (pointer-free blocks, bdwgc's size classes the
 *    caches do not hold) since the last collection reach the heap in use then, and at least
 *    HRC_GC_GARBAGE_MIN;
 *  - growth, the safety net for garbage no count saw (a lowering that forgets a drop): bdwgc's
 *    own trigger, once the bytes allocated from it since the last collection reach
 *    HRC_GC_GROWTH times what was in use when that one ended, and at least HRC_GC_GROWTH_MIN
 *    (an eighth of physical memory by default: rc/options.c)
 *    (hrc_policy_growth_bytes; bdwgc then collects instead of growing the heap). Allocation
 *    from bdwgc is what the caches could not serve: RC's frees hold it back. HRC_GC_GROWTH=0
 *    gives the trigger back to bdwgc's divisor;
 *  - the heap limit: bdwgc collects once before an allocation would fail (bdwgc.c).
 * A finding of garbage left may come from any thread, so it only marks a collection due; the
 * next cache refill runs it. Knobs: HRC_GC_CANDIDATES (the first threshold,
 * default 4096), HRC_GC_GROWTH, HRC_GC_GROWTH_MIN, and the calls below.
 */
#include "bdwgc_internal.h"

#define HRC_GC_CANDIDATES_MIN  4096u
#define HRC_GC_CANDIDATES_MAX  (1u << 26)
#define HRC_GC_CANDIDATE_BYTES 64u
#define HRC_GC_GARBAGE_MIN     ((uint64_t)16 << 20) /* left bytes below this start nothing */
#define HRC_GC_EVIDENCE_MIN    64u                  /* fewer candidates start nothing */
#define HRC_GC_EVIDENCE_GROWTH ((uint64_t)4 << 20)  /* growth with evidence: at least this */

static uint64_t threshold = 4096;
static uint64_t growth_factor, growth_min; /* factor 0: bdwgc's trigger (hrc_gc_set_growth) */
static int due;                            /* 1 + the cause of a collection the heap asks for */
static size_t in_use_at_end;               /* heap in use when the last collection ended */
static uint64_t left_at_end;               /* bytes left to the collector by then */
static uint64_t judged_epoch;              /* epoch after the last evidence collection; 0: judged */
static size_t in_use_before;               /* heap in use before that collection */

void hrc_policy_init(const hrc_heap_settings_t *settings) {
  hrc_heap_set_candidate_threshold(settings->candidate_threshold);
}

void hrc_policy_set_growth(unsigned factor, size_t min_bytes) {
  __atomic_store_n(&growth_min, min_bytes, __ATOMIC_RELAXED);
  __atomic_store_n(&growth_factor, HRC_COUNTING ? factor : 0, __ATOMIC_RELAXED);
}

void hrc_heap_set_candidate_threshold(uint64_t n) {
  if (n < HRC_GC_CANDIDATES_MIN) n = HRC_GC_CANDIDATES_MIN;
  if (n > HRC_GC_CANDIDATES_MAX) n = HRC_GC_CANDIDATES_MAX;
  __atomic_store_n(&threshold, n, __ATOMIC_RELAXED);
}

/* Any collection satisfies what was due. */
void hrc_policy_on_collection(size_t in_use, uint64_t left) {
  __atomic_store_n(&in_use_at_end, in_use, __ATOMIC_RELAXED);
  __atomic_store_n(&left_at_end, left, __ATOMIC_RELAXED);
  __atomic_store_n(&due, 0, __ATOMIC_RELAXED);
}

/* The safety net: bdwgc's own trigger collects once this many bytes were allocated since the
 * last collection (its minimum; 1 leaves bdwgc's divisor alone). */
size_t hrc_policy_growth_bytes(size_t in_use) {
  uint64_t factor = __atomic_load_n(&growth_factor, __ATOMIC_RELAXED);
  if (factor == 0) return 1;
  uint64_t min = __atomic_load_n(&growth_min, __ATOMIC_RELAXED);
  uint64_t bytes = in_use > UINT64_MAX / factor ? UINT64_MAX : in_use * factor;
  bytes = bytes > min ? bytes : min;
  return bytes > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)bytes;
}

/* Garbage RC knows of: what it left to the collector since the last collection. */
void hrc_policy_on_left(uint64_t left) {
  if (__atomic_load_n(&growth_factor, __ATOMIC_RELAXED) == 0) return;
  uint64_t since = left - __atomic_load_n(&left_at_end, __ATOMIC_RELAXED);
  if (since >= HRC_GC_GARBAGE_MIN && since >= __atomic_load_n(&in_use_at_end, __ATOMIC_RELAXED))
    __atomic_store_n(&due, 1 + HRC_GC_GARBAGE, __ATOMIC_RELAXED);
}

/* Judge the last evidence collection by what its sweeps have found since, adapting the
 * threshold (see the top of this file); false when the raised threshold says to wait. Only
 * while its window is open: another collection since has closed it (and reset the count). */
static bool evidence_stands(uint64_t count, uint64_t limit, uint64_t floor) {
  uint64_t epoch = __atomic_load_n(&judged_epoch, __ATOMIC_RELAXED);
  if (epoch == 0 || epoch != hrc_heap_epoch()) return true;
  if (!__atomic_compare_exchange_n(&judged_epoch, &epoch, 0, false, __ATOMIC_RELAXED,
                                   __ATOMIC_RELAXED))
    return true; /* another thread judges it */
  uint64_t found = hrc_bdwgc_found_so_far();
  size_t before = __atomic_load_n(&in_use_before, __ATOMIC_RELAXED);
  uint64_t used = limit > floor ? limit : floor;
  if (found < before / 8) {
    hrc_heap_set_candidate_threshold(used * 4);
    return count >= __atomic_load_n(&threshold, __ATOMIC_RELAXED);
  }
  if (found > before / 2) hrc_heap_set_candidate_threshold(limit / 2);
  return true;
}

/* Some evidence, and the heap grew: the collector handed out, since the last collection,
 * as much as that one left in use (and HRC_GC_EVIDENCE_GROWTH). The count alone misses garbage
 * when few roots hold much of it (one dropped parent holding a thousand children that point
 * back at it is one candidate), and what the caches could not serve includes that garbage. */
static bool grew_with_evidence(void) {
  uint64_t base = __atomic_load_n(&in_use_at_end, __ATOMIC_RELAXED);
  if (base < HRC_GC_EVIDENCE_GROWTH) base = HRC_GC_EVIDENCE_GROWTH;
  return hrc_bdwgc_allocated_since() >= base;
}

/* Called at cache refills: collect when the heap asked for it, or when this thread has seen
 * enough possible cycle roots, or some while the heap grew. */
void hrc_policy_check(void) {
  if (!HRC_COUNTING) return; /* gc mode: no evidence, bdwgc's growth trigger alone */
  /* Candidates count from the last collection on, whatever ran it: every collection reclaims
   * cycles, and counting across them would collect twice. */
  static HRC_THREAD_LOCAL uint64_t seen_epoch, heap_floor;
  uint64_t epoch = hrc_heap_epoch();
  if (epoch != seen_epoch) {
    seen_epoch = epoch;
    hrc_tls_cycle_candidates = 0;
    heap_floor = __atomic_load_n(&in_use_at_end, __ATOMIC_RELAXED) / HRC_GC_CANDIDATE_BYTES;
    return;
  }
  if (HRC_UNLIKELY(__atomic_load_n(&due, __ATOMIC_RELAXED) != 0)) {
    int cause = __atomic_exchange_n(&due, 0, __ATOMIC_RELAXED);
    if (cause != 0) hrc_bdwgc_collect((hrc_gc_cause_t)(cause - 1));
    return;
  }
  uint64_t count = hrc_tls_cycle_candidates;
  if (HRC_LIKELY(count < HRC_GC_EVIDENCE_MIN)) return; /* RC has kept the heap clean */
  uint64_t limit = __atomic_load_n(&threshold, __ATOMIC_RELAXED);
  if (count < limit || count < heap_floor) {
    if (!grew_with_evidence()) return;
  } else if (!evidence_stands(count, limit, heap_floor)) {
    return;
  }
  hrc_tls_cycle_candidates = 0;
  __atomic_store_n(&in_use_before, hrc_bdwgc_in_use(), __ATOMIC_RELAXED);
  hrc_bdwgc_collect(HRC_GC_EVIDENCE);
  __atomic_store_n(&judged_epoch, hrc_heap_epoch(), __ATOMIC_RELAXED);
}
