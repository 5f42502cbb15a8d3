/* test_rc.c: the rc module's primitives, one behaviour per test.
 *
 * Built twice: against the release library and against the checked one, so the fast paths
 * and the checked paths both pass the same behaviours. Live counts are compared with the count
 * at the start of each test (hrc_live_objects), so tests stay independent.
 */
#include <stddef.h>

#include "common.h"

TestSuite(rc, .init = remember_live);

Test(rc, header_is_eight_bytes_with_scanned_fields_first) {
  cr_assert(eq(sz, sizeof(hrc_obj_t), 8));
  cr_assert(eq(sz, offsetof(cons_t, head), 8));
  cr_assert(eq(sz, offsetof(cons_t, tail), 16));
  hrc_obj_t *c = mk_cons(hrc_box_int(1), hrc_box_int(2));
  cr_assert(eq(u8, c->tag, CONS_TAG));
  cr_assert(eq(u8, c->scan, 2));
  cr_assert(eq(u8, c->words, 3));
  cr_assert(eq(ptr, (void *)&hrc_fields(c)[1], (void *)&as_cons(c)->tail));
  hrc_drop(c);
}

Test(rc, fresh_object_is_unique_with_one_reference) {
  hrc_obj_t *c = mk_cons(hrc_box_int(1), hrc_box_int(2));
  cr_assert(hrc_is_unique(c));
  cr_assert(eq(u64, hrc_refcount(c), 1));
  cr_assert(eq(u32, c->rc, HRC_RC_UNIQUE));
  cr_assert(eq(i64, live_delta(), 1));
  hrc_drop(c);
  cr_assert(eq(i64, live_delta(), 0));
}

Test(rc, dup_and_drop_count_references) {
  hrc_obj_t *c = mk_cons(hrc_box_int(1), hrc_box_int(2));
  hrc_dup(c);
  hrc_obj_dup(c);
  cr_assert(eq(u64, hrc_refcount(c), 3));
  cr_assert(not(hrc_is_unique(c)));
  hrc_drop(c);
  hrc_obj_drop(c);
  cr_assert(hrc_is_unique(c));
  cr_assert(eq(i64, live_delta(), 1));
  hrc_drop(c);
  cr_assert(eq(i64, live_delta(), 0));
}

Test(rc, dup_n_adds_n_references) {
  hrc_obj_t *c = mk_cons(hrc_box_int(1), hrc_box_int(2));
  hrc_obj_dup_n(c, 5);
  cr_assert(eq(u64, hrc_refcount(c), 6));
  for (int i = 0; i < 6; i++) hrc_drop(c);
  cr_assert(eq(i64, live_delta(), 0));
}

Test(rc, last_drop_frees_the_graph_that_dies_with_it) {
  hrc_obj_t *shared_leaf = mk_cons(hrc_box_int(7), hrc_box_int(8));
  hrc_obj_t *a = mk_cons(hrc_dup(shared_leaf), hrc_box_int(0));
  hrc_obj_t *b = mk_node(a, shared_leaf, mk_cons(hrc_box_int(1), hrc_box_int(2)));
  hrc_obj_t *keep = hrc_dup(as_node(b)->right);
  cr_assert(eq(i64, live_delta(), 4));
  hrc_drop(b);
  cr_assert(eq(i64, live_delta(), 1), "only the cell still referenced survives");
  cr_assert(hrc_is_unique(keep));
  cr_assert(eq(i64, hrc_unbox_int(as_cons(keep)->head), 1));
  hrc_drop(keep);
  cr_assert(eq(i64, live_delta(), 0));
}

Test(rc, boxed_integers_pass_through_dup_and_drop) {
  intptr_t values[] = {0, 1, -1, 42, -42, HRC_BOX_INT_MAX, HRC_BOX_INT_MIN};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    hrc_obj_t *v = hrc_box_int(values[i]);
    cr_assert(hrc_is_scalar(v));
    cr_assert(eq(ptr, hrc_dup(v), v));
    hrc_drop(v);
    cr_assert(eq(i64, hrc_unbox_int(v), values[i]));
  }
  cr_assert(hrc_int_fits_box(HRC_BOX_INT_MAX));
  cr_assert(not(hrc_int_fits_box(HRC_BOX_INT_MAX + 1)));
  cr_assert(not(hrc_int_fits_box(HRC_BOX_INT_MIN - 1)));
  cr_assert(eq(i64, live_delta(), 0));
}

