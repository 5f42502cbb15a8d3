/* test_defer.c: defer, panic, recover and thread exit, in every mode.
 *
 * Each test is a Go test lowered by hand the way docs/lowering.md tells a compiler to lower
 * it: Go's test/recover.go, test/recover1.go, test/defer.go, test/defernil.go,
 * src/runtime/defer_test.go, crash_test.go (with testdata/testprog/crash.go) and stack_test.go.
 * The Go function a test ports is named in its comment. Conventions of the lowering:
 *   - a deferred call is a closure; Go's `defer f(a, b)` captures a and b;
 *   - a named function that calls recover takes the token as its first parameter
 *     (HRC_NO_RECOVER from ordinary calls, hrc_recover_token(self) from its deferred thunk);
 *     a closure's code takes its token from self on entry;
 *   - named results are volatile locals that deferred closures reach through a pointer;
 *   - frames with at most 8 defers, none in a loop, are open-coded unless a test exercises
 *     records on purpose; defers in loops use heap records.
 */
#include <stdatomic.h>

#include "common.h"

/* ---- a log of what ran, in order ---- */

static char trail[256];
static size_t trail_len;

static void note(char c) {
  if (trail_len < sizeof trail - 1) trail[trail_len++] = c;
  trail[trail_len] = '\0';
}

static void reset_trail(void) {
  trail_len = 0;
  trail[0] = '\0';
}

/* ---- closures capturing one or two scalar words ---- */

static hrc_closure_t *clo1(hrc_fun0_t code, intptr_t a) {
  hrc_closure_t *c = hrc_closure_alloc((hrc_code_t)code, 0, sizeof a);
  memcpy(hrc_closure_scalars(c), &a, sizeof a);
  return c;
}

static hrc_closure_t *clo0(hrc_fun0_t code) { return hrc_closure_alloc((hrc_code_t)code, 0, 0); }

/* The i-th captured word; then the code gives up self. */
static intptr_t word(hrc_closure_t *self, int i) {
  intptr_t w;
  memcpy(&w, (char *)hrc_closure_scalars(self) + i * (int)sizeof w, sizeof w);
  return w;
}

static void done(hrc_closure_t *self) { hrc_drop(&self->header); }

static intptr_t int_of(hrc_obj_t *v) {
  cr_assert(v != NULL && hrc_is_scalar(v), "expected a boxed integer");
  return hrc_unbox_int(v);
}

static bool is_text(hrc_obj_t *v, const char *s) {
  const char *t = hrc_value_text(v);
  return t != NULL && strcmp(t, s) == 0;
}

/* A closure that notes its captured character. */
static hrc_obj_t *note_code(hrc_closure_t *self) {
  char c = (char)word(self, 0);
  done(self);
  note(c);
  return NULL;
}

/* ---- order and arguments ---- */

/* test/defer.go test1: defers run last first; arguments are evaluated at the defer. */
static void lifo_open(void) {
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  char c = 'a';
  hrc_defer_open(&fr, 0, clo1(note_code, c));
  c = 'b';
  hrc_defer_open(&fr, 1, clo1(note_code, c));
  c = 'c';
  hrc_defer_open(&fr, 2, clo1(note_code, c));
  c = 'z'; /* too late for the deferred calls */
  hrc_defer_run_slot(&fr, 2);
  hrc_defer_run_slot(&fr, 1);
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
}

static void lifo_records(void) {
  hrc_frame_t fr;
  hrc_defer_rec_t r0, r1;
  hrc_frame_enter(&fr);
  hrc_defer_stack(&fr, &r0, clo1(note_code, 'a'));
  for (char c = 'b'; c <= 'd'; c++) hrc_defer_heap(&fr, clo1(note_code, c));
  hrc_defer_stack(&fr, &r1, clo1(note_code, 'e'));
  hrc_frame_exit(&fr);
}

Test(defer, runs_last_first_with_arguments_from_the_defer) {
  reset_trail();
  lifo_open();
  cr_assert(eq(str, trail, "cba"));
  reset_trail();
  lifo_records();
  cr_assert(eq(str, trail, "edcba"));
}

/* test/defer.go test2: a defer in a loop captures each iteration's value. */
static void loop_defers(int n) {
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  for (int i = 0; i < n; i++) hrc_defer_heap(&fr, clo1(note_code, '0' + i));
  hrc_frame_exit(&fr);
}

Test(defer, loop_defers_run_last_first) {
  reset_trail();
  loop_defers(10);
  cr_assert(eq(str, trail, "9876543210"));
}

/* ---- recover.go ---- */

static hrc_obj_t *recover_checked(hrc_recover_t tok) { return hrc_recover(tok); }

/* mustRecoverBody(doubleRecover(), recover(), recover(), x) */
static void must_recover_body(hrc_obj_t *v1, hrc_obj_t *v2, hrc_obj_t *v3, intptr_t x) {
  cr_assert(v1 == NULL, "spurious recover");
  cr_assert(v2 != NULL, "missing recover");
  cr_assert(eq(i64, int_of(v2), x), "wrong value");
  cr_assert(v3 == NULL, "recover didn't recover");
  hrc_drop(v2);
}

/* doubleRecover: a named function calling recover, called directly: never recovers. */
static hrc_obj_t *double_recover(hrc_recover_t tok) { return recover_checked(tok); }

/* mustRecover(x): its token is its own; doubleRecover's call passes none. */
static void must_recover(hrc_recover_t tok, intptr_t x) {
  hrc_obj_t *v1 = double_recover(HRC_NO_RECOVER);
  hrc_obj_t *v2 = hrc_recover(tok);
  hrc_obj_t *v3 = hrc_recover(tok);
  must_recover_body(v1, v2, v3, x);
}

static void must_not_recover(hrc_recover_t tok) {
  hrc_obj_t *v = hrc_recover(tok);
  cr_assert(v == NULL, "spurious recover");
}

static void without_recover(void) { must_not_recover(HRC_NO_RECOVER); /* a sub-call */ }

/* The deferred thunks a compiler makes for `defer mustRecover(x)` and friends. */
static hrc_obj_t *must_recover_thunk(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  intptr_t x = word(self, 0);
  done(self);
  must_recover(tok, x);
  return NULL;
}

