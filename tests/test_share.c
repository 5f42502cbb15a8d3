/* test_share.c: thread sharing. Local-to-shared conversion keeps the number of references
 * (Koka 3.1.1 freed a two-reference object on its first drop after this conversion), shared
 * counts are atomic and sticky on overflow, marking is iterative, and graphs shared between
 * threads are freed exactly once by whichever thread drops last. The threaded tests also run
 * under ThreadSanitizer (scripts/test, the tsan lane).
 */
#include "common.h"
#include "thread_scenarios.h"

TestSuite(share, .init = remember_live);

/* A local cell with `refs` references, then shared. */
static hrc_obj_t *shared_cell_with(int refs) {
  hrc_obj_t *payload = mk_cons(hrc_box_int(5), hrc_box_int(6));
  hrc_obj_t *c = mk_cons(hrc_box_int(1), payload);
  for (int i = 1; i < refs; i++) hrc_dup(c);
  cr_assert(eq(u64, hrc_refcount(c), (uint64_t)refs));
  hrc_share(c);
  cr_assert(hrc_is_shared(c));
  cr_assert(hrc_is_shared(payload), "sharing reaches the whole graph");
  cr_assert(eq(u64, hrc_refcount(c), (uint64_t)refs), "conversion keeps the reference count");
  return c;
}

/* Drop refs-1 references one by one, checking the object stays intact, then the last. */
static void drop_down(hrc_obj_t *c, int refs) {
  for (int left = refs; left > 1; left--) {
    hrc_drop(c);
    cr_assert(eq(i64, live_delta(), 2), "an object with references left is not freed");
    cr_assert(eq(u64, hrc_refcount(c), (uint64_t)(left - 1)));
    cr_assert(eq(i64, hrc_unbox_int(as_cons(as_cons(c)->tail)->head), 5));
  }
  hrc_drop(c);
  cr_assert(eq(i64, live_delta(), 0));
}

Test(share, conversion_keeps_one_reference) { drop_down(shared_cell_with(1), 1); }

Test(share, conversion_keeps_two_references) { drop_down(shared_cell_with(2), 2); }

Test(share, conversion_keeps_three_references) { drop_down(shared_cell_with(3), 3); }

Test(share, shared_objects_are_never_unique_and_never_reused) {
  hrc_obj_t *c = shared_cell_with(1);
  cr_assert(not(hrc_is_unique(c)));
  cr_assert(eq(ptr, hrc_drop_reuse(c), NULL), "the last shared reference frees, no token");
  cr_assert(eq(i64, live_delta(), 0));
}

Test(share, dag_is_marked_once_and_counts_stay_exact) {
  hrc_obj_t *leaf = mk_cons(hrc_box_int(1), hrc_box_int(2));
  hrc_obj_t *a = mk_cons(hrc_dup(leaf), hrc_box_int(0));
  hrc_obj_t *b = mk_cons(leaf, a);
  hrc_obj_t *root = mk_node(hrc_dup(a), b, hrc_box_int(3));
  hrc_stats_report_t before, after;
  hrc_stats_get(&before);
  hrc_share(root);
  hrc_share(root);
  hrc_stats_get(&after);
  cr_assert(eq(i64, after.shared_marked - before.shared_marked, 4), "each object converts once");
  cr_assert(eq(u64, hrc_refcount(leaf), 2));
  cr_assert(eq(u64, hrc_refcount(a), 2));
  hrc_drop(root);
  cr_assert(eq(i64, live_delta(), 0));
}

static void *share_deep(void *arg) {
  (void)arg;
  hrc_obj_t *s = hrc_box_int(0);
  for (long i = 0; i < 1000000; i++) s = mk_node(s, hrc_box_int(i), hrc_box_int(i));
  hrc_share(s);
  cr_assert(hrc_is_shared(s));
  hrc_drop(s);
  return NULL;
}

Test(share, marking_a_million_deep_graph_uses_no_c_recursion, .timeout = 60) {
  run_on_small_stack(share_deep, NULL, 64 * 1024);
  cr_assert(eq(i64, live_delta(), 0));
}

