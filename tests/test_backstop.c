/* test_backstop.c: the bdwgc backstop (gc and hybrid modes).
 *
 * Cycles of every shape are reclaimed by a forced collection (checked with bdwgc's
 * disappearing links, which it clears when it reclaims the object, and by a bounded heap);
 * in hybrid, unique garbage goes back to the caches before any collection and reuse still
 * happens in place; blocks held only by runtime state (the caches) survive collections; an
 * object held only by a thread waiting in hrc_thread_join survives the collections other
 * threads run meanwhile; and 10,000 threads come and go without aborting or growing the heap. Built against the release
 * and the checked library of each tracing mode.
 */
#include <gc/gc.h>
#include <gc/gc_mark.h>

#include "common.h"

TestSuite(backstop, .init = remember_live);

/* A weak reference to an object: cleared by bdwgc when it reclaims the object. */
typedef struct weak_s {
  void *hidden;
} weak_t;

/* Watch o (allocated by bdwgc) through w. */
static void watch(weak_t *w, hrc_obj_t *o) {
  w->hidden = (void *)GC_HIDE_POINTER(o);
  void *base = GC_base(o);
  cr_assert(base != NULL, "objects come from the bdwgc heap");
  cr_assert(eq(int, GC_general_register_disappearing_link(&w->hidden, base), 0));
}

static bool reclaimed(weak_t *w) { return w->hidden == NULL; }

/* Overwrite a stretch of stack so no stale copy of a pointer keeps an object alive. */
static __attribute__((noinline)) void scrub_stack(void) {
  volatile char junk[16384];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = 0;
}

/* Collect until the watched object is gone (conservative scanning may need a second try). */
static bool collected(weak_t *w) {
  for (int i = 0; i < 4 && !reclaimed(w); i++) {
    scrub_stack();
    hrc_collect();
  }
  return reclaimed(w);
}

/* The shapes; each builds garbage the counts cannot free and watches one of its objects. */
static __attribute__((noinline)) void two_cycle(weak_t *w) {
  hrc_obj_t *a = mk_cons(hrc_box_int(1), hrc_box_int(0));
  hrc_obj_t *b = mk_cons(hrc_box_int(2), hrc_dup(a));
  as_cons(a)->tail = hrc_dup(b);
  watch(w, a);
  hrc_drop(a);
  hrc_drop(b);
}

static __attribute__((noinline)) void long_ring(weak_t *w) {
  hrc_obj_t *first = mk_cons(hrc_box_int(0), hrc_box_int(0));
  hrc_obj_t *xs = hrc_dup(first);
  for (int i = 1; i < 1000; i++) xs = mk_cons(hrc_box_int(i), xs);
  as_cons(first)->tail = xs; /* close the ring */
  watch(w, first);
  hrc_drop(first);
}

static __attribute__((noinline)) void doubly_linked(weak_t *w) {
  /* node: left = prev, mid = payload, right = next */
  hrc_obj_t *head = mk_node(hrc_box_int(0), hrc_box_int(0), hrc_box_int(0));
  hrc_obj_t *cur = head;
  for (int i = 1; i < 100; i++) {
    hrc_obj_t *n = mk_node(hrc_dup(cur), hrc_box_int(i), hrc_box_int(0));
    as_node(cur)->right = hrc_dup(n);
    if (cur != head) hrc_drop(cur);
    cur = n;
  }
  watch(w, cur);
  hrc_drop(cur);
  hrc_drop(head);
}

static hrc_obj_t *self_code(hrc_closure_t *self, hrc_obj_t *x) {
  hrc_obj_drop(&self->header);
  return x;
}

static __attribute__((noinline)) void closure_on_itself(weak_t *w) {
  hrc_closure_t *f = hrc_closure_alloc((hrc_code_t)self_code, 1, 0);
  f->env[0] = hrc_dup(&f->header); /* its environment points back to itself */
  watch(w, &f->header);
  hrc_obj_drop(&f->header);
}

/* A cycle that holds a shared acyclic tree; the program's own reference to the tree goes
 * too. Counting leaves the tree with one reference (the cycle's), so only the tracer can free
 * it; it watches both. */