static hrc_obj_t *must_not_recover_thunk(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  must_not_recover(tok);
  return NULL;
}

static hrc_obj_t *without_recover_thunk(hrc_closure_t *self) {
  done(self);
  without_recover();
  return NULL;
}

/* `defer recover()`: the builtin deferred directly; it runs as if called by the deferring
 * function, so it uses that function's token (captured). */
static hrc_obj_t *recover_thunk(hrc_closure_t *self) {
  hrc_recover_t tok = (hrc_recover_t)word(self, 0);
  done(self);
  hrc_xdrop(hrc_recover(tok));
  return NULL;
}

/* Every frame below can receive a recover: each sets a landing. The landing code runs the
 * remaining defers and returns, as the normal exit does. */
#define ENTER_LANDING(fr, land)                                                                   \
  hrc_frame_enter(&fr);                                                                           \
  if (HRC_FRAME_LANDING(&fr, &land)) goto out

/* test1 */
static void recover_test1(void) {
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo0(must_not_recover_thunk)); /* because mustRecover will squelch it */
  hrc_defer_open(&fr, 1, clo1(must_recover_thunk, 1));  /* because of the panic below */
  hrc_defer_open(&fr, 2, clo0(without_recover_thunk));  /* a no-op, leaving it to mustRecover */
  hrc_panic(hrc_box_int(1));
out:
  hrc_defer_run_slot(&fr, 2);
  hrc_defer_run_slot(&fr, 1);
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
}

/* test1WithClosures: closure literals; the one with an argument is deferred through a thunk
 * that calls its body with the thunk's token. */
static hrc_obj_t *closure_not_recover(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  cr_assert(hrc_recover(tok) == NULL, "spurious recover in closure");
  return NULL;
}

static void closure_with_arg_body(hrc_recover_t tok, intptr_t x) {
  must_not_recover(HRC_NO_RECOVER);
  hrc_obj_t *v = hrc_recover(tok);
  cr_assert(v != NULL, "missing recover");
  cr_assert(eq(i64, int_of(v), x));
}

static hrc_obj_t *closure_with_arg_thunk(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  intptr_t x = word(self, 0);
  done(self);
  closure_with_arg_body(tok, x);
  return NULL;
}

static hrc_obj_t *closure_calls_must_not(hrc_closure_t *self) {
  done(self);
  must_not_recover(HRC_NO_RECOVER);
  return NULL;
}

static void recover_test1_closures(void) {
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo0(closure_not_recover));
  hrc_defer_open(&fr, 1, clo1(closure_with_arg_thunk, 1));
  hrc_defer_open(&fr, 2, clo0(closure_calls_must_not));
  hrc_panic(hrc_box_int(1));
out:
  hrc_defer_run_slot(&fr, 2);
  hrc_defer_run_slot(&fr, 1);
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
}

Test(recover, only_in_the_call_the_panic_invoked) {
  recover_test1();
  recover_test1_closures();
}

/* test2: `defer recover()` directly in the panicking frame is a no-op (too early). */
static void recover_test2(void) {
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo1(must_recover_thunk, 2));
  hrc_defer_open(&fr, 1, clo1(recover_thunk, (intptr_t)HRC_NO_RECOVER)); /* test2's own token */
  hrc_panic(hrc_box_int(2));
out:
  hrc_defer_run_slot(&fr, 1);
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
}

/* test3: a deferred closure's recover squelches the panic. */
static hrc_obj_t *squelch(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  hrc_xdrop(hrc_recover(tok));
  return NULL;
}

static void recover_test3(void) {
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo0(must_not_recover_thunk));
  hrc_defer_open(&fr, 1, clo0(squelch));
  hrc_panic(hrc_box_int(3));
out:
  hrc_defer_run_slot(&fr, 1);
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
}

/* test4: `defer func() { defer recover() }()` squelches too: the inner recover runs as if
 * called by the deferred closure, which the panic invoked. */
static hrc_obj_t *defers_recover(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  hrc_defer_open(&fr, 0, clo1(recover_thunk, (intptr_t)tok));
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  return NULL;
}

static void recover_test4(void) {
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo0(must_not_recover_thunk));
  hrc_defer_open(&fr, 1, clo0(defers_recover));
  hrc_panic(hrc_box_int(4));
out:
  hrc_defer_run_slot(&fr, 1);
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
}

Test(recover, defer_recover_is_a_no_op_in_the_panicking_frame) {
  recover_test2();
  recover_test3();
  recover_test4();
}

/* test5: try(g, deflt) (x interface{}): a named result set by a deferred closure survives the
 * recover; g is a closure value deferred directly. */
static hrc_obj_t *set_result_on_recover(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  volatile intptr_t *x = (volatile intptr_t *)word(self, 0);
  done(self);
  hrc_obj_t *v = hrc_recover(tok);
  if (v != NULL) *x = int_of(v);
  return NULL;
}

static intptr_t try_call(hrc_closure_t *g, intptr_t deflt) {
  volatile intptr_t x = 0; /* the named result */
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo1(set_result_on_recover, (intptr_t)&x));
  hrc_defer_open(&fr, 1, g);
  x = deflt; /* return deflt */
out:
  hrc_defer_run_slot(&fr, 1);
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  return x;
}

static hrc_obj_t *panics_5(hrc_closure_t *self) {
  done(self);
  hrc_panic(hrc_box_int(5));
}

static hrc_obj_t *does_nothing(hrc_closure_t *self) {
  done(self);
  return NULL;
}

/* The same function with an unnamed result: a recovered call returns the zero value. */
static intptr_t try_unnamed(hrc_closure_t *g, intptr_t deflt) {
  intptr_t result = 0; /* unnamed results are zero after a landing */
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo0(squelch));
  hrc_defer_open(&fr, 1, g);
  result = deflt;
  hrc_defer_run_slot(&fr, 1);
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  return result;
out:
  hrc_defer_run_slot(&fr, 1);
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  return 0;
}