Test(share, shared_count_overflow_becomes_sticky) {
  hrc_obj_t *c = shared_cell_with(1);
  hrc_rc_store(c, HRC_RC_STICKY - 2);
  hrc_dup(c);
  cr_assert(hrc_is_shared(c));
  hrc_dup(c);
  cr_assert(hrc_is_uncounted(c));
  for (int i = 0; i < 5; i++) hrc_drop(c);
  cr_assert(hrc_is_uncounted(c), "sticky is absorbing");
  hrc_rc_store(c, HRC_RC_SHARED); /* the test frees it by hand */
  hrc_drop(c);
  cr_assert(eq(i64, live_delta(), 0));
}

Test(share, large_local_count_becomes_sticky_when_shared) {
  hrc_obj_t *c = mk_cons(hrc_box_int(1), hrc_box_int(2));
  hrc_rc_store(c, HRC_RC_STICKY - HRC_RC_SHARED); /* more references than the shared range */
  hrc_share(c);
  cr_assert(hrc_is_uncounted(c));
  hrc_rc_store(c, HRC_RC_UNIQUE);
  hrc_drop(c);
}

Test(share, two_threads_drop_a_shared_graph_from_both_sides, .timeout = 120) {
  const char *err = ts_threads_drop_shared_list(2, 50);
  cr_assert(err == NULL, "%s", err);
}

Test(share, four_threads_walk_and_drop_one_shared_graph, .timeout = 120) {
  const char *err = ts_threads_drop_shared_list(4, 20);
  cr_assert(err == NULL, "%s", err);
}

Test(share, unique_graph_may_move_to_another_thread_without_sharing) {
  const char *err = ts_unique_graph_moves_to_another_thread();
  cr_assert(err == NULL, "%s", err);
}

Test(share, threads_allocate_privately_beside_shared_data) {
  const char *err = ts_private_work_beside_shared_data();
  cr_assert(err == NULL, "%s", err);
}

/* A list 0..n-1 as cons cells. */
static hrc_obj_t *range_list(long n) { return ts_range(n); }

static void *alloc_and_keep(void *arg) {
  (void)arg;
  return range_list(1000);
}

Test(share, counters_of_ended_threads_stay_in_the_totals) {
  hrc_stats_report_t before, after;
  hrc_stats_get(&before);
  pthread_t t;
  hrc_thread_create(&t, NULL, alloc_and_keep, NULL);
  void *xs;
  hrc_thread_join(t, &xs);
  hrc_stats_get(&after);
  cr_assert(eq(i64, after.allocs - before.allocs, 1000));
  cr_assert(eq(i64, live_delta(), 1000));
  hrc_drop(xs);
  cr_assert(eq(i64, live_delta(), 0));
}

/* ---- sticky and immortal roots (hrc_share walks every local graph) ---- */

/* Whether every object reachable from v is marked for other threads: shared, or sticky after
 * sharing (uncounted), or immortal. An explicit stack and a visited list, so a DAG or a cycle
 * is walked once. */
static bool all_shared(hrc_obj_t *v) {
  enum { MAX = 4096 };
  static hrc_obj_t *seen[MAX], *stack[MAX];
  size_t nseen = 0, top = 0;
  stack[top++] = v;
  while (top > 0) {
    hrc_obj_t *o = stack[--top];
    if (hrc_is_scalar(o)) continue;
    bool done = false;
    for (size_t i = 0; i < nseen && !done; i++) done = seen[i] == o;
    if (done) continue;
    cr_assert(nseen < MAX && top + HRC_SCAN_MAX < MAX, "graph too large for all_shared");
    seen[nseen++] = o;
    uint32_t rc = hrc_rc_load(o);
    if (rc < HRC_RC_SHARED || rc == HRC_RC_STICKY) return false; /* still local */
    if (rc == HRC_RC_IMMORTAL) continue;
    for (unsigned i = 0; i < hrc_scan_count(o); i++) stack[top++] = hrc_fields(o)[i];
  }
  return true;
}

