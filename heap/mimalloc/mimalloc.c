/* mimalloc.c: the heap of the rc mode (heap.h's contract), mimalloc with a byte count for the
 * heap limit. The only file of the library that names mimalloc.
 *
 * The count: bytes of object blocks taken from mimalloc minus those given back, kept per thread
 * (a thread-local add per trip to mimalloc) and folded into one process-wide count once a
 * thread's bytes pass its allowance: HRC_MI_FOLD_BYTES, or what is left under the limit when
 * that is less (nothing once the limit is reached: then every allocation checks). So the limit
 * is exact to within HRC_MI_FOLD_BYTES per thread. Root memory is not counted.
 * What a block counts for: a cache-class block (hrc_cache_fits) its class's bytes, which the
 * caller knows without asking mimalloc (30 instructions per block on binary-trees); any other
 * block mimalloc's usable size. Alloc and free of one block count the same.
 * No tracer: collection calls do nothing, and the span (heap.h) is exact, since every block is
 * noted when it is handed out (mimalloc's own mi_is_in_heap_region knows only segments below
 * 40 TiB, and under ASan mimalloc's are above).
 */
#include <string.h>

#include "heap.h" /* and heap_inline.h, which includes mimalloc.h */

HRC_THREAD_LOCAL int64_t hrc_mi_pending;   /* this thread's bytes not yet folded in */
HRC_THREAD_LOCAL int64_t hrc_mi_allowance; /* fold once pending passes this */
static int64_t heap_bytes;                 /* folded counts of every thread */
static size_t limit_bytes;                 /* 0: no limit */

/* Fold this thread's pending bytes in and renew its allowance; false (and p, counted as
 * bytes, given back) when the limit is passed. */
bool hrc_mi_fold(void *p, size_t bytes) {
  int64_t mine = hrc_mi_pending;
  hrc_mi_pending = 0;
  int64_t total = __atomic_add_fetch(&heap_bytes, mine, __ATOMIC_RELAXED);
  int64_t limit = (int64_t)__atomic_load_n(&limit_bytes, __ATOMIC_RELAXED);
  int64_t left = limit - total;
  hrc_mi_allowance = limit == 0 || left > HRC_MI_FOLD_BYTES ? HRC_MI_FOLD_BYTES
                     : left > 0                             ? left
                                                            : INT64_MIN; /* every time */
  if (p == NULL || limit == 0 || total <= limit) return true;
  hrc_heap_free_sized(p, bytes); /* over the limit: the allocation that took p fails */
  return false;
}

void *hrc_mi_fold_batch(void **list, size_t size) {
  hrc_mi_fold(NULL, 0);
  int64_t limit = (int64_t)__atomic_load_n(&limit_bytes, __ATOMIC_RELAXED);
  while (list != NULL && limit != 0 && __atomic_load_n(&heap_bytes, __ATOMIC_RELAXED) > limit) {
    void **next = list[0];
    __atomic_sub_fetch(&heap_bytes, (int64_t)size, __ATOMIC_RELAXED);
    mi_free(list);
    list = next;
  }
  return list;
}

void *hrc_heap_alloc(size_t size, bool scanned) {
  (void)scanned; /* without a tracer it makes no difference */
  void *p = mi_malloc(size);
  if (p == NULL) return NULL;
  hrc_heap_note((uintptr_t)p, (uintptr_t)p + size);
  return hrc_mi_took(p, mi_usable_size(p));
}

void hrc_heap_free_list(void *list, size_t size) {
  while (list != NULL) {
    void *next = *(void **)list;
    hrc_heap_free_sized(list, size);
    list = next;
  }
}

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
  hrc_mi_pending += counted_bytes(tok, hrc_size_words(size)) - counted_bytes(tok, tok->words);
}

/* ---- threads: plain pthreads; a thread's count is folded in at its end ---- */

void hrc_heap_process_init(const hrc_heap_settings_t *settings) { (void)settings; }

bool hrc_heap_thread_enter(void) { return true; }

bool hrc_heap_thread_known(void) { return true; }

void hrc_heap_thread_exit(void) { hrc_mi_fold(NULL, 0); }

int hrc_heap_thread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                           void *arg) {
  return pthread_create(thread, attr, start, arg);
}

int hrc_heap_thread_join(pthread_t thread, void **result) { return pthread_join(thread, result); }

void hrc_heap_thread_end(void) { pthread_exit(NULL); }

/* ---- collection: nothing to collect without a tracer, nor to pace ---- */

void hrc_heap_collect(void) {}

void hrc_heap_set_candidate_threshold(uint64_t n) { (void)n; }

void hrc_heap_set_divisor(unsigned divisor) { (void)divisor; }

/* ---- the limit and the figures ---- */

/* Threads see it at their next fold (within HRC_MI_FOLD_BYTES). */
void hrc_heap_set_limit(size_t bytes) { __atomic_store_n(&limit_bytes, bytes, __ATOMIC_RELAXED); }

size_t hrc_heap_bytes(void) {
  int64_t total = __atomic_load_n(&heap_bytes, __ATOMIC_RELAXED) + hrc_mi_pending;
  return total > 0 ? (size_t)total : 0;
}

void hrc_heap_set_growth(unsigned factor, size_t min_bytes) { (void)factor, (void)min_bytes; }

void hrc_heap_stats(hrc_heap_stats_t *s) { memset(s, 0, sizeof *s); }