Test(recover, named_results_survive_and_unnamed_are_zero) {
  cr_assert(eq(i64, try_call(clo0(panics_5), 55), 5));
  cr_assert(eq(i64, try_call(clo0(does_nothing), 66), 66));
  cr_assert(eq(i64, try_unnamed(clo0(panics_5), 55), 0));
  cr_assert(eq(i64, try_unnamed(clo0(does_nothing), 66), 66));
}

/* test7: after a recover the recovering frame runs its remaining defers, then returns. */
static void recover_test7_inner(volatile bool *ok) {
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo1(note_code, 'k'));
  hrc_defer_open(&fr, 1, clo1(must_recover_thunk, 7));
  hrc_panic(hrc_box_int(7));
out:
  hrc_defer_run_slot(&fr, 1);
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  *ok = true;
}

Test(recover, remaining_defers_of_the_recovering_frame_run) {
  volatile bool ok = false;
  reset_trail();
  recover_test7_inner(&ok);
  cr_assert(ok);
  cr_assert(eq(str, trail, "k"));
}

/* test8: func varargs(s *int, a ...int) sums a into *s and adds 100 if it recovers. */
static void varargs_body(hrc_recover_t tok, volatile intptr_t *s, const intptr_t *a, int n) {
  *s = 0;
  for (int i = 0; i < n; i++) *s += a[i];
  hrc_obj_t *v = hrc_recover(tok);
  if (v != NULL) *s += 100;
}

static hrc_obj_t *varargs_thunk(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  intptr_t w[4];
  memcpy(w, hrc_closure_scalars(self), sizeof w);
  done(self);
  varargs_body(tok, (volatile intptr_t *)w[0], &w[1], 3);
  return NULL;
}

static hrc_closure_t *varargs_closure(volatile intptr_t *r, intptr_t a, intptr_t b, intptr_t c) {
  hrc_closure_t *k = hrc_closure_alloc((hrc_code_t)varargs_thunk, 0, 4 * sizeof(intptr_t));
  intptr_t w[4] = {(intptr_t)r, a, b, c};
  memcpy(hrc_closure_scalars(k), w, sizeof w);
  return k;
}

static intptr_t test8a(void) {
  volatile intptr_t r = 0;
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, varargs_closure(&r, 1, 2, 3));
  hrc_panic(hrc_box_int(0));
out:
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  return r;
}

static intptr_t test8b(void) {
  volatile intptr_t r = 0;
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, varargs_closure(&r, 4, 5, 6));
out:
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  return r;
}

Test(recover, deferred_call_with_arguments_recovers) {
  cr_assert(eq(i64, test8a(), 106));
  cr_assert(eq(i64, test8b(), 15));
}

/* A closure value deferred with an argument (`defer g(x)`): the thunk forwards its window to
 * g, which may then recover as Go's g would. */
static hrc_obj_t *g_recovers(hrc_closure_t *self, hrc_obj_t *x) {
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  hrc_obj_t *v = hrc_recover(tok);
  cr_assert(v != NULL && int_of(v) == int_of(x), "g should recover the panic");
  return NULL;
}

static hrc_obj_t *call_g_thunk(hrc_closure_t *self) {
  hrc_closure_t *g = (hrc_closure_t *)self->env[0];
  hrc_obj_t *x = self->env[1];
  hrc_recover_forward(self, g);
  hrc_dup(&g->header);
  hrc_dup(x);
  done(self);
  return hrc_call1(g, x);
}

Test(recover, closure_value_deferred_with_an_argument_recovers) {
  hrc_frame_t fr;
  hrc_landing_t land;
  volatile int landed = 0;
  ENTER_LANDING(fr, land);
  hrc_closure_t *g = hrc_closure_alloc((hrc_code_t)g_recovers, 0, 0);
  hrc_closure_t *t = hrc_closure_alloc((hrc_code_t)call_g_thunk, 2, 0);
  t->env[0] = &g->header;
  t->env[1] = hrc_box_int(9);
  hrc_defer_open(&fr, 0, t);
  hrc_panic(hrc_box_int(9));
out:
  landed = 1;
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  cr_assert(eq(int, landed, 1));
}

/* The window forwarded to g outlives g: g does not recover and frees itself, and a closure
 * allocated next (in g's block, in release builds) must not take the window. Go: the stranger
 * is not a deferred call, its recover returns nil, and the outer deferred recover gets "A". */
static hrc_obj_t *g_ignores(hrc_closure_t *self, hrc_obj_t *x) {
  (void)x;
  done(self);
  note('g');
  return NULL;
}

static hrc_obj_t *stranger_code(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  hrc_obj_t *v = hrc_recover(tok);
  note(v == NULL ? 's' : 'S'); /* S: a stranger recovered the panic */
  hrc_xdrop(v);
  return NULL;
}

/* Closures of g's size allocated until one lands in g's old block (at most STRANGERS). */
#define STRANGERS 4096
static hrc_closure_t *strangers[STRANGERS];

/* The thunk of `defer g(1)` in a loop: an inline record closure, whose code borrows self and
 * takes its captured g over, so g is unique and its owned call frees it. */
static hrc_obj_t *forward_then_stranger(hrc_closure_t *self) {
  hrc_closure_t *g = (hrc_closure_t *)self->env[0];
  uintptr_t g_block = (uintptr_t)g;
  hrc_recover_forward(self, g);
  hrc_xdrop(hrc_call1(g, hrc_box_int(1)));
  size_t n = 0;
  do strangers[n++] = hrc_closure_alloc((hrc_code_t)stranger_code, 0, 0); /* g's size */
  while ((uintptr_t)strangers[n - 1] != g_block && n < STRANGERS);
  hrc_closure_t *h = strangers[--n]; /* in g's block if the caches handed it out again */
  while (n > 0) hrc_drop(&strangers[--n]->header);
  return hrc_call0(h);
}

static hrc_obj_t *recover_a(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  hrc_obj_t *v = hrc_recover(tok);
  note(is_text(v, "A") ? 'a' : '?');
  hrc_xdrop(v);
  return NULL;
}

