/* cache.c: the per-thread block caches' storage, their refill, and their release at thread
 * exit. The push/pop fast paths and the invariants are in cache_internal.h. What a traced heap
 * adds (HRC_HEAP_TRACED): the spill stack, and trimming after each collection. */
#include "cache_internal.h"
#include "options_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The record of threads that have none yet: every list empty, never written. */
static hrc_cache_t empty_cache;

HRC_THREAD_LOCAL hrc_cache_t *hrc_tls_cache = &empty_cache;

/* Traced heap: the records of running threads, for hrc_cache_clear_all, which reads the list
 * with the world stopped and without the lock (a thread may be stopped holding it): every
 * change is one pointer store, made under the lock. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static hrc_cache_t *live_caches;

static void live_add(hrc_cache_t *c) {
  pthread_mutex_lock(&live_lock);
  c->live_next = live_caches;
  __atomic_store_n(&live_caches, c, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&live_lock);
}

static void live_remove(hrc_cache_t *c) {
  pthread_mutex_lock(&live_lock);
  hrc_cache_t **at = &live_caches;
  while (*at != c) at = &(*at)->live_next;
  __atomic_store_n(at, c->live_next, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&live_lock);
}

/* Traced heap: clear the old fields of the blocks on a list of `words`-word blocks (every word
 * but the first, the list's link), so that the list pins nothing the blocks referred to. */
static void clear_list(void **list, size_t words) {
  for (void **b = list; b != NULL; b = b[0])
    for (size_t i = 1; i < words; i++) __atomic_store_n(&b[i], NULL, __ATOMIC_RELAXED);
}

void hrc_cache_thread_enter(void) {
  hrc_cache_t *c = hrc_heap_alloc_root(sizeof(hrc_cache_t));
  if (c == NULL) hrc_out_of_memory(sizeof(hrc_cache_t));
  uint64_t bytes = hrc_option(HRC_OPTION_CACHE_BYTES);
  for (size_t w = HRC_CACHE_MIN_WORDS; w <= HRC_CACHE_MAX_WORDS; w++) { /* the rest stay 0 */
    uint64_t n = bytes / (8 * w);
    c->cap[w] = n == 0 ? 1 : n > UINT32_MAX ? UINT32_MAX : (uint32_t)n; /* a spill needs one */
    c->room[w] = c->cap[w];
  }
  if (HRC_HEAP_TRACED && HRC_COUNTING) live_add(c);
  hrc_tls_cache = c;
}

/* Keep the first `keep` bytes of a list of `words`-word blocks and give the rest back;
 * *len receives the number kept. */
static void *trim_list(void **list, size_t words, size_t keep, uint32_t *len) {
  size_t n = keep / (words * 8);
  *len = 0;
  if (list == NULL || n == 0) {
    hrc_heap_free_list(list, words * 8);
    return NULL;
  }
  void **b = list;
  *len = 1;
  while (*len < n && b[0] != NULL) b = b[0], (*len)++;
  hrc_heap_free_list(b[0], words * 8);
  b[0] = NULL;
  return list;
}

/* Give a spill stack back: its lists, linked through their heads' second words. */
static void release_spill_list(void **list, size_t words) {
  while (list != NULL) {
    void **next = list[1];
    list[1] = NULL;
    hrc_heap_free_list(list, words * 8);
    list = next;
  }
}

/* The free blocks ended threads left, by size, for the refills of other threads: a stack of
 * lists linked through their heads' second words (cleared, on a traced heap, as they arrive).
 * Traced heap: without it each new thread's first allocation of a size took a fresh batch of
 * bdwgc's (a heap block) and its exit left the rest as garbage: thread churn ran collections
 * for that alone. In static data, which the collector scans, so pooled blocks stay free;
 * handed back to the collector at the first refill after each collection. rc: an ending
 * thread gave every cached block back to mimalloc one by one (cfold, whose work runs on a
 * thread of its own, spent 12% of its instructions there with 6 MiB caches); now its lists
 * wait here for other threads' refills, but only for sizes whose pool is empty (the rest is
 * given back), so the pool holds at most about one thread's caches. */
static pthread_mutex_t orphans_lock = PTHREAD_MUTEX_INITIALIZER;
static void **orphans[HRC_CACHE_MAX_WORDS + 1];
static uint64_t orphans_epoch;

/* Push a list of free blocks onto the pool of its size. Under orphans_lock. */
static void orphan_push(void **list, size_t words) {
  if (list == NULL) return;
  list[1] = orphans[words];
  __atomic_store_n(&orphans[words], list, __ATOMIC_RELAXED); /* refills peek without the lock */
}