static const cons_t immortal_nil = {HRC_IMMORTAL_HEADER(0, 2, 3), NULL, NULL};
static const cons_t immortal_one = {HRC_IMMORTAL_HEADER(CONS_TAG, 2, 3),
                                    (hrc_obj_t *)1 /* boxed 0 */, (hrc_obj_t *)&immortal_nil};

Test(rc, immortal_objects_are_never_counted_or_freed) {
  hrc_obj_t *one = (hrc_obj_t *)&immortal_one;
  for (int i = 0; i < 1000; i++) hrc_dup(one);
  for (int i = 0; i < 2000; i++) hrc_drop(one);
  cr_assert(eq(u32, one->rc, HRC_RC_IMMORTAL));
  cr_assert(eq(u64, hrc_refcount(one), HRC_REFCOUNT_UNCOUNTED));
  cr_assert(not(hrc_is_unique(one)));
  hrc_obj_t *cell = mk_cons(hrc_box_int(3), one);
  hrc_drop(cell);
  cr_assert(eq(u32, immortal_nil.header.rc, HRC_RC_IMMORTAL));
  hrc_reuse_t tok = hrc_drop_reuse(one);
  cr_assert(eq(ptr, tok, NULL), "an immortal object is never a reuse token");
  hrc_share(one);
  cr_assert(eq(u32, one->rc, HRC_RC_IMMORTAL));
  cr_assert(eq(i64, live_delta(), 0));
}

Test(rc, local_count_overflow_becomes_sticky) {
  hrc_obj_t *c = mk_cons(hrc_box_int(1), hrc_box_int(2));
  hrc_rc_store(c, HRC_RC_LOCAL_MAX - 1);
  hrc_dup(c); /* reaches LOCAL_MAX by the fast path */
  cr_assert(eq(u32, c->rc, HRC_RC_LOCAL_MAX));
  hrc_dup(c); /* would overflow: sticky */
  cr_assert(hrc_is_uncounted(c));
  for (int i = 0; i < 10; i++) hrc_drop(c);
  cr_assert(hrc_is_uncounted(c), "sticky counts never go down");
  cr_assert(eq(i64, live_delta(), 1));
  hrc_rc_store(c, HRC_RC_UNIQUE); /* the test frees it by hand */
  hrc_drop(c);
}

Test(rc, dup_n_past_the_local_range_becomes_sticky) {
  hrc_obj_t *c = mk_cons(hrc_box_int(1), hrc_box_int(2));
  hrc_obj_dup_n(c, HRC_RC_LOCAL_MAX);
  cr_assert(hrc_is_uncounted(c));
  hrc_rc_store(c, HRC_RC_UNIQUE);
  hrc_drop(c);
  cr_assert(eq(i64, live_delta(), 0));
}

Test(rc, drop_reuse_of_unique_object_gives_its_block) {
  hrc_obj_t *child = mk_cons(hrc_box_int(5), hrc_box_int(6));
  hrc_obj_t *c = mk_cons(hrc_box_int(1), child);
  hrc_reuse_t tok = hrc_drop_reuse(c);
  cr_assert(eq(ptr, tok, c));
  cr_assert(eq(i64, live_delta(), 1), "the child died, the token's block stays accounted");
  hrc_obj_t *d = hrc_alloc_at(tok, sizeof(cons_t), CONS_TAG, 2);
  cr_assert(eq(ptr, d, c), "allocation into the token reuses the block in place");
  cr_assert(hrc_is_unique(d));
  as_cons(d)->head = hrc_box_int(9);
  as_cons(d)->tail = hrc_box_int(10);
  hrc_drop(d);
  cr_assert(eq(i64, live_delta(), 0));
}