Test(recover, a_closure_in_a_forwarded_callees_block_does_not_recover) {
  reset_trail();
  int64_t live0 = hrc_live_objects();
  for (volatile int round = 0; round < 3; round++) {
    hrc_frame_t fr;
    hrc_landing_t land;
    ENTER_LANDING(fr, land);
    hrc_defer_heap(&fr, clo0(recover_a));
    hrc_closure_t *t = hrc_defer_heap_closure(&fr, (hrc_code_t)forward_then_stranger, 1, 0);
    t->env[0] = &hrc_closure_alloc((hrc_code_t)g_ignores, 0, 0)->header;
    hrc_panic_str("A");
  out:
    hrc_frame_exit(&fr);
  }
  cr_assert(eq(str, trail, "gsagsagsa"));
  if (HRC_COUNTING) cr_assert(eq(i64, hrc_live_objects() - live0, 0));
}

/* Recover outside any panic returns nothing (a token no deferred call was given is misuse:
 * test_misuse.c). */
Test(recover, outside_a_panic_returns_nothing) {
  cr_assert(hrc_recover(HRC_NO_RECOVER) == NULL);
}

/* ---- recover1.go: nested and sequential panics ---- */

static hrc_obj_t *nested_2(hrc_closure_t *self) { /* defer mustRecover(2); panic(2) */
  done(self);
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo1(must_recover_thunk, 2));
  hrc_panic(hrc_box_int(2));
out:
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  return NULL;
}

static void recover1_test1(void) { /* easy nested recursive panic */
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo1(must_recover_thunk, 1));
  hrc_defer_open(&fr, 1, clo0(nested_2));
  hrc_panic(hrc_box_int(1));
out:
  hrc_defer_run_slot(&fr, 1);
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
}

static hrc_obj_t *sequential_3(hrc_closure_t *self) { /* v := recover() == 2; defer mustRecover(3); panic(3) */
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  hrc_obj_t *v = hrc_recover(tok);
  cr_assert(v != NULL && int_of(v) == 2);
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo1(must_recover_thunk, 3));
  hrc_panic(hrc_box_int(3));
out:
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  return NULL;
}

static void recover1_test2(void) { /* sequential panic */
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo0(must_not_recover_thunk));
  hrc_defer_open(&fr, 1, clo0(sequential_3));
  hrc_panic(hrc_box_int(2));
out:
  hrc_defer_run_slot(&fr, 1);
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
}

/* test6: defer recover(); defer mustRecover(3); panic(3): mustRecover takes 3, then the
 * deferred recover, run by this closure's normal exit, takes 2. */
static hrc_obj_t *test6_inner(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo1(recover_thunk, (intptr_t)tok));
  hrc_defer_open(&fr, 1, clo1(must_recover_thunk, 3));
  hrc_panic(hrc_box_int(3));
out:
  hrc_defer_run_slot(&fr, 1);
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  return NULL;
}

static void recover1_test6(void) {
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo0(must_not_recover_thunk));
  hrc_defer_open(&fr, 1, clo0(test6_inner));
  hrc_panic(hrc_box_int(2));
out:
  hrc_defer_run_slot(&fr, 1);
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
}

/* test7: the same with the defers swapped: the deferred recover now runs for panic 3, not
 * called by the closure that panic 2 invoked, so it is a no-op. */
static hrc_obj_t *test7_inner(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo1(must_recover_thunk, 3));
  hrc_defer_open(&fr, 1, clo1(recover_thunk, (intptr_t)tok));
  hrc_panic(hrc_box_int(3));
out:
  hrc_defer_run_slot(&fr, 1);
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  return NULL;
}

static void recover1_test7(void) {
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo1(must_recover_thunk, 2));
  hrc_defer_open(&fr, 1, clo0(test7_inner));
  hrc_panic(hrc_box_int(2));
out:
  hrc_defer_run_slot(&fr, 1);
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
}

Test(recover, nested_and_sequential_panics_are_both_recovered) {
  recover1_test1();
  recover1_test2();
  recover1_test6();
  recover1_test7();
}

/* ---- defer_test.go ---- */

/* TestAbortedPanic: panic2, raised by a deferred call of panic1, runs the rest of the frame's
 * defers; recovering it ends panic1 too, so the last recover finds nothing. */
static hrc_obj_t *wants_nil(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  cr_assert(hrc_recover(tok) == NULL, "panic1 should have been aborted");
  note('n');
  return NULL;
}

static hrc_obj_t *wants_panic2(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  hrc_obj_t *v = hrc_recover(tok);
  cr_assert(is_text(v, "panic2"), "wanted panic2");
  hrc_drop(v);
  note('2');
  return NULL;
}

static hrc_obj_t *panics_text(hrc_closure_t *self) {
  const char *msg = (const char *)word(self, 0);
  done(self);
  hrc_panic_str(msg);
}

Test(defer, aborted_panic) {
  reset_trail();
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo0(wants_nil));
  hrc_defer_open(&fr, 1, clo0(wants_panic2));
  hrc_defer_open(&fr, 2, clo1(panics_text, (intptr_t) "panic2"));
  hrc_panic_str("panic1");
out:
  hrc_defer_run_slot(&fr, 2);
  hrc_defer_run_slot(&fr, 1);
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  cr_assert(eq(str, trail, "2n"));
}

/* TestRecoverMatching: a closure deferred by the deferred call is not called by the panic. */
static hrc_obj_t *inner_wants_nil(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  cr_assert(hrc_recover(tok) == NULL, "recover in a defer of a defer must not succeed");
  note('i');
  return NULL;
}

static hrc_obj_t *defers_inner(hrc_closure_t *self) {
  done(self);
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  hrc_defer_open(&fr, 0, clo0(inner_wants_nil));
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  return NULL;
}

static hrc_obj_t *wants_panic1(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  hrc_obj_t *v = hrc_recover(tok);
  cr_assert(is_text(v, "panic1"), "wanted panic1");
  hrc_drop(v);
  note('1');
  return NULL;
}

Test(defer, recover_matching) {
  reset_trail();
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo0(wants_panic1));
  hrc_defer_open(&fr, 1, clo0(defers_inner));
  hrc_panic_str("panic1");
out:
  hrc_defer_run_slot(&fr, 1);
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  cr_assert(eq(str, trail, "i1"));
}

/* TestDeferWithRepeatedRepanics: interpreter(level, maxlevel, rec) re-panics from each level
 * until the level named by the value recovers; recurseFnPanicRec recovers a deep panic. */