static __attribute__((noinline)) void cycle_off_shared_tree(weak_t *w_cycle, weak_t *w_tree) {
  hrc_obj_t *tree = mk_node(mk_cons(hrc_box_int(1), hrc_box_int(2)), hrc_box_int(3), hrc_box_int(4));
  hrc_share(tree);
  hrc_obj_t *a = mk_cons(hrc_dup(tree), hrc_box_int(0));
  hrc_obj_t *b = mk_cons(hrc_box_int(0), hrc_dup(a));
  as_cons(a)->tail = b; /* a <-> b, and a holds the shared tree */
  watch(w_cycle, a);
  watch(w_tree, tree);
  hrc_drop(a);
  if (HRC_COUNTING) cr_assert(eq(u64, hrc_refcount(tree), 2));
  hrc_drop(tree);
  if (HRC_COUNTING) cr_assert(eq(u64, hrc_refcount(tree), 1), "the cycle's reference keeps it");
}

Test(backstop, every_cycle_shape_is_reclaimed_by_a_collection) {
  weak_t w[6] = {{0}};
  two_cycle(&w[0]);
  long_ring(&w[1]);
  doubly_linked(&w[2]);
  closure_on_itself(&w[3]);
  cycle_off_shared_tree(&w[4], &w[5]);
  const char *names[] = {"2-cycle", "ring of 1000", "doubly linked list", "closure on itself",
                         "cycle off a shared tree", "the tree the cycle held"};
  for (int i = 0; i < 6; i++) cr_assert(collected(&w[i]), "%s reclaimed", names[i]);
}

static __attribute__((noinline)) void make_rings(int n) {
  for (int i = 0; i < n; i++) {
    weak_t w;
    two_cycle(&w);
    GC_unregister_disappearing_link(&w.hidden);
  }
}

Test(backstop, heap_stays_bounded_while_cycles_are_dropped_in_a_loop, .timeout = 120) {
  make_rings(100000);
  hrc_collect();
  size_t after_first = GC_get_heap_size();
  for (int round = 0; round < 10; round++) make_rings(100000);
  hrc_collect();
  size_t after_many = GC_get_heap_size();
  cr_assert(le(sz, after_many, after_first * 2 + (4u << 20)),
            "heap %zu after 1M rings, %zu after 100k", after_many, after_first);
}

Test(backstop, unique_garbage_returns_to_the_caches_before_any_collection) {
#if HRC_COUNTING && !HRC_DEBUG
  hrc_stats_report_t before, after;
  hrc_stats_get(&before);
  size_t cached = hrc_cache_bytes();
  hrc_obj_t *xs = hrc_box_int(0);
  for (int i = 0; i < 1000; i++) xs = mk_cons(hrc_box_int(i), xs);
  hrc_drop(xs);
  hrc_stats_get(&after);
  cr_assert(eq(i64, after.frees - before.frees, 1000));
  cr_assert(ge(sz, hrc_cache_bytes(), cached + 1000 * sizeof(cons_t) / 2));
  hrc_obj_t *c = mk_cons(hrc_box_int(1), hrc_box_int(2));
  hrc_obj_t *d = hrc_alloc_at(hrc_drop_reuse(c), sizeof(cons_t), CONS_TAG, 2);
  cr_assert(eq(ptr, d, c), "reuse in place in hybrid as in rc");
  as_cons(d)->head = as_cons(d)->tail = hrc_box_int(0);
  hrc_drop(d);
  cr_assert(eq(i64, live_delta(), 0));
#else
  cr_skip_test("counts free eagerly only in a release hybrid build");
#endif
}

Test(backstop, blocks_held_only_by_the_caches_survive_collections) {
#if HRC_COUNTING && !HRC_DEBUG
  enum { N = 512 };
  static uintptr_t cached[N];
  hrc_obj_t *objs[N];
  for (int i = 0; i < N; i++) objs[i] = mk_cons(hrc_box_int(i), hrc_box_int(0));
  for (int i = 0; i < N; i++) {
    cached[i] = (uintptr_t)objs[i] ^ 0x5555; /* hidden from the conservative scan */
    hrc_drop(objs[i]);
    objs[i] = NULL;
  }
  for (int i = 0; i < 3; i++) hrc_collect();
  /* Had the collector taken the cached blocks, bdwgc would hand them out again. */
  for (int i = 0; i < 4 * N; i++) {
    void *p = GC_malloc(sizeof(cons_t));
    for (int j = 0; j < N; j++)
      cr_assert(ne(ptr, p, (void *)(cached[j] ^ 0x5555)), "a cached block was collected");
  }
#else
  cr_skip_test("caches exist in release builds that count");
#endif
}