Test(rc, drop_reuse_of_shared_reference_gives_no_token) {
  hrc_obj_t *c = mk_cons(hrc_box_int(1), hrc_box_int(2));
  hrc_dup(c);
  cr_assert(eq(ptr, hrc_drop_reuse(c), NULL));
  cr_assert(eq(u64, hrc_refcount(c), 1));
  hrc_obj_t *d = hrc_alloc_at(HRC_NO_REUSE, sizeof(cons_t), CONS_TAG, 2);
  cr_assert(ne(ptr, d, c));
  as_cons(d)->head = as_cons(d)->tail = hrc_box_int(0);
  hrc_drop(d);
  hrc_drop(c);
  cr_assert(eq(i64, live_delta(), 0));
}

Test(rc, unused_token_is_freed) {
  hrc_reuse_t tok = hrc_drop_reuse(mk_cons(hrc_box_int(1), hrc_box_int(2)));
  cr_assert(ne(ptr, tok, NULL));
  hrc_reuse_free(tok);
  hrc_reuse_free(HRC_NO_REUSE);
  cr_assert(eq(i64, live_delta(), 0));
}

/* Perceus' specialised drop of `xs` in `match xs { Cons(h, t) -> ... }` keeping h and t. */
static void match_cons(hrc_obj_t *xs, hrc_obj_t **h, hrc_obj_t **t) {
  *h = as_cons(xs)->head;
  *t = as_cons(xs)->tail;
  if (hrc_is_unique(xs)) {
    hrc_free_cell(xs);
  } else {
    hrc_dup(*h);
    hrc_dup(*t);
    hrc_decref(xs);
  }
}

Test(rc, drop_specialisation_keeps_fields_in_both_branches) {
  hrc_obj_t *inner = mk_cons(hrc_box_int(1), hrc_box_int(2));
  hrc_obj_t *xs = mk_cons(inner, hrc_box_int(3));
  hrc_obj_t *h, *t;
  match_cons(xs, &h, &t); /* unique: cell freed, fields moved */
  cr_assert(eq(ptr, h, inner));
  cr_assert(hrc_is_unique(inner));
  cr_assert(eq(i64, live_delta(), 1));
  xs = mk_cons(inner, hrc_box_int(3));
  hrc_dup(xs);
  match_cons(xs, &h, &t); /* shared: fields dup'ed, cell decremented */
  cr_assert(eq(u64, hrc_refcount(inner), 2));
  cr_assert(eq(u64, hrc_refcount(xs), 1));
  hrc_drop(h);
  hrc_drop(xs);
  cr_assert(eq(i64, live_delta(), 0));
}

Test(rc, generic_dup_fields_then_decref) {
  hrc_obj_t *a = mk_cons(hrc_box_int(1), hrc_box_int(2));
  hrc_obj_t *n = mk_node(a, hrc_box_int(4), hrc_dup(a));
  hrc_dup(n);
  hrc_dup_fields(n);
  cr_assert(eq(u64, hrc_refcount(a), 4));
  hrc_decref(n);
  hrc_drop(a);
  hrc_drop(a);
  hrc_drop(n);
  cr_assert(eq(i64, live_delta(), 0));
}

Test(rc, reuse_cell_keeps_fields_and_gives_token) {
  hrc_obj_t *inner = mk_cons(hrc_box_int(1), hrc_box_int(2));
  hrc_obj_t *xs = mk_cons(inner, hrc_box_int(3));
  hrc_obj_t *h = as_cons(xs)->head;
  cr_assert(hrc_is_unique(xs));
  hrc_reuse_t tok = hrc_reuse_cell(xs);
  hrc_obj_t *ys = hrc_alloc_at(tok, sizeof(cons_t), CONS_TAG, 2);
  cr_assert(eq(ptr, ys, xs));
  as_cons(ys)->head = hrc_box_int(0);
  as_cons(ys)->tail = h;
  cr_assert(hrc_is_unique(inner));
  hrc_drop(ys);
  cr_assert(eq(i64, live_delta(), 0));
}

/* Reuse specialisation: the cell is the same constructor again with its fields where they
 * were; only what the code writes changes, and the statistics count a reuse. */