static hrc_obj_t *interpreter_defer(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  intptr_t level = word(self, 0);
  done(self);
  hrc_obj_t *e = hrc_recover(tok);
  if (e == NULL) return NULL;
  if (level != int_of(e)) hrc_panic(e); /* re-panic */
  return NULL;
}

static void interpreter(intptr_t level, intptr_t maxlevel, intptr_t rec) {
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo1(interpreter_defer, level));
  if (level + 1 < maxlevel) interpreter(level + 1, maxlevel, rec);
  else hrc_panic(hrc_box_int(rec));
out:
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
}

static volatile uint32_t save_int;
static volatile bool deepest_panics = true; /* so that recurse_fn may return, for gcc */

static void recurse_fn(int level, int maxlevel) {
  uint32_t a[40];
  for (int i = 0; i < 40; i++) a[i] = (uint32_t)level;
  if (level + 1 < maxlevel) {
    save_int = a[4];
    recurse_fn(level + 1, maxlevel);
  } else if (deepest_panics) {
    hrc_panic_str("recurseFn panic");
  }
}

static void recurse_fn_panic_rec(int level, int maxlevel) {
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo0(squelch));
  recurse_fn(level, maxlevel);
out:
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
}

Test(defer, repeated_repanics_through_recursive_frames) {
  interpreter(0, 6, 2);
  recurse_fn_panic_rec(0, 10);
  interpreter(0, 5, 1);
  recurse_fn_panic_rec(0, 10);
  interpreter(0, 6, 3);
  recurse_fn_panic_rec(0, 10);
  cr_assert(hrc_tls_defer->top == NULL && hrc_tls_defer->panic == NULL);
}

/* TestConditionalDefers: defer doappend(1); if n > 5 { defer doappend(2); if n > 8 {
 * defer doappend(3) } else { defer doappend(4) } }; panic(myError): [4 2 1]. */
static void conditional_defers(int n) {
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  hrc_defer_open(&fr, 0, clo1(note_code, '1'));
  if (n > 5) {
    hrc_defer_open(&fr, 1, clo1(note_code, '2'));
    if (n > 8) hrc_defer_open(&fr, 2, clo1(note_code, '3'));
    else hrc_defer_open(&fr, 3, clo1(note_code, '4'));
  }
  hrc_panic_str("myError");
}

static hrc_obj_t *wants_my_error(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  hrc_obj_t *v = hrc_recover(tok);
  cr_assert(is_text(v, "myError"), "expected panic");
  hrc_drop(v);
  cr_assert(eq(str, trail, "421"));
  note('.');
  return NULL;
}

Test(defer, conditional_defers_421) {
  reset_trail();
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo0(wants_my_error));
  conditional_defers(8);
out:
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  cr_assert(eq(str, trail, "421."));
}

/* test/defernil.go: deferring a nil function panics only when the call is made, at exit. */
static void defer_nil(volatile int *x, volatile int *y) {
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  hrc_closure_t *nilf = NULL;
  *x = 1;
  hrc_defer_open(&fr, 0, nilf);
  *y = 2;
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  cr_fail("the nil deferred call should have panicked");
}

static hrc_obj_t *wants_nil_call_error(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  hrc_obj_t *v = hrc_recover(tok);
  cr_assert(v != NULL, "did not panic");
  cr_assert(eq(u32, v->tag, HRC_TAG_ERROR));
  cr_assert(strstr(hrc_value_text(v), "nil pointer dereference") != NULL);
  hrc_drop(v);
  note('p');
  return NULL;
}

Test(defer, nil_function_panics_when_called) {
  volatile int x = 0, y = 0;
  reset_trail();
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo0(wants_nil_call_error));
  defer_nil(&x, &y);
out:
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  cr_assert(eq(int, x, 1));
  cr_assert(eq(int, y, 2));
  cr_assert(eq(str, trail, "p"));
}

/* The same with a record, and while a panic runs the frame (heap record holding NULL). */
Test(defer, nil_function_in_a_record_panics) {
  reset_trail();
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_heap(&fr, clo0(wants_nil_call_error));
  hrc_defer_heap(&fr, NULL);
  hrc_panic_str("first");
out:
  hrc_frame_exit(&fr);
  cr_assert(eq(str, trail, "p"));
}

/* panic(nil) panics with a runtime error, as in Go 1.21. */
Test(recover, panic_nil_is_a_runtime_error) {
  hrc_frame_t fr;
  hrc_landing_t land;
  volatile bool seen = false;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo0(squelch));
  hrc_panic(NULL);
out:
  seen = true;
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  cr_assert(seen);
}

/* ---- thread exit (Goexit) ---- */

static hrc_obj_t *wants_nil_in_exit(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  cr_assert(hrc_recover(tok) == NULL, "thread exit cannot be recovered");
  note('x');
  return NULL;
}

static void exit_inner(void) {
  hrc_frame_t fr;
  hrc_defer_rec_t rec;
  hrc_frame_enter(&fr);
  hrc_defer_stack(&fr, &rec, clo1(note_code, 'b'));
  hrc_defer_heap(&fr, clo0(wants_nil_in_exit));
  hrc_thread_exit();
}

static void *exit_thread(void *arg) {
  (void)arg;
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  hrc_defer_open(&fr, 0, clo1(note_code, 'a'));
  exit_inner();
  note('!'); /* never */
  return NULL;
}

Test(goexit, runs_every_defer_and_ends_the_thread) {
  reset_trail();
  pthread_t t;
  cr_assert(eq(int, hrc_thread_create(&t, NULL, exit_thread, NULL), 0));
  hrc_thread_join(t, NULL);
  cr_assert(eq(str, trail, "xba"));
}

/* TestRecoverBeforePanicAfterGoexit: the exit runs a deferred call that panics; a deferred
 * recover below takes that panic, and the exit goes on instead of returning. */
static hrc_obj_t *must_recover_hello(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  hrc_obj_t *v = hrc_recover(tok);
  cr_assert(is_text(v, "hello"), "bad recover");
  hrc_drop(v);
  note('r');
  return NULL;
}