static void *churn(void *arg) {
  (void)arg;
  hrc_obj_t *xs = hrc_box_int(0);
  for (int i = 0; i < 50; i++) xs = mk_cons(hrc_box_int(i), xs);
  hrc_obj_t *keep = hrc_dup(xs);
  hrc_drop(xs); /* fills this thread's cache */
  hrc_drop(keep);
  return NULL;
}

/* Bytes of the bdwgc heap in use after a full collection. */
static size_t heap_in_use(void) {
  hrc_collect();
  return GC_get_heap_size() - GC_get_free_bytes();
}

Test(backstop, ten_thousand_threads_come_and_go, .timeout = 300) {
  size_t used0 = 0;
  for (int batch = 0; batch < 2500; batch++) {
    pthread_t t[4];
    for (int i = 0; i < 4; i++) cr_assert(eq(int, hrc_thread_create(&t[i], NULL, churn, NULL), 0));
    for (int i = 0; i < 4; i++) hrc_thread_join(t[i], NULL);
    if (batch == 250) used0 = heap_in_use();
  }
  cr_assert(le(sz, heap_in_use(), used0 + (1u << 20)), "per-thread records are released");
  if (HRC_COUNTING) cr_assert(eq(i64, live_delta(), 0));
}

Test(backstop, pure_tracing_counts_nothing_and_never_reuses) {
#if HRC_COUNTING
  cr_skip_test("gc mode only");
#else
  hrc_obj_t *c = mk_cons(hrc_box_int(1), hrc_box_int(2));
  cr_assert(not(hrc_is_unique(c)));
  cr_assert(eq(ptr, hrc_drop_reuse(c), NULL));
  hrc_dup(c);
  hrc_drop(c);
  hrc_drop(c);
  cr_assert(eq(i64, hrc_unbox_int(as_cons(c)->head), 1), "drop frees nothing in gc mode");
  cr_assert(strncmp(hrc_variant(), "gc", 2) == 0);
#endif
}

#if defined(HRC_MODE_HYBRID) && !HRC_DEBUG
/* Allocate and drop cells of an otherwise unused size until a cache refill has happened. */
static void force_refills(void) {
  for (int i = 0; i < 4096; i++) {
    hrc_obj_t *o = hrc_alloc(8 * 17, NODE_TAG, 0);
    hrc_drop(o);
  }
  hrc_obj_t *keep[600];
  for (int i = 0; i < 600; i++) keep[i] = hrc_alloc(8 * 19, NODE_TAG, 0);
  for (int i = 0; i < 600; i++) hrc_drop(keep[i]);
}

/* Collections that the candidate counter started while each of the n objects in objs had
 * its count taken up and back down `rounds` times. */
static int64_t collections_after_decrements(hrc_obj_t **objs, int n, int rounds) {
  hrc_collect(); /* candidates count from the last collection on */
  force_refills();
  hrc_stats_report_t before, after;
  hrc_stats_get(&before);
  for (int r = 0; r < rounds; r++) {
    for (int i = 0; i < n; i++) {
      hrc_dup(objs[i]);
      hrc_drop(objs[i]); /* leaves a count above zero: a possible cycle root unless acyclic */
    }
  }
  force_refills();
  hrc_stats_get(&after);
  return after.policy_collections - before.policy_collections;
}
#endif

