/* free.c: freeing dead objects without recursion, and the field loops of reuse.
 *
 * free_dead walks the graph that dies with an object depth first with a small stack in its
 * frame (free_graph); what does not fit goes to a walk that uses the dead objects themselves
 * as its stack (pointer reversal, as Koka does; free_graph_deep): when it descends into a dying
 * child, it stores the index of the next field in the parent's rc word (the parent is dead, so its
 * count is free) and the grandparent's address in the field it just read (whose value it has
 * taken). A child after which the parent holds no more references (the last field, or only scalars
 * follow) is entered after freeing the parent, so lists and right spines use no stack at all;
 * leaves (no scanned fields) are freed on the spot. Dropping a 10-million-cell list or a
 * 10-million-deep spine therefore uses constant C stack (tests/test_rc.c "free_*_small_stack").
 *
 * Invariants: an object handed to free_dead has no references left; each of its scanned
 * fields still owns the reference it holds; arrays hold at most UINT32_MAX items, so a field
 * index always fits the rc word.
 */
#include "block_internal.h"

/* Release a dying parent's reference to child c; true when c died too. */
static inline bool release_child(hrc_obj_t *c) {
  HRC_CHECK(c, HRC_OP_DROP);
  uint32_t rc = hrc_rc_load(c);
  if ((int32_t)rc > 0) {
    hrc_rc_store(c, rc - 1);
    hrc_note_suspect(c);
    return false;
  }
  if (rc == HRC_RC_UNIQUE) return true;
  return hrc_shared_release(c);
}

/* True when slots[i..n) are all scalars, looking at no more than `most` of them. */
static inline bool scalars_only(hrc_obj_t **slots, size_t i, size_t n, size_t most) {
  if (n - i > most) return false;
  while (i < n && hrc_is_scalar(slots[i])) i++;
  return i == n;
}

/* True when o's (at most 4) scanned fields are all scalars: a leaf, nothing to release.
 * Two fields, the usual pair, without the loop: their low bits ANDed (binary-trees depth 16,
 * hybrid, callgrind: 91 -> 85 instructions per allocated node, with the unrolled clearing in
 * block_internal.h). */
static inline bool small_and_scalar(hrc_obj_t *o, unsigned n) {
  hrc_obj_t **f = hrc_fields(o);
  if (n == 2) return ((uintptr_t)f[0] & (uintptr_t)f[1] & 1u) != 0;
  return scalars_only(f, 0, n, 4);
}

/* True when no slot from i on can hold a reference, so a child dying at i-1 can be entered
 * as a tail: a list whose tail is not the last field frees like one whose tail is. */
static inline bool rest_is_scalar(hrc_obj_t **slots, size_t i, size_t n) {
  return scalars_only(slots, i, n, 8);
}

/* Account for and release the block of a dead object whose fields are all handled. */
static inline void free_block(hrc_obj_t *o) {
  hrc_stats_on_free(o);
  hrc_block_release(o);
}

/* free_block for an object with two scanned fields, given this thread's cache record. */
static inline void free_pair(hrc_cache_t *cache, hrc_obj_t *o) {
  hrc_stats_on_free(o);
  hrc_block_release_pair(cache, o);
}

/* The pointer-reversal walk: constant stack at any depth (see the top of this file). */
static HRC_NOINLINE void free_graph_deep(hrc_obj_t *o) {
  hrc_obj_t *parent = NULL;
  size_t i = 0;
  while (o != NULL) {
    size_t n;
    hrc_obj_t **slots = hrc_slots(o, &n);
    hrc_obj_t *next = NULL; /* a child to enter after o is freed */
    bool descended = false;
    while (i < n) {
      hrc_obj_t *c = slots[i++];
      if (hrc_is_scalar(c) || !release_child(c)) continue;
      if (small_and_scalar(c, c->scan)) {
        free_block(c); /* a leaf: nothing below it to release */
      } else if (rest_is_scalar(slots, i, n)) {
        next = c;
        break;
      } else {
        hrc_rc_store(o, (uint32_t)i); /* resume point */
        slots[i - 1] = parent;        /* link to the grandparent */
        parent = o;
        o = c;
        i = 0;
        descended = true;
        break;
      }
    }
    if (descended) continue;
    free_block(o);
    if (next != NULL) {
      o = next;
      i = 0;
    } else if (parent != NULL) {
      o = parent;
      i = hrc_rc_load(o);
      size_t pn;
      hrc_obj_t **pslots = hrc_slots(o, &pn);
      parent = pslots[i - 1];
    } else {
      o = NULL;
    }
  }
}

#define FREE_STACK 256 /* dead objects the fast walk keeps on the C stack (2 KiB) */