Test(rc, reuse_same_keeps_the_unchanged_fields) {
  hrc_obj_t *inner = mk_cons(hrc_box_int(1), hrc_box_int(2));
  hrc_obj_t *xs = mk_cons(hrc_box_int(7), inner);
  hrc_stats_report_t before, after;
  hrc_stats_get(&before);
  hrc_reuse_t tok = hrc_reuse_cell(xs); /* tail moves out: the code holds it */
#if HRC_COUNTING
  hrc_obj_t *ys = hrc_reuse_same(tok);
  as_cons(ys)->head = hrc_box_int(8);
  hrc_stats_get(&after);
  cr_assert(eq(ptr, ys, xs));
  cr_assert(eq(ptr, as_cons(ys)->tail, inner), "the unchanged field stays");
  cr_assert(hrc_is_unique(ys) && ys->tag == CONS_TAG && ys->scan == 2);
  cr_assert(eq(i64, after.reuses - before.reuses, 1));
  cr_assert(eq(i64, after.allocs - before.allocs, 0));
  hrc_obj_t *zs = hrc_reuse_as(hrc_reuse_cell(ys), CONS_TAG + 1); /* another constructor */
  cr_assert(eq(ptr, zs, xs));
  cr_assert(eq(u8, zs->tag, CONS_TAG + 1));
  cr_assert(eq(ptr, as_cons(zs)->tail, inner));
  hrc_drop(zs);
#else
  cr_assert(eq(ptr, tok, HRC_NO_REUSE), "pure tracing never reuses");
  hrc_drop(inner);
#endif
  cr_assert(eq(i64, live_delta(), 0));
}

/* A cell freed by generated code (hrc_free_cell, hrc_reuse_free) on a thread that never used
 * hrc: the inline push meets the empty shared record and the library registers the thread. */
static void *free_cells_first(void *arg) {
  hrc_obj_t **cells = arg;
  hrc_free_cell(cells[0]);
  hrc_reuse_free(hrc_reuse_cell(cells[1]));
  hrc_obj_t *c = mk_cons(hrc_box_int(1), hrc_box_int(2));
  hrc_free_cell(c);
  return NULL;
}

Test(rc, inline_frees_register_a_new_thread) {
  hrc_obj_t *cells[2] = {mk_cons(hrc_box_int(1), hrc_box_int(0)),
                         mk_cons(hrc_box_int(2), hrc_box_int(0))};
  pthread_t t;
  hrc_thread_create(&t, NULL, free_cells_first, cells);
  hrc_thread_join(t, NULL);
  cr_assert(eq(i64, live_delta(), 0));
}

#define TEN_MILLION 10000000

/* A list of n cells built iteratively, head first. */
static hrc_obj_t *build_list(long n) {
  hrc_obj_t *xs = hrc_box_int(0);
  for (long i = 0; i < n; i++) xs = mk_cons(hrc_box_int(i), xs);
  return xs;
}

static void *drop_list_10m(void *arg) {
  (void)arg;
  hrc_obj_t *xs = build_list(TEN_MILLION);
  hrc_drop(xs);
  return NULL;
}

Test(rc, free_list_of_ten_million_on_small_stack, .timeout = 120) {
  run_on_small_stack(drop_list_10m, NULL, 64 * 1024);
  cr_assert(eq(i64, live_delta(), 0));
}

/* A spine of n nodes whose next node is in field `which`: 0 = first (a leaf cell follows it),
 * 1 = middle (only a scalar follows), 2 = last (a leaf cell precedes it). */
static hrc_obj_t *build_spine(long n, int which) {
  hrc_obj_t *s = hrc_box_int(0);
  for (long i = 0; i < n; i++) {
    hrc_obj_t *leaf = which == 1 ? hrc_box_int(i) : mk_cons(hrc_box_int(i), hrc_box_int(i));
    if (which == 0) s = mk_node(s, leaf, hrc_box_int(i));
    else if (which == 1) s = mk_node(leaf, s, hrc_box_int(i));
    else s = mk_node(hrc_box_int(i), leaf, s);
  }
  return s;
}

static void *drop_spine(void *arg) {
  hrc_drop(build_spine(TEN_MILLION, *(int *)arg));
  return NULL;
}

Test(rc, free_right_spine_of_ten_million_on_small_stack, .timeout = 120) {
  int which = 2;
  run_on_small_stack(drop_spine, &which, 64 * 1024);
  cr_assert(eq(i64, live_delta(), 0));
}

