/* mimalloc.c: the heap of the rc mode (heap.h's contract), mimalloc with a byte count for the
 * heap limit. The only file of the library that names mimalloc.
 *
 * The count: bytes of object blocks taken from mimalloc minus those given back, kept per thread
 * (a thread-local add per trip to mimalloc) and folded into one process-wide count once a
 * thread's bytes pass its allowance: HRC_HEAP_FOLD_BYTES, or what is left under the limit when
 * that is less (nothing once the limit is reached: then every allocation checks). So the limit
 * is exact to within HRC_HEAP_FOLD_BYTES per thread. Root memory is not counted.
 * What a block counts for: a cache-class block (hrc_cache_fits) its class's bytes, which the
 * caller knows without asking mimalloc (30 instructions per block on binary-trees); any other
 * block mimalloc's usable size. Alloc and free of one block count the same.
 * No tracer: collection calls do nothing, and the span (heap.h) is exact, since every block is
 * noted when it is handed out (mimalloc's own mi_is_in_heap_region knows only segments below
 * 40 TiB, and under ASan mimalloc's are above).
 */
#include <mimalloc.h>
#include <string.h>

#include "heap.h"

#define HRC_HEAP_FOLD_BYTES (256 * 1024)

static HRC_THREAD_LOCAL int64_t pending;   /* this thread's bytes not yet folded in */
static HRC_THREAD_LOCAL int64_t allowance; /* fold once pending passes this */
static int64_t heap_bytes;                 /* folded counts of every thread */
static size_t limit_bytes;                 /* 0: no limit */

/* Fold this thread's pending bytes in and renew its allowance; false (and p, counted as
 * bytes, given back) when the limit is passed. */
static HRC_COLD bool fold(void *p, size_t bytes) {
  int64_t mine = pending;
  pending = 0;
  int64_t total = __atomic_add_fetch(&heap_bytes, mine, __ATOMIC_RELAXED);
  int64_t limit = (int64_t)__atomic_load_n(&limit_bytes, __ATOMIC_RELAXED);
  int64_t left = limit - total;
  allowance = limit == 0 || left > HRC_HEAP_FOLD_BYTES ? HRC_HEAP_FOLD_BYTES
              : left > 0                               ? left
                                                       : INT64_MIN; /* every time */
  if (p == NULL || limit == 0 || total <= limit) return true;
  hrc_heap_free_sized(p, bytes); /* over the limit: the allocation that took p fails */
  return false;
}

/* Count a block p of `bytes` taken from mimalloc; NULL when that passes the heap limit. */
static inline void *took(void *p, size_t bytes) {
  pending += (int64_t)bytes;
  if (HRC_UNLIKELY(pending > allowance) && !fold(p, bytes)) return NULL;
  return p;
}

void *hrc_heap_alloc(size_t size, bool scanned) {
  (void)scanned; /* without a tracer it makes no difference */
  void *p = mi_malloc(size);
  if (p == NULL) return NULL;
  hrc_heap_note((uintptr_t)p, (uintptr_t)p + size);
  return took(p, mi_usable_size(p));
}

/* Note a batch of blocks linked through their first words. spread: the xor of each block
 * with the one before it, or-ed together (two instructions a block; a per-block minimum and
 * maximum cost binary-trees 2% of its instructions): when consecutive blocks differ only
 * below the granule, all lie in one granule and one note covers them; else each is noted. */
static void note_batch(void *list, uintptr_t spread, size_t size) {
  uintptr_t granule = (uintptr_t)list & ~(HRC_HEAP_GRANULE - 1);
  if (HRC_LIKELY(spread < HRC_HEAP_GRANULE)) {
    hrc_heap_note(granule, granule + HRC_HEAP_GRANULE);
    return;
  }
  for (void **b = list; b != NULL; b = b[0]) hrc_heap_note((uintptr_t)b, (uintptr_t)b + size);
}