/* A drop's pause is bounded: a walk takes at most HRC_DROP_BUDGET dead objects off its stack;
 * the rest of its stack (dead objects whose fields are not released yet) waits on this thread's
 * pending store, and each cache refill walks one of them, again within the budget. Unbounded,
 * the drop of rbtree-ck's 840,000 checkpoint trees paused 1.19 s (longer than any of gc mode's
 * collections; docs/benchmarks.md). The store is root memory, so in hybrid the tracer keeps the
 * pending objects (and what they hold) until they are freed. */
#define HRC_DROP_BUDGET 65536u

typedef struct pending_s {
  size_t n, cap;
  hrc_obj_t *items[];
} pending_t;

HRC_THREAD_LOCAL pending_t *hrc_tls_pending;

/* Keep n dead objects for later walks, growing the store (root memory) as needed. */
static HRC_COLD void pending_push(hrc_obj_t **objs, size_t n) {
  pending_t *p = hrc_tls_pending;
  if (p == NULL || p->cap - p->n < n) {
    size_t cap = p == NULL ? 1024 : p->cap * 2;
    while (cap - (p == NULL ? 0 : p->n) < n) cap *= 2;
    pending_t *q = hrc_heap_alloc_root_uncleared(sizeof(pending_t) + cap * sizeof(hrc_obj_t *));
    if (q == NULL) hrc_out_of_memory(sizeof(pending_t) + cap * sizeof(hrc_obj_t *));
    q->n = p == NULL ? 0 : p->n;
    q->cap = cap;
    for (size_t i = 0; i < q->n; i++) q->items[i] = p->items[i];
    hrc_tls_pending = q; /* the new store first: the old one stays a root until then */
    if (p != NULL) hrc_heap_free_root(p);
    p = q;
  }
  for (size_t i = 0; i < n; i++) p->items[p->n++] = objs[i];
}

/* The walk of free_dead for objects that may have children to free: depth first with a
 * small stack of dead objects in this frame, each object visited once. When the stack is
 * full, the dying child's whole graph goes to free_graph_deep, so the C stack stays bounded.
 * Measured on bench/binarytrees (release, stats off): 94 instructions per allocated node at
 * depth 16 against 104 with a one-entry stack (the pointer-reversal walk alone), and depth 18
 * in 0.33 s against 0.35 s (hybrid), 0.34 s against 0.39 s (rc). */
/* One field of a dying object in free_graph: release it; free it at once when it died with
 * no references of its own, else hand it to `later` (the walk's stack, or the deep walk). */
#define FREE_VISIT_THEN(c, later)                                                                  \
  do {                                                                                             \
    hrc_obj_t *c_ = (c);                                                                           \
    if (!hrc_is_scalar(c_) && release_child(c_)) {                                                 \
      unsigned s_ = c_->scan;                                                                      \
      bool leaf_ = small_and_scalar(c_, s_);                                                       \
      if (leaf_ && s_ == 2) free_pair(cache, c_); /* a leaf */                                     \
      else if (leaf_) free_block(c_);                                                              \
      else later;                                                                                  \
    }                                                                                              \
  } while (0)
#define FREE_VISIT(c)                                                                              \
  FREE_VISIT_THEN(c, if (sp < FREE_STACK) stack[sp++] = c_; else free_graph_deep(c_))

/* Stats builds time the walk: the longest cascade one drop sets off is RC's pause. Timed in
 * here, not around the call, so that the caller's code is the same with stats as without (a
 * pointer the timing kept in a caller's register outlived the drop, and the fuzzer's strict
 * check saw an unrooted object survive a collection under ASan). */
static HRC_NOINLINE void free_graph(hrc_obj_t *o) {
#if HRC_WITH_STATS
  uint64_t t0 = hrc_ticks();
#endif
  hrc_cache_t *cache = hrc_tls_cache; /* this thread's own: free_dead registered it */
  hrc_obj_t *stack[FREE_STACK];
  size_t sp = 0, budget = HRC_DROP_BUDGET;
  for (;;) {
    if (HRC_UNLIKELY(--budget == 0)) {
      hrc_obj_t *rest = o; /* a copy: taking o's address kept o in memory all along */
      pending_push(stack, sp);
      pending_push(&rest, 1);
      break;
    }
    /* Last field first, the first field's dying child next (without a trip through the
     * stack: binary-trees depth 16, rc, 36.0 -> 35.3 instructions per node in this walk). The cache
     * hands blocks out newest first, and this order makes a structure rebuilt after a drop
     * land in memory in much the order it was built: on bench/binarytrees depth 18 (hybrid,
     * release) 0.51 s against 0.84 s field-first (rc: 0.42 s either way). Two fields (cons
     * cells, tree nodes) without the loop: binary-trees depth 16, hybrid, 85 -> 83
     * instructions per allocated node (callgrind); releasing them with the cache record at
     * hand (free_pair), 83 -> 72. */
    hrc_obj_t *next = NULL;
    if (HRC_LIKELY(o->scan == 2)) {
      hrc_obj_t **f = hrc_fields(o);
      hrc_obj_t *c0 = f[0];
      FREE_VISIT(f[1]);
      FREE_VISIT_THEN(c0, next = c_);
      free_pair(cache, o);
    } else {
      size_t n;
      hrc_obj_t **slots = hrc_slots(o, &n);
      for (size_t i = n; i-- > 0;) FREE_VISIT(slots[i]);
      free_block(o);
    }
    if (next != NULL) o = next;
    else if (sp > 0) o = stack[--sp];
    else break;
  }
#if HRC_WITH_STATS
  hrc_stats_on_drop(hrc_ticks() - t0);
#endif
}