/* Make o's local count overflow to sticky, as 2^31 dups would. */
static void make_sticky(hrc_obj_t *o) {
  hrc_rc_store(o, HRC_RC_LOCAL_MAX);
  hrc_dup(o);
  cr_assert(hrc_is_uncounted(o));
}

/* Koka 3.1.1's class of bug: hrc_share stopped at a sticky local count as if its graph were
 * shared, so two threads then counted its children non-atomically. */
Test(share, sticky_roots_share_their_graph) {
  hrc_obj_t *leaf = mk_cons(hrc_box_int(1), hrc_box_int(2));
  hrc_obj_t *mid = mk_cons(hrc_dup(leaf), hrc_box_int(3));
  hrc_obj_t *root = mk_node(mid, leaf, hrc_box_int(4));
  make_sticky(root);
  hrc_share(root);
  cr_assert(all_shared(root), "every object reachable from a sticky root is shared");
  cr_assert(eq(u64, hrc_refcount(leaf), 2), "the conversion keeps the children's counts");
  cr_assert(eq(u64, hrc_refcount(mid), 1));
}

Test(share, a_sticky_object_inside_a_graph_does_not_stop_the_walk) {
  hrc_obj_t *leaf = mk_cons(hrc_box_int(1), hrc_box_int(2));
  hrc_obj_t *sticky = mk_cons(leaf, hrc_box_int(3));
  make_sticky(sticky);
  hrc_obj_t *root = mk_cons(sticky, hrc_box_int(4));
  hrc_share(root);
  cr_assert(all_shared(root));
  hrc_share(root); /* a second walk finds everything shared and changes nothing */
  cr_assert(all_shared(root));
  cr_assert(eq(u64, hrc_refcount(leaf), 1));
}

Test(share, a_shared_count_that_overflows_stays_shared) {
  hrc_obj_t *c = shared_cell_with(1);
  hrc_rc_store(c, HRC_RC_STICKY - 1);
  hrc_dup(c);
  cr_assert(hrc_is_uncounted(c));
  cr_assert(all_shared(c), "a shared count that overflows is sticky and still shared");
  hrc_rc_store(c, HRC_RC_SHARED); /* the test frees it by hand */
  hrc_drop(c);
}

/* An immortal constant in read-only memory: sharing it writes nothing (a write would fault). */
static const struct {
  hrc_obj_t header;
  hrc_obj_t *head, *tail;
} immortal_cell = {HRC_IMMORTAL_HEADER(CONS_TAG, 2, 3), (hrc_obj_t *)3, (hrc_obj_t *)5};

Test(share, immortal_roots_are_left_alone) {
  hrc_obj_t *imm = (hrc_obj_t *)&immortal_cell.header;
  hrc_share(imm);
  hrc_obj_t *root = mk_cons(imm, hrc_box_int(1));
  hrc_share(root);
  cr_assert(all_shared(root));
  cr_assert(eq(u32, hrc_rc_load(imm), HRC_RC_IMMORTAL));
  hrc_drop(root);
  cr_assert(eq(i64, live_delta(), 0));
}

/* After sharing a sticky root, two threads count a child at once: atomic, so exact. */
static void *dup_drop_child(void *arg) {
  hrc_obj_t *child = arg;
  for (int i = 0; i < 200000; i++) {
    hrc_dup(child);
    hrc_drop(child);
  }
  return NULL;
}

Test(share, threads_count_the_children_of_a_shared_sticky_root_exactly, .timeout = 60) {
  hrc_obj_t *child = mk_cons(hrc_box_int(1), hrc_box_int(2));
  hrc_obj_t *root = mk_cons(child, hrc_box_int(3));
  make_sticky(root);
  hrc_share(root);
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    cr_assert(eq(int, hrc_thread_create(&t[i], NULL, dup_drop_child, child), 0));
  for (int i = 0; i < 2; i++) hrc_thread_join(t[i], NULL);
  cr_assert(eq(u64, hrc_refcount(child), 1), "no increment or decrement was lost");
}
