/* test_checks.c: the checked build names each misuse in one line and stops.
 *
 * Each misuse runs in a forked child (expect_fatal), which must abort after printing exactly
 * one line that names the operation, the address and the tag. Linked against the checked
 * library only: release builds do not pay for these checks (docs/lowering.md says which
 * misuse is caught where).
 */
#include "common.h"

static hrc_obj_t *cell(void) { return mk_cons(hrc_box_int(1), hrc_box_int(2)); }

/* The expected "<op> of ... 0x<addr> (tag 1)" fragment for object o. */
static const char *named(const char *prefix, hrc_obj_t *o, const char *suffix) {
  static char buf[256];
  snprintf(buf, sizeof buf, "%s %p (tag %u)%s", prefix, (void *)o, o->tag, suffix);
  return buf;
}

static void double_drop(void *arg) {
  hrc_obj_t *c = arg;
  hrc_drop(c);
  hrc_drop(c);
}

Test(checks, drop_of_freed_object_names_address_tag_and_operation) {
  hrc_obj_t *c = cell();
  expect_fatal(double_drop, c,
               named("drop of freed object", c, ": double drop or reference count underflow"));
}

static void underflow(void *arg) {
  hrc_obj_t *c = arg;
  hrc_dup(c);
  hrc_drop(c);
  hrc_drop(c);
  hrc_drop(c); /* one more drop than references */
}

Test(checks, count_underflow_is_caught) {
  hrc_obj_t *c = cell();
  expect_fatal(underflow, c,
               named("drop of freed object", c, ": double drop or reference count underflow"));
}

static void shared_underflow(void *arg) {
  hrc_obj_t *c = arg;
  hrc_dup(c);
  hrc_share(c);
  hrc_drop(c);
  hrc_drop(c);
  hrc_drop(c);
}

Test(checks, shared_count_underflow_is_caught) {
  hrc_obj_t *c = cell();
  expect_fatal(shared_underflow, c, "reference count underflow");
}

static void decref_unique(void *arg) { hrc_decref(arg); }

Test(checks, decref_of_unique_object_is_an_underflow) {
  hrc_obj_t *c = cell();
  expect_fatal(decref_unique, c,
               named("decref of unique object", c, ": reference count underflow"));
}

static void dup_after_free(void *arg) {
  hrc_obj_t *c = arg;
  hrc_drop(c);
  hrc_dup(c);
}

Test(checks, dup_of_dead_object_names_address_tag_and_operation) {
  hrc_obj_t *c = cell();
  expect_fatal(dup_after_free, c, named("dup of dead object", c, ": it was already freed"));
}

static void dup_of_token(void *arg) {
  hrc_obj_t *c = arg;
  hrc_reuse_t tok = hrc_drop_reuse(c);
  (void)tok;
  hrc_dup(c);
}

Test(checks, use_of_an_object_turned_into_a_token_is_caught) {
  hrc_obj_t *c = cell();
  expect_fatal(dup_of_token, c, named("dup of dead object", c, ": its memory is a reuse token"));
}

static void drop_foreign(void *arg) {
  (void)arg;
  struct {
    uint64_t prefix[2];
    cons_t cell;
  } fake = {{0, 0}, {{.rc = 0, .tag = 3, .scan = 2, .words = 3}, NULL, NULL}};
  hrc_drop(&fake.cell.header);
}

Test(checks, drop_of_pointer_hrc_never_allocated) {
  expect_fatal(drop_foreign, NULL, "which hrc never allocated");
}

static void drop_null(void *arg) {
  (void)arg;
  hrc_drop(NULL);
}

Test(checks, drop_of_null_is_named) { expect_fatal(drop_null, NULL, "drop of NULL"); }

static void obj_drop_scalar(void *arg) {
  (void)arg;
  hrc_obj_drop(hrc_box_int(3));
}

Test(checks, object_drop_of_a_boxed_scalar_is_named) {
  expect_fatal(obj_drop_scalar, NULL, "which is not an object");
}

static void free_cell_shared(void *arg) {
  hrc_obj_t *c = arg;
  hrc_dup(c);
  hrc_free_cell(c);
}

Test(checks, free_cell_of_non_unique_object) {
  hrc_obj_t *c = cell();
  expect_fatal(free_cell_shared, c, named("free_cell of", c, ", which is not unique"));
}

static void token_too_small(void *arg) {
  hrc_reuse_t tok = hrc_drop_reuse(arg);
  hrc_alloc_at(tok, 64, 2, 3);
}

Test(checks, allocation_into_a_too_small_token) {
  expect_fatal(token_too_small, cell(), "alloc_at of 64 bytes into a reuse token of 24 bytes");
}