Test(backstop, decrements_on_possibly_cyclic_objects_pace_collections) {
#if defined(HRC_MODE_HYBRID) && !HRC_DEBUG
  /* 200,000 16-byte objects: above the floor of one candidate per 64 bytes of heap in use.
   * Their table is outside the collected heap (so it does not raise that floor) and a root. */
  enum { N = 200000 };
  hrc_obj_t **cells = malloc(N * sizeof(hrc_obj_t *));
  cr_assert(cells != NULL);
  GC_add_roots(cells, cells + N);
  for (int i = 0; i < N; i++) {
    cells[i] = hrc_alloc(16, NODE_TAG, 1);
    hrc_fields(cells[i])[0] = hrc_box_int(i);
  }
  hrc_gc_set_candidate_threshold(4096);
  cr_assert(ge(i64, collections_after_decrements(cells, N, 1), 1),
            "200,000 distinct possible cycle roots past a threshold of 4096 start a collection");
  cr_assert(eq(i64, collections_after_decrements(cells, 100, 2000), 0),
            "200,000 decrements on 100 objects already counted are no new evidence");
  hrc_obj_t *fresh = hrc_alloc(16, NODE_TAG, 1);
  hrc_fields(fresh)[0] = hrc_box_int(0);
  hrc_set_acyclic(fresh);
  for (int i = 0; i < N; i++) hrc_drop(cells[i]);
  for (int i = 0; i < N; i++) {
    cells[i] = hrc_alloc(16, NODE_TAG, 1);
    hrc_fields(cells[i])[0] = hrc_box_int(i);
    hrc_set_acyclic(cells[i]);
  }
  cr_assert(eq(i64, collections_after_decrements(cells, N, 1), 0),
            "decrements on acyclic objects are no evidence");
  for (int i = 0; i < N; i++) hrc_drop(cells[i]);
  hrc_drop(fresh);
  GC_remove_roots(cells, cells + N);
  free(cells);
  hrc_gc_set_candidate_threshold(4096); /* the default */
#else
  cr_skip_test("the candidate counter exists in release hybrid builds");
#endif
}

#if HRC_COUNTING && !HRC_DEBUG
/* A unique cell whose field is the only way into a cycle; the cell goes to the cache. */
static __attribute__((noinline)) void cached_cell_over_a_cycle(weak_t *w) {
  hrc_obj_t *a = mk_cons(hrc_box_int(1), hrc_box_int(0));
  hrc_obj_t *b = mk_cons(hrc_box_int(2), hrc_dup(a));
  as_cons(a)->tail = b; /* a <-> b, one reference to a left: ours */
  watch(w, a);
  hrc_obj_t *holder = mk_cons(a, hrc_box_int(3));
  hrc_drop(holder); /* holder is freed into the cache; a's count drops to 1 (b's) */
}
#endif

Test(backstop, cached_blocks_do_not_keep_their_old_fields_alive) {
#if HRC_COUNTING && !HRC_DEBUG
  weak_t w = {0};
  cached_cell_over_a_cycle(&w);
  cr_assert(gt(sz, hrc_cache_bytes(), 0));
  cr_assert(collected(&w), "the cycle is reclaimed although its former holder sits in a cache");
#else
  cr_skip_test("caches exist in release builds that count");
#endif
}

/* bdwgc's kind of the block holding o. */
static int kind_of(hrc_obj_t *o) { return GC_get_kind_and_size(GC_base(o), NULL); }

/* hybrid: a payload of a cached size is scanned memory from the caches, like any object, so
 * the inline free needs no test for pointer-free blocks; a dead one's block may become a cell,
 * which must then be scanned (a pointer-free block holding a cell's fields would hide them from
 * the collector). Pure tracing keeps payloads pointer-free. */
Test(backstop, small_payloads_are_scanned_blocks_the_caches_share) {
  int scanned = GC_get_kind_and_size(GC_malloc(16), NULL);
  int pointer_free = GC_get_kind_and_size(GC_malloc_atomic(16), NULL);
  cr_assert(ne(int, scanned, pointer_free));
  hrc_obj_t *s = &hrc_bytes_from("abc", 3)->header; /* 20 bytes: a cons's 3 words */
  cr_assert(eq(int, kind_of(s), HRC_COUNTING ? scanned : pointer_free));
  hrc_drop(s);
  for (int i = 0; i < 1000; i++) hrc_drop(&hrc_bytes_from("abc", 3)->header);
  hrc_obj_t *xs = hrc_box_int(0);
  for (int i = 0; i < 2000; i++) {
    xs = mk_cons(hrc_box_int(i), xs);
    cr_assert(eq(int, kind_of(xs), scanned), "a cell in pointer-free memory");
  }
  hrc_drop(xs);
}