static void *exit_panic_thread(void *arg) {
  (void)arg;
  hrc_frame_t outer;
  hrc_landing_t outer_land;
  ENTER_LANDING(outer, outer_land);
  hrc_defer_open(&outer, 0, clo1(note_code, 'o'));
  {
    hrc_frame_t fr;
    hrc_landing_t land;
    hrc_frame_enter(&fr);
    if (HRC_FRAME_LANDING(&fr, &land)) {
      note('L'); /* never: the exit resumes instead */
      return NULL;
    }
    hrc_defer_open(&fr, 0, clo1(note_code, 'a'));
    hrc_defer_open(&fr, 1, clo0(must_recover_hello));
    hrc_defer_open(&fr, 2, clo1(panics_text, (intptr_t) "hello"));
    hrc_thread_exit();
  }
out:
  note('!');
  return NULL;
}

Test(goexit, a_recovered_panic_resumes_the_exit) {
  reset_trail();
  pthread_t t;
  cr_assert(eq(int, hrc_thread_create(&t, NULL, exit_panic_thread, NULL), 0));
  hrc_thread_join(t, NULL);
  cr_assert(eq(str, trail, "rao"));
}

/* ---- unrecovered panics: the exact output and status 2 (crash_test.go) ---- */

/* A crash scenario, passed to run_in_child (common.h) through its data pointer. */
typedef struct scenario_s {
  void (*fn)(void);
} scenario_t;

static void call_scenario(void *s) { ((scenario_t *)s)->fn(); }

static void expect_crash(void (*fn)(void), const char *want) {
  char out[4096];
  scenario_t scenario = {fn};
  int status = run_in_child(call_scenario, &scenario, true, out, sizeof out);
  bool exited_2 = WIFEXITED(status) && WEXITSTATUS(status) == 2;
  cr_assert(exited_2, "status %d, output:\n%s", status, out);
  cr_assert(eq(str, out, (char *)want));
}

/* fmt.Println(recover()) */
static hrc_obj_t *print_recover(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  hrc_obj_t *v = hrc_recover(tok);
  printf("%s\n", v != NULL ? hrc_value_text(v) : "<nil>");
  hrc_xdrop(v);
  return NULL;
}

/* RecursivePanic */
static hrc_obj_t *wrap_panic(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  hrc_obj_t *err = hrc_recover(tok);
  if (err != NULL) {
    char msg[64];
    snprintf(msg, sizeof msg, "wrap: %s", hrc_value_text(err));
    hrc_drop(err);
    hrc_panic_str(msg);
  }
  return NULL;
}

static void recursive_panic_inner(void) {
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  hrc_defer_open(&fr, 0, clo0(wrap_panic));
  hrc_panic_str("bad");
}

static void recursive_panic(void) {
  {
    hrc_frame_t fr;
    hrc_landing_t land;
    ENTER_LANDING(fr, land);
    hrc_defer_open(&fr, 0, clo0(print_recover));
    recursive_panic_inner();
  out:
    hrc_defer_run_slot(&fr, 0);
    hrc_frame_leave(&fr);
  }
  hrc_panic_str("again");
}

/* RecursivePanic2 */
static void recursive_panic2_inner(void) {
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo1(panics_text, (intptr_t) "second panic"));
  hrc_defer_open(&fr, 1, clo0(print_recover));
  hrc_panic_str("first panic");
out:
  hrc_defer_run_slot(&fr, 1);
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
}

static void recursive_panic2(void) {
  {
    hrc_frame_t fr;
    hrc_landing_t land;
    ENTER_LANDING(fr, land);
    hrc_defer_open(&fr, 0, clo0(print_recover));
    recursive_panic2_inner();
  out:
    hrc_defer_run_slot(&fr, 0);
    hrc_frame_leave(&fr);
  }
  hrc_panic_str("third panic");
}

/* RecursivePanic3: the second panic is recovered inside the deferred call; the first goes on. */
static hrc_obj_t *panic_then_recover_inside(hrc_closure_t *self) {
  done(self);
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo0(squelch));
  hrc_panic_str("second panic");
out:
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  return NULL;
}

static void recursive_panic3(void) {
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  hrc_defer_open(&fr, 0, clo0(panic_then_recover_inside));
  hrc_panic_str("first panic");
}

/* RecursivePanic4: recover, then panic again in the same deferred call. */
static hrc_obj_t *recover_then_panic(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  hrc_xdrop(hrc_recover(tok));
  hrc_panic_str("second panic");
}

static void recursive_panic4(void) {
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  hrc_defer_open(&fr, 0, clo0(recover_then_panic));
  hrc_panic_str("first panic");
}

/* RecursivePanic5: one -> two (a defer) -> three (three defers; the last recovers and
 * panics again, the middle one recovers that). */
static hrc_obj_t *print_recover_then_panic(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  done(self);
  hrc_obj_t *v = hrc_recover(tok);
  printf("%s\n", v != NULL ? hrc_value_text(v) : "<nil>");
  hrc_xdrop(v);
  hrc_panic_str("second panic");
}

static void rp5_three(void) {
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  hrc_defer_open(&fr, 0, clo0(does_nothing));
  hrc_defer_open(&fr, 1, clo0(print_recover));
  hrc_defer_open(&fr, 2, clo0(print_recover_then_panic));
  hrc_panic_str("first panic");
out:
  hrc_defer_run_slot(&fr, 2);
  hrc_defer_run_slot(&fr, 1);
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
}

static void rp5_two(void) {
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  hrc_defer_open(&fr, 0, clo0(does_nothing));
  rp5_three();
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
}

static void recursive_panic5(void) {
  rp5_two(); /* one() */
  hrc_panic_str("third panic");
}

/* TestPanicTraceback: pt1 -> pt2; each defers a panic. */
static void pt2(void) {
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  hrc_defer_open(&fr, 0, clo1(panics_text, (intptr_t) "panic pt2"));
  hrc_panic_str("hello");
}

static void panic_traceback(void) {
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  hrc_defer_open(&fr, 0, clo1(panics_text, (intptr_t) "panic pt1"));
  pt2();
}

/* TestPanicAfterGoexit: a deferred call run by the exit panics, and nothing recovers it. */
static void panic_after_exit(void) {
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  hrc_defer_open(&fr, 0, clo1(panics_text, (intptr_t) "hello"));
  hrc_thread_exit();
}

