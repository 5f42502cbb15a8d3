/* hrc_alloc.h: allocation, reuse tokens and the helpers of Perceus' drop specialisation.
 *
 * hrc_alloc returns an object with one reference (rc 0), its header filled in and its fields
 * uninitialised: generated code writes every scanned field before the next runtime call.
 *
 * A reuse token (hrc_reuse_t) is the memory of an object that died uniquely owned, kept to
 * build the next object of the same size in place; NULL is the empty token. The object's
 * fields are already dropped or moved out when the token exists. A token is consumed exactly
 * once: by hrc_alloc_at (which reuses it) or by hrc_reuse_free (when no allocation needs it).
 *
 * Perceus lowers `match xs { Cons(h, t) -> ... Cons(f(h), t') }` to
 *     if (hrc_is_unique(xs)) tok = hrc_reuse_cell(xs);             // fields moved to h, t
 *     else { hrc_dup(h); hrc_dup(t); hrc_decref(xs); tok = NULL; }
 *     ... r = hrc_alloc_at(tok, sizeof(cons), CONS, 2);
 * (docs/lowering.md shows each case with a compiled example.)
 */
#ifndef HRC_ALLOC_H
#define HRC_ALLOC_H

#include <stddef.h>

#include "hrc_object.h"
#include "hrc_stats.h"

typedef hrc_obj_t *hrc_reuse_t;

#define HRC_NO_REUSE ((hrc_reuse_t)NULL)

/* ---- per-thread block caches --------------------------------------------------------------
 * Dead blocks of 2..32 words wait in their thread's cache, by size, for the next allocation of
 * that size (rc/cache_internal.h has the invariants). The pop is inline so that generated code,
 * whose sizes, tags and scan counts are constants, allocates a cell with no call at all. The
 * library uses initial-exec TLS for this, so it must be linked at program start, not dlopen'ed.
 */
#define HRC_CACHE_MIN_WORDS 2u
#define HRC_CACHE_MAX_WORDS 32u

/* Most bytes a `freed` list keeps by default (HRC_CACHE_BYTES sets it at run time). rc: 6 MiB,
 * beyond which blocks go back to mimalloc, which recycles them across sizes; 64 KiB sent 41%
 * of binary-trees' nodes out to mimalloc and back, 91 instructions per node against 68 at
 * 6 MiB, at the same peak RSS (docs/benchmarks.md). hybrid: 6 MiB; a full list moves whole to the
 * class's `spill` stack and a new one starts (a block the cache dropped would be garbage until
 * the next collection, and a burst of frees would grow the heap and bring that collection on);
 * after each collection the owning thread trims its lists to HRC_CACHE_TRIM_BYTES and forgets
 * its spilled lists at its next refill (hrc_cache_refill), handing them back to the collector.
 * 6 MiB measured best of 4, 6 and 8 MiB (docs/backstop.md). */
#define HRC_CACHE_CLASS_BYTES (6u << 20)
#define HRC_CACHE_TRIM_BYTES  (64u * 1024u)

typedef struct hrc_cache_s {
  /* Two lists per size in words, as mimalloc keeps `free` and `local_free`: allocation pops
   * `ready`, freeing pushes `freed`, and `freed` becomes `ready` when `ready` runs dry. So an
   * allocation never waits on the store of the free just before it. Blocks link through their
   * first word; only frees touch `room`. */
  void *ready[HRC_CACHE_MAX_WORDS + 1];
  void *freed[HRC_CACHE_MAX_WORDS + 1];
  /* Blocks each `freed` list may still take: cap minus its length. Indexed by any header's
   * size field (0..255) and 0 outside 2..32, so a free tests one word and needs no test that
   * the size is cached (binary-trees depth 16, rc: 3 of the 35 instructions the free walk spent
   * per node); 0 everywhere in the empty shared record, so the inline push (hrc_cache_put) of
   * a thread without caches fails that test and the library registers the thread. */
  uint32_t room[HRC_SMALL_WORDS_MAX + 1];
  /* Most blocks a `freed` list holds: HRC_CACHE_BYTES / size, at least 1. */
  uint32_t cap[HRC_CACHE_MAX_WORDS + 1];
  /* hybrid: full `freed` lists, linked through their first block's second word. */
  void *spill[HRC_CACHE_MAX_WORDS + 1];
  uint32_t nspill[HRC_CACHE_MAX_WORDS + 1]; /* blocks on each spill stack */
  uint64_t epoch; /* the collection count when this thread last trimmed (gc, hybrid) */
  struct hrc_cache_s *live_next; /* hybrid: the records of running threads (rc/cache.c) */
} hrc_cache_t;

/* This thread's caches: a record the runtime allocates when the thread first uses it (in the
 * tracing modes, in memory the collector scans), and until then an empty shared record whose
 * lists are always NULL, so the inline pop needs no extra test. */