/* A worker that collects again and again, with garbage of a cell's size in between. */
static void *collect_often(void *arg) {
  (void)arg;
  for (int i = 0; i < 20; i++) {
    hrc_obj_t *junk = hrc_box_int(0);
    for (int j = 0; j < 1000; j++) junk = mk_cons(hrc_box_int(j), junk);
    hrc_drop(junk);
    hrc_collect();
  }
  return NULL;
}

/* hrc_thread_join waits in bdwgc's inactive state, where collections do not stop the thread
 * but must still scan its stack as it was when it began to wait. */
Test(backstop, a_thread_waiting_in_join_keeps_what_its_stack_holds) {
  weak_t w = {0};
  hrc_obj_t *kept = mk_cons(hrc_box_int(42), hrc_box_int(0)); /* held by this stack alone */
  watch(&w, kept);
  pthread_t t;
  cr_assert(eq(int, hrc_thread_create(&t, NULL, collect_often, NULL), 0));
  cr_assert(eq(int, hrc_thread_join(t, NULL), 0));
  cr_assert(not(reclaimed(&w)), "the joining thread's object was reclaimed while it waited");
  cr_assert(eq(i64, hrc_unbox_int(as_cons(kept)->head), 42));
  hrc_drop(kept);
}

/* ---- when collections run (heap/bdwgc/policy.c) ---- */

/* Collections so far, all causes. */
static int64_t collections_now(hrc_stats_report_t *r) {
  hrc_stats_get(r);
  return r->collections;
}

/* A perfect tree of acyclic cells, 2^depth - 1 of them. */
static hrc_obj_t *acyclic_tree(int depth) {
  if (depth == 0) return hrc_box_int(0);
  hrc_obj_t *n = hrc_alloc_acyclic(sizeof(cons_t), CONS_TAG, 2);
  as_cons(n)->head = acyclic_tree(depth - 1);
  as_cons(n)->tail = acyclic_tree(depth - 1);
  return n;
}

Test(backstop, a_growing_heap_of_acyclic_data_runs_no_collection_in_hybrid) {
  if (!HRC_WITH_STATS) cr_skip_test("counts collections through the stats report");
  hrc_stats_report_t r;
  int64_t before = collections_now(&r);
  hrc_obj_t *big = acyclic_tree(20); /* a million cells: 32 MB of live data in bdwgc's heap */
  hrc_obj_t *more = acyclic_tree(19);
  int64_t during = collections_now(&r) - before;
  hrc_drop(more);
  hrc_drop(big);
  if (HRC_COUNTING) {
    cr_assert(eq(i64, during, 0), "hybrid collected %lld times while live data grew",
              (long long)during);
  } else {
    cr_assert(gt(i64, during, 0), "gc mode's growth trigger collects as the heap grows");
  }
}

#if HRC_COUNTING && HRC_WITH_STATS
/* Garbage no count sees: cells whose last reference a (buggy) lowering forgot to drop. */
static __attribute__((noinline)) void forget_drops(int n) {
  for (int i = 0; i < n; i++) (void)hrc_alloc_acyclic(sizeof(cons_t), CONS_TAG, 0);
}
#endif

Test(backstop, the_growth_safety_net_reclaims_garbage_no_count_saw) {
#if HRC_COUNTING && HRC_WITH_STATS
  hrc_gc_set_growth(4, 8u << 20);
  hrc_stats_report_t r;
  hrc_collect();
  int64_t growth = (collections_now(&r), r.gc_by_cause[HRC_GC_GROWTH]);
  for (int round = 0; round < 40; round++) forget_drops(100000); /* 128 MB in bdwgc's heap */
  hrc_stats_get(&r);
  hrc_gc_set_growth(4, 0); /* the defaults */
  cr_assert(gt(i64, r.gc_by_cause[HRC_GC_GROWTH], growth), "the safety net collected");
  cr_assert(lt(i64, r.heap_bytes, 64 << 20), "heap %lld bytes after 128 MB of leaked cells",
            (long long)r.heap_bytes);
#else
  cr_skip_test("hybrid's policy, counted through the stats report");
#endif
}