/* A thread ends: its lists go to the pool instead of the heap (rc: for sizes the pool lacks). */
static void orphan_caches(hrc_cache_t *c) {
  pthread_mutex_lock(&orphans_lock);
  for (size_t w = HRC_CACHE_MIN_WORDS; w <= HRC_CACHE_MAX_WORDS; w++) {
    if (!HRC_HEAP_TRACED && orphans[w] != NULL) { /* rc: a full pool: give these back */
      hrc_heap_free_list(c->ready[w], w * 8);
      hrc_heap_free_list(c->freed[w], w * 8);
      c->ready[w] = c->freed[w] = NULL;
      c->room[w] = c->cap[w];
      continue;
    }
    if (HRC_HEAP_TRACED) { /* no thread's walk clears the pool: its lists arrive cleared */
      clear_list(c->ready[w], w);
      clear_list(c->freed[w], w);
    }
    orphan_push(c->ready[w], w);
    orphan_push(c->freed[w], w);
    for (void **l = c->spill[w], **next; l != NULL; l = next) {
      next = l[1];
      orphan_push(l, w);
    }
    c->ready[w] = c->freed[w] = c->spill[w] = NULL;
    c->room[w] = c->cap[w];
    c->nspill[w] = 0;
  }
  pthread_mutex_unlock(&orphans_lock);
}

/* A list from the pool of this size, or NULL. Out of line: the refill asks only while the
 * pool looks non-empty. */
static HRC_COLD void **orphan_take(size_t words) {
  pthread_mutex_lock(&orphans_lock);
  void **list = orphans[words];
  if (list != NULL) {
    __atomic_store_n(&orphans[words], (void **)list[1], __ATOMIC_RELAXED);
    list[1] = NULL;
  }
  pthread_mutex_unlock(&orphans_lock);
  return list;
}

/* Hand the pool back to the collector. Under orphans_lock. */
static void orphans_hand_back(void) {
  for (size_t w = HRC_CACHE_MIN_WORDS; w <= HRC_CACHE_MAX_WORDS; w++) {
    release_spill_list(orphans[w], w);
    __atomic_store_n(&orphans[w], NULL, __ATOMIC_RELAXED);
  }
}

/* After a collection: the pool goes back to the collector (each list once, by the first
 * thread that sees the new epoch). */
static void orphans_release(uint64_t epoch) {
  pthread_mutex_lock(&orphans_lock);
  if (orphans_epoch != epoch) {
    __atomic_store_n(&orphans_epoch, epoch, __ATOMIC_RELAXED); /* read without the lock */
    orphans_hand_back();
  }
  pthread_mutex_unlock(&orphans_lock);
}

void hrc_cache_orphans_release(void) {
  pthread_mutex_lock(&orphans_lock);
  orphans_hand_back();
  pthread_mutex_unlock(&orphans_lock);
}

/* After a collection, give what this thread's caches hold beyond HRC_CACHE_TRIM_BYTES per
 * list back to the heap, and the spill stacks. Runs on the owning thread only, once per
 * collection: out of line, so that the refill's usual path stays short. */
static HRC_COLD void trim_after_collection(hrc_cache_t *c, uint64_t epoch) {
  c->epoch = epoch;
  if (__atomic_load_n(&orphans_epoch, __ATOMIC_RELAXED) != epoch) orphans_release(epoch);
  for (size_t w = HRC_CACHE_MIN_WORDS; w <= HRC_CACHE_MAX_WORDS; w++) {
    uint32_t unused, kept;
    c->freed[w] = trim_list(c->freed[w], w, HRC_CACHE_TRIM_BYTES, &kept);
    c->room[w] = c->cap[w] - (kept < c->cap[w] ? kept : c->cap[w]);
    c->ready[w] = trim_list(c->ready[w], w, HRC_CACHE_TRIM_BYTES, &unused);
    release_spill_list(c->spill[w], w);
    c->spill[w] = NULL;
    c->nspill[w] = 0;
  }
}

/* Spilled bytes of one size a thread keeps for itself; beyond, its spill stack goes to the
 * pool, for any thread's refills. A thread that frees what another allocates (a consumer of
 * a producer's lists) never refills, so its spill never came back (tests/soak.c's pipeline,
 * hybrid: 680 MB peak RSS for 2,000 live lists before this bound, rc and gc 2.5 MB). */
#define HRC_SPILL_KEEP_BYTES (4u << 20)

void hrc_cache_spill(void *block, size_t words) {
  hrc_cache_t *c = hrc_tls_cache;
  void **full = c->freed[words];
  clear_list(full, words);   /* a spilled list waits a collection or more: nothing pinned */
  full[1] = c->spill[words]; /* the head's second word links the lists */
  c->spill[words] = full;
  c->nspill[words] += c->cap[words] - c->room[words];
  *(void **)block = NULL;
  c->freed[words] = block;
  c->room[words] = c->cap[words] - 1;
  if (HRC_UNLIKELY((size_t)c->nspill[words] * words * 8 > HRC_SPILL_KEEP_BYTES)) {
    pthread_mutex_lock(&orphans_lock);
    for (void **l = c->spill[words], **next; l != NULL; l = next) {
      next = l[1];
      orphan_push(l, words);
    }
    pthread_mutex_unlock(&orphans_lock);
    c->spill[words] = NULL;
    c->nspill[words] = 0;
  }
}