extern HRC_API HRC_THREAD_LOCAL hrc_cache_t *hrc_tls_cache;

/* Whether blocks of this many words are cached. */
static inline bool hrc_cache_fits(size_t words) {
  return words - HRC_CACHE_MIN_WORDS <= HRC_CACHE_MAX_WORDS - HRC_CACHE_MIN_WORDS;
}

/* The inline part of a free: push a dead block whose fields are already released or moved out
 * onto this thread's cache, as short as the pop. False when the block takes the library path
 * (hrc_free_block_slow): a checked or statistics build, a size the caches do not hold, a full
 * list, a thread without caches yet. The block's old fields stay: on a traced heap they are
 * cleared, with the world stopped, when a collection starts (rc/cache.c's
 * hrc_cache_clear_all), so the caches pin nothing then. Release builds do not check here that
 * the block is hrc's (generated code frees only cells it matched as unique; the checked build
 * checks). */
static inline bool hrc_cache_put(hrc_obj_t *o) {
#if !HRC_DEBUG && HRC_COUNTING && !HRC_WITH_STATS
  size_t words = o->words; /* room[words] is 0 for sizes the caches do not hold */
  hrc_cache_t *cache = hrc_tls_cache;
  uint32_t room = cache->room[words];
  if (HRC_UNLIKELY(room == 0)) return false;
  *(void **)o = cache->freed[words];
  cache->freed[words] = o;
  cache->room[words] = room - 1;
  return true;
#else
  (void)o;
  return false;
#endif
}

/* Bytes of free blocks this thread's caches hold for reuse (0 in checked builds), once the
 * rest of this thread's bounded drops is freed (a drop frees at most 65,536 objects at once; the
 * rest is freed a walk per cache refill, or by a report like this one). */
HRC_API size_t hrc_cache_bytes(void);

/* The general allocation path (checks, registration, heap, stats). */
HRC_API HRC_NOINLINE hrc_obj_t *hrc_alloc_slow(size_t size, unsigned tag, unsigned scan);
HRC_API HRC_COLD void hrc_stats_peak_cold(void);
HRC_API HRC_NOINLINE void hrc_drop_fields_slow(hrc_obj_t *o);
HRC_API HRC_COLD void hrc_dup_fields(hrc_obj_t *o);
HRC_API HRC_NOINLINE void hrc_free_block_slow(hrc_obj_t *o, hrc_op_t op);
#if HRC_DEBUG
HRC_API HRC_COLD void hrc_debug_token(hrc_obj_t *tok, size_t size, unsigned scan);
HRC_API HRC_COLD void hrc_debug_to_token(hrc_obj_t *o);
HRC_API HRC_COLD void hrc_debug_to_cell_token(hrc_obj_t *o);
HRC_API HRC_COLD void hrc_debug_reuse_same(hrc_obj_t *tok);
#define HRC_CHECK_TOKEN(tok, size, scan) hrc_debug_token((tok), (size), (scan))
#define HRC_POISON_TOKEN(o)              hrc_debug_to_token(o)
#define HRC_CELL_TOKEN(o)                hrc_debug_to_cell_token(o)
#define HRC_CHECK_REUSE_SAME(tok)        hrc_debug_reuse_same(tok)
#else
#define HRC_CHECK_TOKEN(tok, size, scan) ((void)0)
#define HRC_POISON_TOKEN(o)              ((void)0)
#define HRC_CELL_TOKEN(o)                ((void)0)
#define HRC_CHECK_REUSE_SAME(tok)        ((void)0)
#endif
HRC_API HRC_COLD void hrc_stats_reuse_cold(hrc_obj_t *tok, size_t size, unsigned tag);
#if defined(HRC_MODE_RC)
HRC_API HRC_COLD void hrc_heap_recount_cold(hrc_obj_t *tok, size_t size);
#endif
HRC_API HRC_COLD hrc_obj_t *hrc_alloc_refused_cold(hrc_reuse_t tok, size_t size, unsigned tag,
                                                   unsigned scan);

/* The header's size field for an object of size bytes. */
static inline uint8_t hrc_size_words(size_t size) {
  size_t words = (size + 7) / 8;
  return words <= HRC_SMALL_WORDS_MAX ? (uint8_t)words : 0;
}

/* Fill in the header of a freshly allocated or reused block. */
static inline void hrc_header_init(hrc_obj_t *o, size_t size, unsigned tag, unsigned scan,
                                   unsigned flags) {
  o->rc = HRC_RC_UNIQUE;
  o->tag = (uint8_t)tag;
  o->scan = (uint8_t)scan;
  o->flags = (uint8_t)flags;
  o->words = hrc_size_words(size);
}

#if HRC_WITH_STATS
/* Count an allocation of a small object: a few thread-local additions; a new peak of live
 * bytes (rare once a program is warm) takes the cold path. */