Test(rc, free_middle_spine_of_ten_million_on_small_stack, .timeout = 120) {
  int which = 1;
  run_on_small_stack(drop_spine, &which, 64 * 1024);
  cr_assert(eq(i64, live_delta(), 0));
}

Test(rc, free_left_spine_of_ten_million_on_small_stack, .timeout = 120) {
  int which = 0;
  run_on_small_stack(drop_spine, &which, 64 * 1024);
  cr_assert(eq(i64, live_delta(), 0));
}

/* A spine whose every node also holds a two-cell list: each level leaves one more dying
 * object pending, so the free walk's frame stack overflows into the pointer-reversal walk. */
static void *drop_bushy_spine(void *arg) {
  (void)arg;
  hrc_obj_t *s = hrc_box_int(0);
  for (long i = 0; i < 1000000; i++)
    s = mk_node(s, mk_cons(hrc_box_int(i), mk_cons(hrc_box_int(i), hrc_box_int(0))),
                hrc_box_int(i));
  hrc_drop(s);
  return NULL;
}

Test(rc, free_walk_beyond_its_frame_stack_on_small_stack, .timeout = 120) {
  run_on_small_stack(drop_bushy_spine, NULL, 64 * 1024);
  cr_assert(eq(i64, live_delta(), 0));
}

static void *drop_fields_of_deep_token(void *arg) {
  (void)arg;
  hrc_obj_t *top = mk_cons(build_spine(1000000, 0), hrc_box_int(1));
  hrc_reuse_free(hrc_drop_reuse(top));
  return NULL;
}

Test(rc, drop_reuse_frees_deep_fields_on_small_stack, .timeout = 60) {
  run_on_small_stack(drop_fields_of_deep_token, NULL, 64 * 1024);
  cr_assert(eq(i64, live_delta(), 0));
}

Test(rc, dag_with_shared_subtrees_frees_every_node) {
  /* Each level points twice to the level below: 16 nodes, 2^16 paths. */
  hrc_obj_t *t = hrc_box_int(0);
  for (int d = 0; d < 16; d++) t = mk_node(t, hrc_box_int(d), hrc_dup(t));
  cr_assert(eq(i64, live_delta(), 16));
  hrc_drop(t);
  cr_assert(eq(i64, live_delta(), 0));
}

/* A complete binary tree of depth d with distinct nodes. */
static hrc_obj_t *full_tree(int d) {
  if (d == 0) return hrc_box_int(0);
  return mk_node(full_tree(d - 1), hrc_box_int(d), full_tree(d - 1));
}

Test(rc, complete_tree_of_distinct_nodes_frees_every_node) {
  hrc_obj_t *t = full_tree(17);
  cr_assert(eq(i64, live_delta(), (1 << 17) - 1));
  hrc_drop(t);
  cr_assert(eq(i64, live_delta(), 0));
}

Test(rc, value_arrays_release_their_items) {
  hrc_array_t *a = hrc_array_alloc(1000);
  cr_assert(eq(u8, a->header.scan, HRC_SCAN_ARRAY));
  cr_assert(eq(sz, a->len, 1000));
  for (size_t i = 0; i < a->len; i += 2)
    a->items[i] = mk_cons(hrc_box_int((intptr_t)i), hrc_box_int(0));
  hrc_obj_t *keep = hrc_dup(a->items[10]);
  cr_assert(eq(i64, live_delta(), 501));
  hrc_drop(hrc_array_obj(a));
  cr_assert(eq(i64, live_delta(), 1));
  hrc_drop(keep);
  hrc_array_t *empty = hrc_array_alloc(0);
  hrc_drop(hrc_array_obj(empty));
  cr_assert(eq(i64, live_delta(), 0));
}

Test(rc, nested_arrays_free_iteratively) {
  hrc_array_t *outer = hrc_array_alloc(3);
  for (size_t i = 0; i < 3; i++) {
    hrc_array_t *inner = hrc_array_alloc(3);
    for (size_t j = 0; j < 3; j++) inner->items[j] = build_list(10);
    outer->items[i] = hrc_array_obj(inner);
  }
  cr_assert(eq(i64, live_delta(), 1 + 3 + 9 * 10));
  hrc_drop(hrc_array_obj(outer));
  cr_assert(eq(i64, live_delta(), 0));
}