Test(backstop, the_heap_limit_collects_before_failing) {
#if HRC_COUNTING && HRC_WITH_STATS
  hrc_set_heap_limit(32u << 20);
  hrc_stats_report_t r;
  hrc_stats_get(&r);
  int64_t limit = r.gc_by_cause[HRC_GC_LIMIT];
  for (int round = 0; round < 20; round++) forget_drops(100000); /* 64 MB, no evidence */
  hrc_stats_get(&r);
  hrc_set_heap_limit(0);
  cr_assert(gt(i64, r.gc_by_cause[HRC_GC_LIMIT], limit), "collections at the limit: %lld",
            (long long)(r.gc_by_cause[HRC_GC_LIMIT] - limit));
  cr_assert(le(i64, r.heap_bytes, 32 << 20), "heap %lld bytes under a 32 MiB limit",
            (long long)r.heap_bytes);
#else
  cr_skip_test("hybrid's policy, counted through the stats report");
#endif
}

Test(backstop, a_ring_reached_through_a_dropped_head_is_evidence) {
#if HRC_COUNTING
  hrc_obj_t *first = mk_cons(hrc_box_int(0), hrc_box_int(0));
  hrc_obj_t *ring = mk_cons(hrc_box_int(1), hrc_dup(first));
  as_cons(first)->tail = ring; /* first <-> ring */
  hrc_obj_t *head = hrc_alloc_acyclic(sizeof(cons_t), CONS_TAG, 2);
  as_cons(head)->head = first; /* the head owns the program's reference to the ring */
  as_cons(head)->tail = hrc_box_int(0);
  uint64_t before = hrc_tls_cycle_candidates;
  hrc_drop(head); /* head dies (acyclic, unique); first's count stays above zero */
  cr_assert(eq(u64, hrc_tls_cycle_candidates, before + 1),
            "the dying head's decrement of the ring counts as a possible cycle root");
  hrc_collect();
#else
  cr_skip_test("evidence is counted where counts are");
#endif
}

Test(backstop, collections_are_counted_by_cause) {
  if (!HRC_WITH_STATS) cr_skip_test("counts collections through the stats report");
  hrc_stats_report_t a, b;
  hrc_stats_get(&a);
  hrc_collect();
  hrc_stats_get(&b);
  cr_assert(ge(i64, b.gc_by_cause[HRC_GC_EXPLICIT] - a.gc_by_cause[HRC_GC_EXPLICIT], 1));
  int64_t sum = 0;
  for (int c = 0; c < HRC_GC_CAUSES; c++) sum += b.gc_by_cause[c];
  cr_assert(eq(i64, sum, b.collections), "every collection has one cause");
}

#if HRC_COUNTING
/* The thunk of `defer recover()`: drops what it recovers. */
static hrc_obj_t *recover_thunk(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  hrc_xdrop(hrc_recover(tok));
  return NULL;
}

/* A frame that owns a cell, panics, and recovers at its landing: the cell is abandoned. */
static __attribute__((noinline)) void abandon_a_cell(void) {
  hrc_frame_t fr;
  hrc_landing_t land;
  HRC_CLOSURE_STORAGE(k, 0, 0);
  hrc_frame_enter(&fr);
  if (HRC_FRAME_LANDING(&fr, &land)) goto out;
  hrc_defer_open(&fr, 0, hrc_closure_init_frame(k, (hrc_code_t)recover_thunk, 0, 0));
  hrc_obj_t *owned = mk_cons(hrc_box_int(1), hrc_box_int(2)); /* never dropped: C does not unwind */
  (void)owned;
  hrc_panic_str("abandon");
out:
  if (hrc_defer_take_slot(&fr, 0)) hrc_xdrop(hrc_recover(HRC_NO_RECOVER)); /* not reached */
  hrc_frame_leave(&fr);
}
#endif

Test(backstop, a_landing_is_evidence_of_abandoned_objects) {
#if HRC_COUNTING
  uint64_t before = hrc_tls_cycle_candidates;
  abandon_a_cell();
  cr_assert(ge(u64, hrc_tls_cycle_candidates, before + 64),
            "a recovered panic counts as possible garbage for the backstop");
#else
  cr_skip_test("evidence is counted where counts are");
#endif
}