static hrc_obj_t *print_trail(hrc_closure_t *self) {
  done(self);
  printf("ran %s\n", trail);
  return NULL;
}

static void panic_after_defers(void) {
  reset_trail();
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  hrc_defer_open(&fr, 0, clo0(print_trail));
  hrc_defer_open(&fr, 1, clo1(note_code, 'd'));
  hrc_panic(hrc_box_int(42));
}

static void panic_nil_unrecovered(void) { hrc_panic(NULL); }

Test(panic_exit, recursive_panic) { expect_crash(recursive_panic, "wrap: bad\npanic: again\n"); }

Test(panic_exit, recursive_panic2) {
  expect_crash(recursive_panic2, "first panic\nsecond panic\npanic: third panic\n");
}

Test(panic_exit, recursive_panic3) { expect_crash(recursive_panic3, "panic: first panic\n"); }

Test(panic_exit, recursive_panic4) {
  expect_crash(recursive_panic4, "panic: first panic [recovered]\n\tpanic: second panic\n");
}

Test(panic_exit, recursive_panic5) {
  expect_crash(recursive_panic5, "first panic\nsecond panic\npanic: third panic\n");
}

Test(panic_exit, panic_traceback_chain) {
  expect_crash(panic_traceback, "panic: hello\n\tpanic: panic pt2\n\tpanic: panic pt1\n");
}

Test(panic_exit, panic_after_thread_exit) { expect_crash(panic_after_exit, "panic: hello\n"); }

Test(panic_exit, defers_run_before_the_exit) {
  expect_crash(panic_after_defers, "ran d\npanic: 42\n");
}

Test(panic_exit, panic_nil) { expect_crash(panic_nil_unrecovered, "panic: panic called with nil argument\n"); }

/* ---- misuse: one clear line ---- */

static void recover_without_landing(void *arg) {
  (void)arg;
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  hrc_defer_open(&fr, 0, clo0(squelch));
  hrc_panic_str("lost");
}

Test(misuse, a_recover_in_a_frame_without_landing_is_fatal) {
  expect_fatal(recover_without_landing, NULL, "set no landing");
}

#if HRC_DEBUG
static void leave_out_of_order(void *arg) {
  (void)arg;
  hrc_frame_t outer, inner;
  hrc_frame_enter(&outer);
  hrc_frame_enter(&inner);
  hrc_frame_leave(&outer);
}

static void leave_with_pending(void *arg) {
  (void)arg;
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  hrc_defer_open(&fr, 0, clo0(does_nothing));
  hrc_frame_leave(&fr);
}

Test(misuse, frames_left_out_of_order_or_pending_are_fatal_when_checked) {
  expect_fatal(leave_out_of_order, NULL, "left out of order");
  expect_fatal(leave_with_pending, NULL, "deferred calls pending");
}
#endif

/* ---- stress and liveness ---- */

/* TestDeferHeapAndStack: deferHeapAndStack(n) computes 2*n with heap records on even levels
 * and stack records on odd ones, allocating 1 KiB per level. */
static hrc_obj_t *incr(hrc_closure_t *self) {
  intptr_t *r = (intptr_t *)word(self, 0);
  done(self);
  (*r)++;
  return NULL;
}

static intptr_t defer_heap_and_stack(int n) {
  intptr_t r = 0; /* the named result: the deferred calls add to it after `return` */
  if (n == 0) return 0;
  hrc_frame_t fr;
  hrc_defer_rec_t recs[2];
  hrc_frame_enter(&fr);
  if (n % 2 == 0) {
    for (int i = 0; i < 2; i++) hrc_defer_heap(&fr, clo1(incr, (intptr_t)&r));
  } else {
    hrc_defer_stack(&fr, &recs[0], clo1(incr, (intptr_t)&r));
    hrc_defer_stack(&fr, &recs[1], clo1(incr, (intptr_t)&r));
  }
  r = defer_heap_and_stack(n - 1);
  hrc_drop(hrc_bytes_obj(hrc_bytes_alloc(1024))); /* escapeMe(new([1024]byte)) */
  hrc_frame_exit(&fr);
  return r;
}

static atomic_int heap_and_stack_failures;

static void *heap_and_stack_worker(void *arg) {
  int iterations = (int)(intptr_t)arg;
  for (int i = 0; i < iterations; i++)
    if (defer_heap_and_stack(200) != 400) atomic_fetch_add(&heap_and_stack_failures, 1);
  return NULL;
}

Test(stress, heap_and_stack_defers_on_4_threads, .timeout = 600) {
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    cr_assert(eq(int, hrc_thread_create(&t[i], NULL, heap_and_stack_worker, (void *)10000), 0));
  for (int i = 0; i < 4; i++) hrc_thread_join(t[i], NULL);
  cr_assert(eq(int, atomic_load(&heap_and_stack_failures), 0));
}

/* LLGo's TestDeferLoopStress: 1,000,000 loop defers in one frame, collections forced while
 * they are pending; each captures a fresh cell, so a reclaimed record, closure or cell shows
 * up as a wrong count or sum once the memory is reused. */
typedef struct loop_totals_s {
  int64_t count, sum;
} loop_totals_t;

static hrc_obj_t *count_cell(hrc_closure_t *self) {
  loop_totals_t *t = (loop_totals_t *)word(self, 0);
  hrc_obj_t *cell = self->env[0];
  cr_assert(eq(u32, cell->tag, CONS_TAG), "a pending cell was reclaimed");
  t->count++;
  t->sum += int_of(as_cons(cell)->head);
  done(self);
  return NULL;
}

static void loop_stress(loop_totals_t *t, int n) {
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  for (int i = 0; i < n; i++) {
    hrc_closure_t *c = hrc_closure_alloc((hrc_code_t)count_cell, 1, sizeof(intptr_t));
    c->env[0] = mk_cons(hrc_box_int(i), hrc_box_int(0));
    intptr_t tp = (intptr_t)t;
    memcpy(hrc_closure_scalars(c), &tp, sizeof tp);
    hrc_defer_heap(&fr, c);
    if (i % 100000 == 99999) hrc_collect();
  }
  hrc_frame_exit(&fr);
}