static inline void hrc_stats_alloc(unsigned tag, size_t bytes) {
  hrc_stats_t *s = hrc_tls_stats;
  s->allocs++;
  s->alloc_bytes += (int64_t)bytes;
  s->live_by_tag[tag]++;
  s->live_bytes += (int64_t)bytes;
  if (HRC_UNLIKELY(s->live_bytes > s->peak_bytes)) hrc_stats_peak_cold();
}
#endif

/* Allocate an object of size bytes (header included) with tag and scanned-field count; its
 * fields are uninitialised. Never returns NULL: out of memory (or the heap limit) panics with
 * hrc_out_of_memory_value(), which a deferred call can recover. Fast path: a pop from this
 * thread's cache; the conditions before it fold away when the arguments are constants, and
 * the checked build always takes the checked library path. */
static HRC_ALWAYS_INLINE hrc_obj_t *hrc_alloc_flagged(size_t size, unsigned tag, unsigned scan,
                                                      unsigned flags) {
#if !HRC_DEBUG && HRC_COUNTING
  size_t words = (size + 7) / 8;
  bool plain = (tag <= HRC_TAG_MAX_CTOR || (tag == HRC_TAG_CLOSURE && scan >= 1)) &&
               scan <= HRC_SCAN_MAX && size >= sizeof(hrc_obj_t) + scan * sizeof(void *) &&
               hrc_cache_fits(words);
  if (plain) {
    hrc_cache_t *cache = hrc_tls_cache;
    hrc_obj_t *o = (hrc_obj_t *)cache->ready[words];
    if (HRC_LIKELY(o != NULL)) {
      cache->ready[words] = *(void **)o;
      hrc_header_init(o, size, tag, scan, flags);
#if HRC_WITH_STATS
      hrc_stats_alloc(tag, words * 8);
#endif
      return o;
    }
  }
#endif
  hrc_obj_t *o = hrc_alloc_slow(size, tag, scan);
  o->flags |= (uint8_t)flags;
  return o;
}

static inline hrc_obj_t *hrc_alloc(size_t size, unsigned tag, unsigned scan) {
  return hrc_alloc_flagged(size, tag, scan, 0);
}

/* hrc_alloc for a constructor of a type that cannot reach a mutable cell (every type of a
 * pure language without references): the object is flagged acyclic (hrc_set_acyclic) at no
 * cost, and in hybrid its decrements are never counted as evidence of cyclic garbage. */
static inline hrc_obj_t *hrc_alloc_acyclic(size_t size, unsigned tag, unsigned scan) {
  return hrc_alloc_flagged(size, tag, scan, HRC_FLAG_ACYCLIC);
}

#if HRC_WITH_STATS
/* Count a reuse: the token's old object leaves the live set, the new one enters it. */
static inline void hrc_stats_reuse(hrc_obj_t *tok, size_t size, unsigned tag) {
  uint8_t words = hrc_size_words(size);
  if (HRC_UNLIKELY(tok->words == 0 || words == 0)) {
    hrc_stats_reuse_cold(tok, size, tag);
    return;
  }
  hrc_tls_stats->reuses++;
  if (HRC_UNLIKELY(tok->tag != tag)) {
    hrc_tls_stats->live_by_tag[tok->tag]--;
    hrc_tls_stats->live_by_tag[tag]++;
  }
  if (HRC_UNLIKELY(tok->words != words))
    hrc_tls_stats->live_bytes += 8 * ((int64_t)words - (int64_t)tok->words);
}
#endif

/* Allocate into a reuse token when there is one, else from the heap. The token's block must be
 * at least size bytes (Perceus pairs equal sizes; the debug build checks it). */
static inline hrc_obj_t *hrc_alloc_at_flagged(hrc_reuse_t tok, size_t size, unsigned tag,
                                              unsigned scan, unsigned flags) {
#if !HRC_COUNTING
  (void)tok; /* always empty in pure tracing */
  return hrc_alloc_flagged(size, tag, scan, flags);
#endif
  if (tok == NULL) return hrc_alloc_flagged(size, tag, scan, flags);
#if defined(HRC_MODE_HYBRID)
  /* A pointer-free payload's block is never scanned by the collector: not for reuse. */
  if (HRC_UNLIKELY(tok->flags & HRC_FLAG_ATOMIC)) {
    hrc_obj_t *o = hrc_alloc_refused_cold(tok, size, tag, scan);
    o->flags |= (uint8_t)flags;
    return o;
  }
#endif
  HRC_CHECK_TOKEN(tok, size, scan);
#if HRC_WITH_STATS
  hrc_stats_reuse(tok, size, tag);
#endif
#if defined(HRC_MODE_RC) && !HRC_DEBUG
  /* The heap limit's count knows a cache-class block by its header's size (heap/mimalloc). */
  if (HRC_UNLIKELY(tok->words != hrc_size_words(size))) hrc_heap_recount_cold(tok, size);
#endif
  hrc_header_init(tok, size, tag, scan, flags);
  return tok;
}

