/* cache.c: the per-thread block caches' storage and their release at thread exit.
 * The push/pop fast paths and the invariants are in cache_internal.h. */
#include "cache_internal.h"
#include "heap_internal.h"

#include <stdlib.h>
#include <string.h>
#if HRC_TRACING
#include "backstop_internal.h"
#endif

/* The record of threads that have none yet: every list empty, never written. */
static hrc_cache_t empty_cache;

HRC_THREAD_LOCAL hrc_cache_t *hrc_tls_cache = &empty_cache;

void hrc_cache_thread_enter(void) {
  hrc_cache_t *c = hrc_heap_alloc_root(sizeof(hrc_cache_t));
  if (c == NULL) hrc_out_of_memory(sizeof(hrc_cache_t));
  hrc_tls_cache = c;
}

#if HRC_TRACING
uint64_t hrc_cache_trimmed_bytes;

/* The number of blocks on a list. */
static size_t list_length(void **b) {
  size_t n = 0;
  for (; b != NULL; b = b[0]) n++;
  return n;
}

/* Hand a list of free blocks to the collector: unlinked, so that each block is garbage on its
 * own (one stale word pointing at the head of a linked list would keep all of it; bdwgc is
 * conservative). */
static void forget_list(void **b) {
  while (b != NULL) {
    void **next = b[0];
    b[0] = NULL;
    b = next;
  }
}

/* Bytes this thread left to the collector by hrc_heap_free_traced, not yet added to
 * hrc_cache_trimmed_bytes (added at the next trim or every 64 KiB). */
static HRC_THREAD_LOCAL uint64_t forgotten_bytes;

/* Up to this many bytes bdwgc keeps objects in size classes, on free lists linked through
 * their first words (its HBLKSIZE / 2). */
#define HRC_GC_SMALL_BYTES 2048u

/* GC_free links a block into its size's free list, through the block's first word. One stale
 * word pointing into that list (conservative scanning) marks the whole rest of it, and while
 * its blocks wait for bdwgc's lazy sweep they then survive as live: after dropping 1,250
 * arrays of 2 KiB, tests/test_misuse.c saw 838 of them kept through two collections (about
 * 15% of a 12 MiB heap; 4 runs in 12 under ASan). So blocks of bdwgc's size classes are
 * cleared and left to the collector, each garbage on its own, like the caches' trimmed lists;
 * only large blocks (whole heap blocks, listed outside the objects) are freed at once. */
void hrc_heap_free_traced(void *p) {
  size_t size = GC_size(p);
  if (size > HRC_GC_SMALL_BYTES) {
    GC_free(p);
    return;
  }
  memset(p, 0, size);
  forgotten_bytes += size;
  if (forgotten_bytes >= HRC_CACHE_TRIM_BYTES) {
    __atomic_add_fetch(&hrc_cache_trimmed_bytes, forgotten_bytes, __ATOMIC_RELAXED);
    forgotten_bytes = 0;
  }
}

/* Keep the first `keep` bytes of a list of `words`-word blocks and forget the rest (the
 * collector reclaims it); *len receives the number kept. */
static void *trim_list(void **list, size_t words, size_t keep, uint32_t *len) {
  size_t n = keep / (words * 8);
  *len = 0;
  if (list == NULL || n == 0) {
    forget_list(list);
    return NULL;
  }
  void **b = list;
  *len = 1;
  while (*len < n && b[0] != NULL) b = b[0], (*len)++;
  forget_list(b[0]);
  b[0] = NULL;
  return list;
}

/* Forget a spill stack: its lists, linked through their heads' second words. */
static void forget_spill(void **list) {
  while (list != NULL) {
    void **next = list[1];
    list[1] = NULL;
    forget_list(list);
    list = next;
  }
}

/* After a collection, hand what this thread's caches hold beyond HRC_CACHE_TRIM_BYTES per
 * list back to the collector. Runs on the owning thread only. */
static void trim_after_collection(hrc_cache_t *c) {
  uint64_t epoch = __atomic_load_n(&hrc_collection_epoch, __ATOMIC_RELAXED);
  if (c->epoch == epoch) return;
  c->epoch = epoch;
  size_t forgot = 0; /* counted for `freed` and `spill`; `ready` keeps no count */
  for (size_t w = HRC_CACHE_MIN_WORDS; w <= HRC_CACHE_MAX_WORDS; w++) {
    uint32_t unused, nfreed = c->nfreed[w];
    c->freed[w] = trim_list(c->freed[w], w, HRC_CACHE_TRIM_BYTES, &c->nfreed[w]);
    c->ready[w] = trim_list(c->ready[w], w, HRC_CACHE_TRIM_BYTES, &unused);
    forgot += ((size_t)(nfreed - c->nfreed[w]) + (size_t)c->nspill[w]) * w * 8;
    forget_spill(c->spill[w]);
    c->spill[w] = NULL;
    c->nspill[w] = 0;
  }
  forgot += forgotten_bytes;
  forgotten_bytes = 0;
  if (forgot > 0) __atomic_add_fetch(&hrc_cache_trimmed_bytes, forgot, __ATOMIC_RELAXED);
}