/* Up to HRC_SPILL_BATCH blocks from the newest spilled list of this size, or NULL. A batch,
 * not the list: blocks freed meanwhile go to `freed`, and refills take those first, so a
 * program that frees and allocates a few blocks at a time keeps reusing the ones still in
 * cache instead of walking megabytes of cold spilled blocks (measured: docs/backstop.md). */
#define HRC_SPILL_BATCH 64u
static void **unspill(hrc_cache_t *c, size_t words) {
  void **list = c->spill[words];
  if (list == NULL) return NULL;
  void **next_list = list[1], **last = list;
  list[1] = NULL; /* a spilled list was cleared as it spilled */
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

/* `ready` ran dry: take the `freed` list, a spilled one, or a batch of fresh blocks; then pop. */
void *hrc_cache_refill(size_t words) {
  if (HRC_UNLIKELY(hrc_tls_pending != NULL)) hrc_free_pending_some(); /* a bounded drop's rest */
  if (HRC_HEAP_TRACED) {
    hrc_heap_pace();
    uint64_t epoch = hrc_heap_epoch();
    if (HRC_UNLIKELY(hrc_tls_cache->epoch != epoch)) trim_after_collection(hrc_tls_cache, epoch);
  }
  /* The freed list, oldest free first (it is a stack, newest first): blocks are reused in
   * the order they were freed, which follows the order they were built in (free.c). */
  void **list = hrc_tls_cache->freed[words];
  hrc_tls_cache->freed[words] = NULL;
  hrc_tls_cache->room[words] = hrc_tls_cache->cap[words];
  if (HRC_HEAP_TRACED && list == NULL) list = unspill(hrc_tls_cache, words);
  if (list == NULL && __atomic_load_n(&orphans[words], __ATOMIC_RELAXED) != NULL)
    list = orphan_take(words);
  if (list == NULL) list = hrc_heap_alloc_many(words * 8, HRC_CACHE_BATCH);
  hrc_tls_cache->ready[words] = list;
  void **b = hrc_tls_cache->ready[words];
  if (b != NULL) hrc_tls_cache->ready[words] = b[0];
  return b;
}

size_t hrc_cache_bytes(void) {
  hrc_free_pending_all(); /* what a bounded drop left is freed, as a report sees it */
  size_t bytes = 0;
  for (size_t w = HRC_CACHE_MIN_WORDS; w <= HRC_CACHE_MAX_WORDS; w++) {
    bytes += (size_t)(hrc_tls_cache->cap[w] - hrc_tls_cache->room[w]) * w * 8;
    bytes += (size_t)hrc_tls_cache->nspill[w] * w * 8;
    for (void **b = hrc_tls_cache->ready[w]; b != NULL; b = b[0]) bytes += w * 8;
  }
  return bytes;
}

/* Give every block this thread's caches hold back to the heap. */
void hrc_cache_release(void) {
  hrc_cache_t *c = hrc_tls_cache;
  if (c == &empty_cache) return;
  for (size_t w = HRC_CACHE_MIN_WORDS; w <= HRC_CACHE_MAX_WORDS; w++) {
    hrc_heap_free_list(c->ready[w], w * 8);
    hrc_heap_free_list(c->freed[w], w * 8);
    release_spill_list(c->spill[w], w);
    c->ready[w] = c->freed[w] = c->spill[w] = NULL;
    c->room[w] = c->cap[w];
    c->nspill[w] = 0;
  }
}

void hrc_cache_thread_exit(void) {
  hrc_cache_t *c = hrc_tls_cache;
  if (c == &empty_cache) return;
  orphan_caches(c);
  if (HRC_HEAP_TRACED && HRC_COUNTING) live_remove(c);
  hrc_tls_cache = &empty_cache;
  hrc_heap_free_root(c);
}

/* A collection starts (the heap's hook, with the world stopped, before anything is marked):
 * the blocks on every running thread's `ready` and `freed` lists lose their old fields, so
 * what a dead object referred to is not kept alive by its block. Frees leave the fields
 * (hybrid's inline free is rc's: two stores and a test fewer); spilled and pooled lists were
 * cleared when they left `freed` (hrc_cache_spill, orphan_caches). This walk reads each block
 * of those two lists once per collection (at most HRC_CACHE_BYTES each per size and thread,
 * trimmed to HRC_CACHE_TRIM_BYTES after each collection). Reads without locks: every thread
 * is stopped, and a list is well formed between any two of its owner's stores (a block caught
 * between a free's two stores is reachable from its thread's registers and keeps its old
 * fields through this collection; a list caught while it moves to a spill stack or the pool
 * may lose its link to the older lists there, whose blocks then go to the collector). */
void hrc_cache_clear_all(void) {
  for (hrc_cache_t *c = __atomic_load_n(&live_caches, __ATOMIC_ACQUIRE); c != NULL;
       c = c->live_next) {
    for (size_t w = HRC_CACHE_MIN_WORDS; w <= HRC_CACHE_MAX_WORDS; w++) {
      clear_list(c->ready[w], w);
      clear_list(c->freed[w], w);
    }
  }
}