static inline hrc_obj_t *hrc_alloc_at(hrc_reuse_t tok, size_t size, unsigned tag, unsigned scan) {
  return hrc_alloc_at_flagged(tok, size, tag, scan, 0);
}

/* hrc_alloc_at for a constructor of an acyclic type (hrc_alloc_acyclic). */
static inline hrc_obj_t *hrc_alloc_at_acyclic(hrc_reuse_t tok, size_t size, unsigned tag,
                                              unsigned scan) {
  return hrc_alloc_at_flagged(tok, size, tag, scan, HRC_FLAG_ACYCLIC);
}

/* Reuse specialisation: build, in the token's cell, the same constructor it held (same tag, size
 * and scanned-field count), writing only the fields that change: the header and the unchanged
 * fields are already right. tok must be non-empty and come from hrc_reuse_cell, whose fields
 * the caller took over and still holds, or from hrc_drop_reuse of an object without scanned
 * fields (nothing was dropped); the checked build stops anything else. Koka
 * specialises this way when at least a quarter of the fields stay; docs/lowering.md shows the
 * compiled form:
 *     if (tok != NULL) { c = hrc_reuse_same(tok); c->head = h2; }     // tail unchanged
 *     else { c = hrc_alloc(sizeof(cons), CONS, 2); c->head = h2; c->tail = t; }
 */
static inline hrc_obj_t *hrc_reuse_same(hrc_reuse_t tok) {
  HRC_CHECK_REUSE_SAME(tok);
#if HRC_WITH_STATS
  hrc_tls_stats->reuses++;
#endif
  return tok; /* rc: still unique; flags: still the constructor's */
}

/* hrc_reuse_same for another constructor of the same size and scanned-field count: only the tag
 * changes in the header (Koka's "set tag and fields"). */
static inline hrc_obj_t *hrc_reuse_as(hrc_reuse_t tok, unsigned tag) {
  HRC_CHECK_REUSE_SAME(tok);
#if HRC_WITH_STATS
  hrc_tls_stats->reuses++;
  hrc_tls_stats->live_by_tag[tok->tag]--;
  hrc_tls_stats->live_by_tag[tag]++;
#endif
  tok->tag = (uint8_t)tag;
  return tok;
}

/* Release a reference, returning the object's memory as a token when it was the last one
 * (its fields are dropped first); otherwise the count goes down and the token is empty. */
static inline hrc_reuse_t hrc_drop_reuse(hrc_obj_t *o) {
#if !HRC_COUNTING
  (void)o;
  return HRC_NO_REUSE;
#endif
  HRC_CHECK(o, HRC_OP_DROP_REUSE);
  if (HRC_LIKELY(hrc_rc_load(o) == HRC_RC_UNIQUE)) {
    if (o->scan != 0) {
      hrc_drop_fields_slow(o);
      HRC_POISON_TOKEN(o);
    } else {
      HRC_CELL_TOKEN(o); /* nothing dropped: its scalars may stay (hrc_reuse_same) */
    }
    return o;
  }
  hrc_obj_drop(o);
  return HRC_NO_REUSE;
}

/* Give a token back when no allocation took it. */
static inline void hrc_reuse_free(hrc_reuse_t tok) {
  if (HRC_COUNTING && tok != NULL && !hrc_cache_put(tok))
    hrc_free_block_slow(tok, HRC_OP_FREE_TOKEN);
}

/* Drop specialisation, unique case: turn a unique cell whose fields the caller has taken over
 * into a reuse token (no field is dropped). */
static inline hrc_reuse_t hrc_reuse_cell(hrc_obj_t *o) {
#if !HRC_COUNTING
  (void)o;
  return HRC_NO_REUSE;
#endif
  HRC_CHECK(o, HRC_OP_REUSE_CELL);
  HRC_CELL_TOKEN(o);
  return o;
}

/* Drop specialisation, unique case without reuse: free a unique cell whose fields the caller
 * has taken over (no field is dropped). */
static inline void hrc_free_cell(hrc_obj_t *o) {
  if (HRC_COUNTING && !hrc_cache_put(o)) hrc_free_block_slow(o, HRC_OP_FREE_CELL);
}

/* Drop specialisation, shared case: after dup'ing the fields it keeps, the caller gives up its
 * reference. Same as a drop (a thread-shared object may still die here, releasing its fields);
 * the debug build also checks that a local object was not unique. */
static inline void hrc_decref(hrc_obj_t *o) {
  if (HRC_COUNTING) HRC_CHECK(o, HRC_OP_DECREF);
  hrc_obj_drop(o);
}

#endif