void *hrc_heap_alloc_many(size_t size, unsigned count) {
  void **list = mi_malloc(size);
  if (list == NULL || (list = took(list, size)) == NULL) return NULL;
  list[0] = NULL;
  uintptr_t spread = 0; /* the bits in which some block differs from the one before it */
  for (unsigned i = 1; i < count; i++) {
    void **b = mi_malloc(size);
    if (b != NULL) b = took(b, size);
    if (b == NULL) break;
    spread |= (uintptr_t)b ^ (uintptr_t)list;
    b[0] = list;
    list = b;
  }
  note_batch(list, spread, size);
  return list;
}

/* Counted as `size`; cross-thread frees are mimalloc's business. */
void hrc_heap_free_sized(void *p, size_t size) {
  pending -= (int64_t)size;
  if (HRC_UNLIKELY(pending < -HRC_HEAP_FOLD_BYTES)) fold(NULL, 0);
  mi_free(p);
}

void hrc_heap_free(void *p) { hrc_heap_free_sized(p, mi_usable_size(p)); }

void hrc_heap_free_list(void *list, size_t size) {
  while (list != NULL) {
    void *next = *(void **)list;
    hrc_heap_free_sized(list, size);
    list = next;
  }
}

size_t hrc_heap_usable(const void *p) { return mi_usable_size(p); }

/* Outside the span is never mimalloc's: every block is noted when it is handed out. */
bool hrc_heap_owns(const void *p) {
  (void)p;
  return false;
}

void *hrc_heap_alloc_root(size_t size) { return mi_zalloc(size); }

void *hrc_heap_alloc_root_uncleared(size_t size) { return mi_malloc(size); }

void hrc_heap_free_root(void *p) { mi_free(p); }

/* A reuse token takes an object of another size (hrc_alloc_at): count its block as the new
 * object's, so its free gives back what is counted. Generated code calls it (hrc_alloc.h). */
static int64_t counted_bytes(const hrc_obj_t *o, size_t words) {
  return (int64_t)(hrc_cache_fits(words) ? words * 8 : mi_usable_size(o));
}
void hrc_heap_recount_cold(hrc_obj_t *tok, size_t size) {
  pending += counted_bytes(tok, hrc_size_words(size)) - counted_bytes(tok, tok->words);
}

/* ---- threads: plain pthreads; a thread's count is folded in at its end ---- */

void hrc_heap_process_init(const hrc_heap_settings_t *settings) { (void)settings; }

bool hrc_heap_thread_enter(void) { return true; }

bool hrc_heap_thread_known(void) { return true; }

void hrc_heap_thread_exit(void) { fold(NULL, 0); }

int hrc_heap_thread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                           void *arg) {
  return pthread_create(thread, attr, start, arg);
}

int hrc_heap_thread_join(pthread_t thread, void **result) { return pthread_join(thread, result); }

void hrc_heap_thread_end(void) { pthread_exit(NULL); }

/* ---- collection: nothing to collect without a tracer, nor to pace ---- */

void hrc_heap_collect(void) {}

uint64_t hrc_heap_epoch(void) { return 0; }

void hrc_heap_pace(void) {}

void hrc_heap_set_candidate_threshold(uint64_t n) { (void)n; }

void hrc_heap_set_divisor(unsigned divisor) { (void)divisor; }

/* ---- the limit and the figures ---- */

/* Threads see it at their next fold (within HRC_HEAP_FOLD_BYTES). */
void hrc_heap_set_limit(size_t bytes) { __atomic_store_n(&limit_bytes, bytes, __ATOMIC_RELAXED); }

size_t hrc_heap_bytes(void) {
  int64_t total = __atomic_load_n(&heap_bytes, __ATOMIC_RELAXED) + pending;
  return total > 0 ? (size_t)total : 0;
}

void hrc_heap_stats(hrc_heap_stats_t *s) { memset(s, 0, sizeof *s); }