static void token_twice(void *arg) {
  hrc_reuse_t tok = hrc_drop_reuse(arg);
  hrc_obj_t *a = hrc_alloc_at(tok, sizeof(cons_t), CONS_TAG, 0);
  (void)a;
  hrc_alloc_at(tok, sizeof(cons_t), CONS_TAG, 0);
}

Test(checks, a_token_used_twice_is_caught) {
  expect_fatal(token_twice, cell(), "which is a live object, not a reuse token");
}

static void reuse_same_after_drop_reuse(void *arg) {
  hrc_reuse_t tok = hrc_drop_reuse(arg); /* fields dropped: nothing to keep */
  hrc_reuse_same(tok);
}

Test(checks, reuse_specialisation_of_a_token_whose_fields_were_dropped) {
  hrc_obj_t *c = cell();
  expect_fatal(reuse_same_after_drop_reuse, c,
               named("reuse_same of", c, ", a token whose fields were dropped (hrc_drop_reuse)"));
}

static void reuse_same_twice(void *arg) {
  hrc_reuse_t tok = hrc_reuse_cell(arg);
  hrc_reuse_same(tok);
  hrc_reuse_same(tok); /* the cell is an object again, not a token */
}

Test(checks, reuse_specialisation_of_a_live_object) {
  expect_fatal(reuse_same_twice, cell(), "which is a live object, not a reuse token");
}

static const cons_t immortal = {HRC_IMMORTAL_HEADER(1, 0, 3), NULL, NULL};

static void free_immortal(void *arg) {
  (void)arg;
  hrc_free_cell((hrc_obj_t *)&immortal);
}

Test(checks, freeing_an_immortal_object_is_caught) {
  expect_fatal(free_immortal, NULL, "free_cell of immortal object");
}

Test(checks, freed_blocks_are_poisoned_and_quarantined) {
  hrc_obj_t *inner = cell();
  hrc_obj_t *c = mk_cons(inner, hrc_box_int(2));
  hrc_drop(c);
  /* Reading a freed block is what this test checks; ASan builds would report it, so only
   * the header (which the checks themselves read) is inspected there. */
  cr_assert(eq(u32, c->rc, 0xDEADDEADu));
  cr_assert(eq(u8, c->tag, CONS_TAG), "the tag stays readable for error lines");
  cr_assert(eq(u32, inner->rc, 0xDEADDEADu));
  hrc_obj_t *again = cell();
  cr_assert(ne(ptr, again, c), "a quarantined block is not handed out again at once");
  cr_assert(ne(ptr, again, inner));
  hrc_drop(again);
}

/* ---- a missing hrc_share is named ---- */

static void *touch_twice(void *arg) {
  hrc_obj_t *c = arg;
  hrc_dup(c); /* the count is main's, and main still holds a reference */
  hrc_drop(c);
  return NULL;
}

static void two_threads_one_local_count(void *arg) {
  (void)arg;
  hrc_obj_t *c = cell();
  hrc_dup(c); /* one reference for the other thread, without hrc_share */
  pthread_t t;
  hrc_thread_create(&t, NULL, touch_twice, c);
  hrc_thread_join(t, NULL);
}

Test(checks, a_local_count_touched_by_a_second_thread_names_hrc_share) {
  expect_fatal(two_threads_one_local_count, NULL, "mark a value with hrc_share");
}

/* What the contract allows: a unique graph (with a DAG inside: a leaf two cells share) moves
 * to another thread without hrc_share, and that thread frees it. */
static void *drop_arg(void *arg) {
  hrc_drop(arg);
  return NULL;
}

Test(checks, a_unique_graph_with_shared_inner_objects_may_move) {
  hrc_obj_t *leaf = cell();
  hrc_obj_t *root = mk_cons(hrc_dup(leaf), mk_cons(leaf, hrc_box_int(0)));
  int64_t live = hrc_live_objects();
  pthread_t t;
  cr_assert(eq(int, hrc_thread_create(&t, NULL, drop_arg, root), 0));
  hrc_thread_join(t, NULL);
  cr_assert(eq(i64, hrc_live_objects(), live - 3));
}

/* And objects whose owner has ended are taken over by whoever touches them. */
static void *build_and_keep(void *arg) {
  (void)arg;
  hrc_obj_t *leaf = cell();
  return mk_cons(hrc_dup(leaf), leaf);
}

Test(checks, objects_of_an_ended_thread_are_taken_over) {
  pthread_t t;
  void *xs;
  cr_assert(eq(int, hrc_thread_create(&t, NULL, build_and_keep, NULL), 0));
  hrc_thread_join(t, &xs);
  hrc_obj_t *leaf = as_cons(xs)->head;
  hrc_dup(leaf);
  hrc_drop(xs);
  hrc_drop(leaf);
}