Test(stress, a_million_loop_defers_survive_collections, .init = remember_live, .timeout = 600) {
  loop_totals_t t = {0, 0};
  loop_stress(&t, 1000000);
  cr_assert(eq(i64, t.count, 1000000));
  cr_assert(eq(i64, t.sum, (int64_t)999999 * 1000000 / 2));
#if HRC_COUNTING
  cr_assert(eq(i64, live_delta(), 0), "records, closures and cells are all freed");
#endif
}

/* TestDeferLiveness: a closure capturing x stays intact through three collections while its
 * defer is pending, and x is released when it has run. */
static hrc_obj_t *check_42(hrc_closure_t *self) {
  hrc_scalars_t *x = (hrc_scalars_t *)self->env[0];
  cr_assert(eq(u32, x->header.tag, HRC_TAG_SCALARS));
  cr_assert(eq(i64, ((int64_t *)x->data)[0], 42), "FAIL");
  done(self);
  note('v');
  return NULL;
}

static void defer_liveness(void) {
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  hrc_scalars_t *x = hrc_scalars_alloc(10, sizeof(int64_t));
  hrc_closure_t *fn = hrc_closure_alloc((hrc_code_t)check_42, 1, 0);
  fn->env[0] = hrc_scalars_obj(x);
  hrc_defer_open(&fr, 0, fn);
  ((int64_t *)x->data)[0] = 42;
  for (int i = 0; i < 3; i++) {
    hrc_collect();
    for (int j = 0; j < 20000; j++) hrc_drop(mk_cons(hrc_box_int(j), hrc_box_int(j)));
  }
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
}

Test(stress, captured_values_live_while_pending, .init = remember_live) {
  reset_trail();
  defer_liveness();
  cr_assert(eq(str, trail, "v"));
#if HRC_COUNTING
  cr_assert(eq(i64, live_delta(), 0));
#endif
}

#if HRC_WITH_STATS
static int64_t stat_of(size_t offset) {
  hrc_stats_report_t r;
  hrc_stats_get(&r);
  return *(int64_t *)((char *)&r + offset);
}
#define STAT(name) stat_of(offsetof(hrc_stats_report_t, name))

/* A loop defer whose closure rides in its record: the thunk borrows self and takes the
 * captured cell over (it runs exactly once). */
static hrc_obj_t *inline_note_cell(hrc_closure_t *self) {
  hrc_obj_t *cell = self->env[0];
  note((char)int_of(as_cons(cell)->head));
  hrc_drop(cell);
  return NULL;
}

static void loop_inline_defers(int n) {
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  for (int i = 0; i < n; i++) {
    hrc_closure_t *c = hrc_defer_heap_closure(&fr, (hrc_code_t)inline_note_cell, 1, 0);
    c->env[0] = mk_cons(hrc_box_int('0' + i), hrc_box_int(0));
  }
  hrc_frame_exit(&fr);
}

/* After the calls run, records are popped and their memory reused in place, and closure
 * environments are freed: stats and the record stack prove both. */
Test(stress, records_and_environments_are_freed_and_reused, .init = remember_live) {
  reset_trail();
  loop_defers(5); /* the thread's record stack exists from here on */
  int64_t allocs0 = STAT(allocs), records0 = STAT(defer_records);
#if HRC_COUNTING
  int64_t frees0 = STAT(frees);
#endif
  int64_t run0 = STAT(defers_run);
  for (int round = 0; round < 100; round++) {
    reset_trail();
    loop_defers(10);
    cr_assert(eq(str, trail, "9876543210"));
  }
  int64_t run = STAT(defers_run) - run0, records = STAT(defer_records) - records0;
  cr_assert(eq(i64, run, 1000));
  cr_assert(eq(i64, records, 1000));
  cr_assert(eq(i64, hrc_defer_records_bytes(), 0), "every record popped");
#if HRC_COUNTING
  int64_t frees = STAT(frees) - frees0, allocs = STAT(allocs) - allocs0;
  cr_assert(eq(i64, allocs, 1000), "one closure per defer, no record allocated");
  cr_assert(eq(i64, frees, 1000), "each environment freed after its call");
  cr_assert(eq(i64, live_delta(), 0));
#endif
  allocs0 = STAT(allocs);
  for (int round = 0; round < 100; round++) {
    reset_trail();
    loop_inline_defers(10);
    cr_assert(eq(str, trail, "9876543210"));
  }
  int64_t cells = STAT(allocs) - allocs0;
  cr_assert(eq(i64, cells, 1000), "inline closures: only the captured cells are allocated");
  cr_assert(eq(i64, hrc_defer_records_bytes(), 0));
#if HRC_COUNTING
  cr_assert(eq(i64, live_delta(), 0));
#endif
}
#endif

/* A recover lands in a frame whose records sit below records of the aborted calls above it:
 * the record stack's top goes back to the frame's newest pending record. */
static hrc_obj_t *defers_then_panics(hrc_closure_t *self) {
  done(self);
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  for (int i = 0; i < 5000; i++) hrc_defer_heap_closure(&fr, (hrc_code_t)does_nothing, 0, 0);
  hrc_panic_str("deep");
}

static hrc_obj_t *does_nothing_borrowed(hrc_closure_t *self) {
  (void)self;
  note('.');
  return NULL;
}

Test(stress, a_landing_resets_the_record_stack) {
  reset_trail();
  size_t before = hrc_defer_records_bytes();
  hrc_frame_t fr;
  hrc_landing_t land;
  ENTER_LANDING(fr, land);
  for (int i = 0; i < 3000; i++) hrc_defer_heap_closure(&fr, (hrc_code_t)does_nothing_borrowed, 0, 0);
  hrc_defer_heap(&fr, clo0(squelch));
  hrc_defer_heap(&fr, clo0(defers_then_panics));
  hrc_panic_str("first");
out:
  cr_assert(hrc_defer_records_bytes() > before, "the 3000 pending records remain");
  hrc_frame_exit(&fr);
  cr_assert(eq(u64, hrc_defer_records_bytes(), before));
  cr_assert(eq(u64, trail_len, 255)); /* the trail holds 255 of the 3000 notes */
}