Test(rc, bytes_and_scalars_are_payload_only) {
  hrc_bytes_t *s = hrc_bytes_from("hello, hrc", 10);
  cr_assert(eq(u8, s->header.scan, 0));
  cr_assert(eq(u8, s->header.tag, HRC_TAG_BYTES));
  cr_assert(eq(str, s->data, "hello, hrc"));
  cr_assert(eq(sz, s->len, 10));
  hrc_scalars_t *v = hrc_scalars_alloc(100, sizeof(double));
  cr_assert(eq(u8, v->header.scan, 0));
  cr_assert(eq(sz, (uintptr_t)v->data % 16, 0));
  double *d = (double *)v->data;
  cr_assert(eq(dbl, d[99], 0.0));
  d[5] = 2.5;
  hrc_bytes_t *big = hrc_bytes_alloc(100000);
  cr_assert(eq(u8, big->header.words, 0), "large objects keep their size out of the header");
  hrc_obj_t *pair = mk_cons(hrc_bytes_obj(s), hrc_scalars_obj(v));
  cr_assert(eq(i64, live_delta(), 4));
  hrc_drop(pair);
  hrc_drop(hrc_bytes_obj(big));
  cr_assert(eq(i64, live_delta(), 0));
}

/* Closure code: add the captured boxed integer to the argument. Self is owned. */
static hrc_obj_t *add_captured(hrc_closure_t *self, hrc_obj_t *x) {
  intptr_t k = hrc_unbox_int(self->env[0]);
  hrc_obj_drop(&self->header);
  return hrc_box_int(k + hrc_unbox_int(x));
}

Test(rc, closure_call_owned_and_borrowed) {
  hrc_closure_t *f = hrc_closure_alloc((hrc_code_t)add_captured, 1, 0);
  f->env[0] = hrc_box_int(40);
  cr_assert(eq(u8, f->header.tag, HRC_TAG_CLOSURE));
  cr_assert(eq(u8, f->header.scan, 2));
  cr_assert(hrc_is_scalar(f->code), "the code pointer is boxed so scanning skips it");
  cr_assert(eq(i64, hrc_unbox_int(hrc_call1_borrowed(f, hrc_box_int(2))), 42));
  cr_assert(eq(i64, live_delta(), 1), "a borrowed call leaves the caller's reference");
  cr_assert(eq(i64, hrc_unbox_int(hrc_call1(f, hrc_box_int(1))), 41));
  cr_assert(eq(i64, live_delta(), 0), "an owned call of a unique closure consumes it");
}

/* Closure code with nothing captured: twice its argument. Self is owned, as for any closure. */
static hrc_obj_t *twice(hrc_closure_t *self, hrc_obj_t *x) {
  hrc_obj_drop(&self->header);
  return hrc_box_int(2 * hrc_unbox_int(x));
}

static _Alignas(16) hrc_closure_t static_twice;

/* A compiler's capture-less fn: one static closure serves every use; calls, cells holding it,
 * sharing and drops never count or free it. */
Test(rc, a_static_closure_is_shared_and_never_freed) {
  hrc_closure_t *f = hrc_closure_init_static(&static_twice, (hrc_code_t)twice);
  cr_assert(eq(ptr, f, &static_twice));
  hrc_obj_t *cell = mk_cons(hrc_obj_dup(&f->header), hrc_box_int(0));
  for (intptr_t i = 0; i < 3; i++)
    cr_assert(eq(i64, hrc_unbox_int(hrc_call1(f, hrc_box_int(i))), 2 * i), "an owned call");
  hrc_share(cell);
  hrc_drop(cell);
  cr_assert(eq(u32, hrc_rc_load(&f->header), HRC_RC_IMMORTAL), "never counted");
  cr_assert(eq(i64, hrc_unbox_int(hrc_call1(f, hrc_box_int(21))), 42), "still there");
  cr_assert(eq(i64, live_delta(), 0), "not an allocation");
}

/* Closure code: cons the captured value onto the argument, building the cell in the
 * closure's own block when the closure is unique. */
static hrc_obj_t *cons_captured(hrc_closure_t *self, hrc_obj_t *xs) {
  hrc_obj_t *env[1];
  hrc_reuse_t tok = hrc_closure_unpack_reuse(self, env);
  cons_t *c = (cons_t *)hrc_alloc_at(tok, sizeof(cons_t), CONS_TAG, 2);
  c->head = env[0];
  c->tail = xs;
  return &c->header;
}