/* Release builds: a dying object outside the heap (a C struct, a stack address, static data
 * without HRC_IMMORTAL_HEADER) would enter a cache and be handed out by the next allocation.
 * Checked where a free starts (the object the program drops or frees, the fields of a reuse
 * token), not for each object of a dying graph: a range test against the span of the heap's
 * blocks (heap/heap.h). Cost: docs/reliability.md. Checked builds catch
 * such pointers earlier, by the block's cookie (rc/debug.c). */
#if !HRC_DEBUG
/* o is outside the known span: the heap's after all (then the span grows), or fatal. */
static HRC_COLD void hrc_check_in_heap_cold(hrc_obj_t *o) {
  if (!hrc_heap_owns(o))
    hrc_fatal("free of %p (tag %u), which is not in hrc's heap: a pointer hrc never allocated "
              "(a C struct, a stack address, or static data without HRC_IMMORTAL_HEADER)",
              (void *)o, o->tag);
  uintptr_t at = (uintptr_t)o;
  hrc_heap_widen(at, at + 1);
}
#endif

/* Where a free starts: stop a block that is not the heap's before it enters a cache. */
static inline void require_in_heap(hrc_obj_t *o) {
#if !HRC_DEBUG
  if (HRC_UNLIKELY(!hrc_heap_spans(o))) hrc_check_in_heap_cold(o);
#else
  (void)o;
#endif
}

/* Free dead object o and everything that dies with it; constant C stack. Cells whose fields
 * are all scalars (the common leaf) are freed without entering the walk. */
static inline void free_dead(hrc_obj_t *o) {
  hrc_thread_ensure();
  require_in_heap(o);
  if (small_and_scalar(o, o->scan)) free_block(o);
  else free_graph(o);
}

/* Walk one pending dead object (within the budget): the refill's share of a bounded drop. */
void hrc_free_pending_some(void) {
  pending_t *p = hrc_tls_pending;
  if (p == NULL) return;
  hrc_obj_t *o = p->items[--p->n];
  if (p->n == 0) { /* the last one: the refill's test goes back to one load */
    hrc_tls_pending = NULL;
    hrc_heap_free_root(p);
  }
  free_graph(o);
}

/* Finish every pending walk of this thread (its end, a collection, a report, out of memory). */
void hrc_free_pending_all(void) {
  while (hrc_tls_pending != NULL) hrc_free_pending_some();
}

/* drop that the fast path could not do: last local reference, or a non-local count. Here,
 * beside the freeing code, so that freeing a leaf cell is one call from generated code. */
void hrc_drop_slow(hrc_obj_t *o) {
  uint32_t rc = hrc_rc_load(o);
  if (HRC_LIKELY(rc == HRC_RC_UNIQUE)) {
    free_dead(o);
  } else if (rc < HRC_RC_SHARED) {
    hrc_rc_store(o, rc - 1);
    hrc_note_suspect(o);
  } else if (hrc_shared_release(o)) {
    free_dead(o);
  }
}

/* The loop of hrc_drop_fields_slow, for objects with references among their fields. */
static HRC_NOINLINE void drop_fields(hrc_obj_t *o) {
  size_t n;
  hrc_obj_t **slots = hrc_slots(o, &n);
  for (size_t i = 0; i < n; i++) {
    hrc_obj_t *c = slots[i];
    if (!hrc_is_scalar(c) && release_child(c)) free_dead(c);
  }
}

/* Drop the fields of a unique object that is becoming a reuse token; a cell of scalars
 * returns at once (split from the loop so this path saves no registers). */
void hrc_drop_fields_slow(hrc_obj_t *o) {
  if (HRC_UNLIKELY(!small_and_scalar(o, o->scan))) drop_fields(o);
}

/* dup every scanned field (the shared branch of drop specialisation, generic form). */
void hrc_dup_fields(hrc_obj_t *o) {
  size_t n;
  hrc_obj_t **slots = hrc_slots(o, &n);
  for (size_t i = 0; i < n; i++) hrc_dup(slots[i]);
}

/* Free a block whose fields were taken over or already dropped (free_cell, unused tokens). */
void hrc_free_block_slow(hrc_obj_t *o, hrc_op_t op) {
  HRC_CHECK(o, op);
  (void)op;
  hrc_thread_ensure();
  require_in_heap(o);
  if (op == HRC_OP_FREE_TOKEN) HRC_STAT_ADD(tokens_freed, 1);
  free_block(o);
}