void hrc_cache_spill(void *block, size_t words) {
  hrc_cache_t *c = hrc_tls_cache;
  void **full = c->freed[words];
  full[1] = c->spill[words]; /* the head's second word: cleared by the free, links the lists */
  c->spill[words] = full;
  c->nspill[words] += c->nfreed[words];
  *(void **)block = NULL;
  c->freed[words] = block;
  c->nfreed[words] = 1;
}

/* Up to HRC_SPILL_BATCH blocks from the newest spilled list of this size, or NULL. A batch,
 * not the list: blocks freed meanwhile go to `freed`, and refills take those first, so a
 * program that frees and allocates a few blocks at a time keeps reusing the ones still in
 * cache instead of walking megabytes of cold spilled blocks (bench/binarytrees depth 18,
 * hybrid, release: 0.41 s taking whole lists, 0.32 s with no spill at all, 0.31 s in batches;
 * bench/closures 1,000,000 x 5: 0.45-0.65 s with no spill, 0.33 s with it). */
#define HRC_SPILL_BATCH 64u
static void **unspill(hrc_cache_t *c, size_t words) {
  void **list = c->spill[words];
  if (list == NULL) return NULL;
  void **next_list = list[1], **last = list;
  list[1] = NULL; /* a free block's fields are clear */
  uint32_t n = 1;
  while (n < HRC_SPILL_BATCH && last[0] != NULL) last = last[0], n++;
  void **rest = last[0];
  last[0] = NULL;
  if (rest != NULL) {
    rest[1] = next_list;
    next_list = rest;
  }
  c->spill[words] = next_list;
  c->nspill[words] -= n;
  return list;
}

/* A fresh batch from bdwgc lists one heap block's objects in address order; start it at a
 * pseudo-random element instead, so that objects built one after another in different
 * batches do not land at the same offsets of their 4 KiB blocks and contend for one L1 set
 * (a prototype's rbtree ran 2.77x a C tree without the rotation, 1.87x with it:
 * docs/backstop.md). */
static void *rotate_batch(void **list) {
  static HRC_THREAD_LOCAL uint32_t seed = 0x9E3779B9u;
  size_t n = list_length(list);
  if (n < 2) return list;
  seed = seed * 1664525u + 1013904223u;
  size_t r = (seed >> 8) % n;
  if (r == 0) return list;
  void **tail = list, **cut = list;
  for (size_t i = 1; i < r; i++) cut = cut[0];
  void **start = cut[0];
  cut[0] = NULL;
  for (tail = start; tail[0] != NULL; tail = tail[0]) {
  }
  tail[0] = list;
  return start;
}
#endif

/* `ready` ran dry: take the `freed` list, a spilled one, or a batch of fresh blocks; then pop. */
void *hrc_cache_refill(size_t words) {
#if HRC_TRACING
  hrc_policy_check();
  trim_after_collection(hrc_tls_cache);
#endif
  /* The freed list, oldest free first (it is a stack, newest first): blocks are reused in
   * the order they were freed, which follows the order they were built in (free.c). */
  void **list = hrc_tls_cache->freed[words];
  hrc_tls_cache->freed[words] = NULL;
  hrc_tls_cache->nfreed[words] = 0;
#if HRC_TRACING
  if (list == NULL) list = unspill(hrc_tls_cache, words);
#endif
  if (list == NULL) {
    list = hrc_heap_alloc_many(words * 8, HRC_CACHE_BATCH);
#if HRC_TRACING
    list = rotate_batch(list);
#endif
  }
  hrc_tls_cache->ready[words] = list;
  void **b = hrc_tls_cache->ready[words];
  if (b != NULL) hrc_tls_cache->ready[words] = b[0];
  return b;
}

size_t hrc_cache_bytes(void) {
  size_t bytes = 0;
  for (size_t w = HRC_CACHE_MIN_WORDS; w <= HRC_CACHE_MAX_WORDS; w++) {
    bytes += (size_t)hrc_tls_cache->nfreed[w] * w * 8;
    bytes += (size_t)hrc_tls_cache->nspill[w] * w * 8;
    for (void **b = hrc_tls_cache->ready[w]; b != NULL; b = b[0]) bytes += w * 8;
  }
  return bytes;
}

/* Free every block on a list of `words`-word blocks (in the tracing modes the collector takes
 * them back). */
static void release_list(void *list, size_t words) {
#if HRC_TRACING
  (void)words;
  forget_list(list);
#else
  while (list != NULL) {
    void *next = *(void **)list;
    hrc_heap_free_sized(list, words * 8);
    list = next;
  }
#endif
}

/* Give every block this thread's caches hold back to the heap (rc) or to the collector. */
void hrc_cache_release(void) {
  hrc_cache_t *c = hrc_tls_cache;
  if (c == &empty_cache) return;
  for (size_t w = HRC_CACHE_MIN_WORDS; w <= HRC_CACHE_MAX_WORDS; w++) {
    release_list(c->ready[w], w);
    release_list(c->freed[w], w);
#if HRC_TRACING
    forget_spill(c->spill[w]);
#endif
    c->ready[w] = c->freed[w] = c->spill[w] = NULL;
    c->nfreed[w] = c->nspill[w] = 0;
  }
}

void hrc_cache_thread_exit(void) {
  hrc_cache_t *c = hrc_tls_cache;
  if (c == &empty_cache) return;
  hrc_cache_release();
  hrc_tls_cache = &empty_cache;
  hrc_heap_free_root(c);
}