Test(rc, unique_closure_environment_is_reused_in_place) {
  hrc_obj_t *payload = mk_cons(hrc_box_int(1), hrc_box_int(2));
  hrc_closure_t *f = hrc_closure_alloc((hrc_code_t)cons_captured, 1, 0);
  f->env[0] = payload;
  cr_assert(eq(sz, hrc_closure_size(1, 0), sizeof(cons_t)));
  hrc_obj_t *r = hrc_call1(f, hrc_box_int(0));
  cr_assert(eq(ptr, r, &f->header), "the result cell took the closure's block");
  cr_assert(eq(ptr, as_cons(r)->head, payload));
  cr_assert(hrc_is_unique(payload));
  hrc_drop(r);
  cr_assert(eq(i64, live_delta(), 0));
}

Test(rc, shared_closure_environment_is_copied_not_reused) {
  hrc_obj_t *payload = mk_cons(hrc_box_int(1), hrc_box_int(2));
  hrc_closure_t *f = hrc_closure_alloc((hrc_code_t)cons_captured, 1, 0);
  f->env[0] = payload;
  hrc_obj_t *r1 = hrc_call1_borrowed(f, hrc_box_int(0));
  hrc_obj_t *r2 = hrc_call1_borrowed(f, hrc_box_int(0));
  cr_assert(ne(ptr, r1, &f->header));
  cr_assert(eq(u64, hrc_refcount(payload), 3));
  hrc_drop(r1);
  hrc_drop(r2);
  hrc_obj_drop(&f->header);
  cr_assert(eq(i64, live_delta(), 0));
}

Test(rc, closure_unpack_frees_a_unique_environment) {
  hrc_closure_t *f = hrc_closure_alloc((hrc_code_t)add_captured, 2, sizeof(double));
  f->env[0] = mk_cons(hrc_box_int(1), hrc_box_int(2));
  f->env[1] = hrc_box_int(7);
  *(double *)hrc_closure_scalars(f) = 1.5;
  cr_assert(eq(sz, hrc_closure_arity_env(f), 2));
  hrc_obj_t *out[2];
  hrc_closure_unpack(f, out);
  cr_assert(eq(i64, live_delta(), 1));
  hrc_drop(out[0]);
  cr_assert(eq(i64, live_delta(), 0));
}

Test(rc, stats_count_allocations_frees_and_reuses) {
  hrc_stats_report_t before, after;
  cr_assert(hrc_stats_get(&before), "the test libraries are built with stats");
  hrc_obj_t *c = mk_cons(hrc_box_int(1), hrc_box_int(2));
  hrc_obj_t *d = hrc_alloc_at(hrc_drop_reuse(c), sizeof(cons_t), NODE_TAG, 0);
  hrc_stats_report_t mid;
  hrc_stats_get(&mid);
  cr_assert(eq(i64, mid.live_by_tag[NODE_TAG] - before.live_by_tag[NODE_TAG], 1));
  cr_assert(eq(i64, mid.live_by_tag[CONS_TAG] - before.live_by_tag[CONS_TAG], 0));
  hrc_drop(d);
  hrc_stats_get(&after);
  cr_assert(eq(i64, after.allocs - before.allocs, 1));
  cr_assert(eq(i64, after.reuses - before.reuses, 1));
  cr_assert(eq(i64, after.frees - before.frees, 1));
  cr_assert(eq(i64, after.live_bytes - before.live_bytes, 0));
  cr_assert(after.peak_live_bytes >= before.live_bytes + (int64_t)sizeof(cons_t));
}

Test(rc, peak_live_bytes_is_exact_in_one_thread) {
  hrc_stats_report_t before, after;
  hrc_stats_get(&before);
  hrc_obj_t *xs = build_list(100000);
  hrc_drop(xs);
  hrc_stats_get(&after);
  int64_t expected = before.live_bytes + 100000 * (int64_t)sizeof(cons_t);
  cr_assert(after.peak_live_bytes >= expected);
  cr_assert(eq(i64, after.live_bytes, before.live_bytes));
}

static void alloc_reserved_tag(void *arg) {
  (void)arg;
  hrc_alloc(16, HRC_TAG_BYTES, 1);
}
static void alloc_too_many_fields(void *arg) {
  (void)arg;
  hrc_alloc(4096, 1, 255);
}
static void alloc_closure_without_code(void *arg) {
  (void)arg;
  hrc_alloc(8, HRC_TAG_CLOSURE, 0);
}
static void alloc_too_small(void *arg) {
  (void)arg;
  hrc_alloc(16, 1, 2);
}

static void alloc_overflowing(void *arg) {
  (void)arg;
  hrc_scalars_alloc(SIZE_MAX / 4, 8);
}

/* (Out of memory is a recoverable panic: test_misuse.c.) */
Test(rc, size_overflow_stops_with_one_line) {
  expect_fatal(alloc_overflowing, NULL, "is too large");
}

Test(rc, scalar_payload_is_16_byte_aligned_at_every_size) {
  hrc_obj_t *keep[64];
  for (size_t n = 0; n < 64; n++) {
    hrc_scalars_t *s = hrc_scalars_alloc(n, 1);
    cr_assert(eq(sz, (uintptr_t)s->data % 16, 0), "count %zu", n);
    keep[n] = hrc_scalars_obj(s);
  }
  for (size_t n = 0; n < 64; n++) hrc_drop(keep[n]);
  cr_assert(eq(i64, live_delta(), 0));
}

Test(rc, bad_allocation_arguments_stop_with_one_line) {
  expect_fatal(alloc_reserved_tag, NULL, "tag 241, which is reserved for hrc");
  expect_fatal(alloc_too_many_fields, NULL, "255 scanned fields");
  expect_fatal(alloc_too_small, NULL, "cannot hold a header and 2 scanned fields");
  expect_fatal(alloc_closure_without_code, NULL, "closure with 0 scanned fields");
}

static void *cache_bound(void *arg) {
  size_t *out = arg;
  out[0] = hrc_cache_bytes();
  hrc_obj_t *xs = build_list(100000);
  hrc_drop(xs);
  out[1] = hrc_cache_bytes();
  hrc_obj_t *ys = build_list(100);
  out[2] = hrc_cache_bytes();
  hrc_drop(ys);
  return NULL;
}

Test(rc, block_caches_are_per_thread_and_bounded) {
  size_t seen[3];
  pthread_t t;
  hrc_thread_create(&t, NULL, cache_bound, seen);
  hrc_thread_join(t, NULL);
  cr_assert(eq(sz, seen[0], 0), "a new thread starts with empty caches");
#if HRC_DEBUG
  cr_assert(eq(sz, seen[1], 0), "checked builds quarantine instead of caching");
#else
  cr_assert(gt(sz, seen[1], 0), "freed cells wait in the cache");
  cr_assert(le(sz, seen[1], 2 * HRC_CACHE_CLASS_BYTES), "a size class holds at most its bound");
  cr_assert(eq(sz, seen[2], seen[1] - 100 * sizeof(cons_t)), "allocation takes from the cache");
#endif
  cr_assert(eq(i64, live_delta(), 0));
}

Test(rc, variant_names_the_mode) {
  cr_assert(strncmp(hrc_variant(), HRC_MODE_NAME, strlen(HRC_MODE_NAME)) == 0);
  cr_assert(eq(str, (char *)hrc_version(), "0.1.0"));
}

Test(rc, a_drop_frees_a_bounded_number_of_objects_at_once) {
#if HRC_WITH_STATS
  hrc_obj_t *xs = build_list(300000);
  int64_t before = hrc_tls_stats->frees;
  hrc_drop(xs);
  int64_t at_once = hrc_tls_stats->frees - before;
  cr_assert(le(i64, at_once, 65536), "the drop freed %lld cells at once", (long long)at_once);
  cr_assert(gt(i64, at_once, 0));
  hrc_obj_t *ys = build_list(1000); /* refills walk the rest, one bounded walk each */
  hrc_drop(ys);
  cr_assert(eq(i64, hrc_live_objects(), suite_live0), "a report finishes the rest");
#else
  cr_skip_test("counts frees through the stats");
#endif
}
