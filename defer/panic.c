/* panic.c: panic, recover and thread exit with Go's semantics.
 *
 * hrc_panic runs the chain's pending deferred calls newest first *on top of* the panicking
 * stack, so deferred code may still use the frames below it. It unwinds only when a deferred
 * call has recovered: then every panic started at or above the frame that deferred that call
 * ends (defer_internal.h), and control lands in that frame (_longjmp), which runs its
 * remaining deferred calls and returns. A panic raised by a deferred call simply starts over
 * from the top of the chain: it runs what the first one had left, which is how Go's newer
 * panic aborts an older one. hrc_thread_exit is a panic that cannot be recovered and ends the
 * thread instead of the process; a recover of a later panic landing at or below the frame
 * that called it resumes the exit instead of returning (Go's Goexit does the same).
 *
 * An invoked deferred call's closure is held (one extra reference, on the panic record) until
 * the call returns, so no other closure can be allocated at its address meanwhile and take its
 * recover window (hrc_recover_token compares addresses); so is the closure the window was
 * forwarded to (`defer g(x)` with a closure value g: g frees itself when it returns without
 * recovering, and a fresh closure in g's block would otherwise take the window;
 * tests/test_defer.c "a_closure_in_a_forwarded_callees_block_does_not_recover"). Panic values and
 * held closures are released when their panic ends; values that frames discarded by a landing owned
 * are not (see docs/lowering.md).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "defer_internal.h"

static hrc_panic_printer_t user_printer;

void hrc_panic_set_printer(hrc_panic_printer_t printer) { user_printer = printer; }

hrc_obj_t *hrc_error_new(const char *msg) {
  hrc_bytes_t *text = hrc_bytes_from(msg, strlen(msg));
  hrc_error_t *e = (hrc_error_t *)hrc_alloc(sizeof *e, HRC_TAG_ERROR, 1);
  e->message = hrc_bytes_obj(text);
  hrc_set_acyclic(&e->header);
  return &e->header;
}

const char *hrc_value_text(hrc_obj_t *v) {
  if (v == NULL || hrc_is_scalar(v)) return NULL;
  if (v->tag == HRC_TAG_BYTES) return ((hrc_bytes_t *)v)->data;
  if (v->tag == HRC_TAG_ERROR) return hrc_value_text(((hrc_error_t *)v)->message);
  return NULL;
}

/* A panic value as Go's printpanicval would show it. */
static void print_value(FILE *out, hrc_obj_t *v) {
  const char *text = hrc_value_text(v);
  if (text != NULL) fputs(text, out);
  else if (hrc_is_scalar(v)) fprintf(out, "%" PRIdPTR, hrc_unbox_int(v));
  else if (user_printer != NULL) user_printer(out, v);
  else fprintf(out, "(object of tag %u at %p)", (unsigned)v->tag, (void *)v);
}

/* The chain oldest first, later ones indented, as Go's printpanics; thread exits print
 * nothing. */
static void print_chain(FILE *out, hrc_panic_t *p) {
  if (p->link != NULL) {
    print_chain(out, p->link);
    if (!p->link->goexit) fputc('\t', out);
  }
  if (p->goexit) return;
  fputs("panic: ", out);
  print_value(out, p->value);
  if (p->recovered) fputs(" [recovered]", out);
  fputc('\n', out);
}

/* A panic is over: release what its record owns. */
static void end_panic(hrc_panic_t *p) {
  if (p->value != NULL) hrc_drop(p->value);
  if (p->held != NULL) hrc_obj_drop(&p->held->header);
  if (p->forwarded != NULL) hrc_obj_drop(&p->forwarded->header);
  p->value = NULL;
  p->held = NULL;
  p->forwarded = NULL;
}

static HRC_NORETURN void run_deferred(hrc_defer_state_t *st, hrc_panic_t *p);

/* Nothing is left to run: an unrecovered panic ends the process with status 2 after printing
 * the chain; a thread exit ends the thread. */
static HRC_NORETURN void finish(hrc_defer_state_t *st, hrc_panic_t *p) {
  if (!p->goexit) {
    fflush(NULL); /* what the program printed comes before the chain */
    flockfile(stderr);
    print_chain(stderr, p);
    fflush(stderr);
    funlockfile(stderr);
    _exit(2); /* like Go: no exit handlers (other threads may still be running) */
  }
  for (hrc_panic_t *q = p->link; q != NULL; q = q->link) end_panic(q); /* abandoned */
  st->panic = NULL;
  st->invoking = NULL;
  if (hrc_thread_is_main()) hrc_thread_main_exit();
  hrc_heap_thread_end(); /* through the heap, which may track threads */
}

/* A landing abandons what the frames above it owned (C does not unwind): garbage only the
 * backstop finds. Hybrid counts it as evidence, as many candidates as start a collection once
 * the heap has grown (heap/bdwgc/policy.c's HRC_GC_EVIDENCE_MIN). */
#define LANDING_EVIDENCE 64u

/* A deferred call of fr recovered p: end the panics started at or above fr and land there;
 * or, when a thread exit is among them, go on with that exit instead. */
static HRC_NORETURN void land(hrc_defer_state_t *st, hrc_frame_t *fr) {
  HRC_STAT_ADD(recovers, 1);
  if (HRC_COUNTING && HRC_HEAP_TRACED) hrc_tls_cycle_candidates += LANDING_EVIDENCE;
  hrc_panic_t *q = st->panic;
  while (q != NULL && (uintptr_t)q < (uintptr_t)fr) {
    if (q->goexit) {
      st->panic = q;
      run_deferred(st, q);
    }
    end_panic(q);
    q = q->link;
  }
  if (fr->landing == NULL)
    hrc_fatal("a deferred call of frame %p recovered a panic, but the frame set no landing "
              "(HRC_FRAME_LANDING)",
              (void *)fr);
  st->panic = q;
  st->invoking = NULL;
  hrc_defer_reset_records(st, fr);
  _longjmp(fr->landing->jb, 1);
}

/* Invoke a deferred call for p: a fresh recover window, the closure held until it returns. */
static void invoke(hrc_defer_state_t *st, hrc_panic_t *p, hrc_closure_t *fn) {
  if (fn == NULL) hrc_defer_nil_cold();
  p->call = ++st->serial;
  st->invoking = fn;
  st->invoking_call = p->call;
  p->held = (hrc_closure_t *)hrc_obj_dup(&fn->header);
  HRC_STAT_ADD(defers_run, 1);
  hrc_obj_t *result = hrc_call0(fn);
  st->invoking = NULL;
  p->held = NULL;
  hrc_closure_t *forwarded = p->forwarded;
  p->forwarded = NULL;
  hrc_xdrop(result);
  hrc_obj_drop(&fn->header);
  if (forwarded != NULL) hrc_obj_drop(&forwarded->header);
}

/* hrc_recover_forward's window names callee: hold callee until the invoked call returns,
 * releasing the closure the window named before (a chain of forwards holds only the last). */
void hrc_panic_hold_forwarded(hrc_defer_state_t *st, hrc_closure_t *callee) {
  hrc_panic_t *p = st->panic;
  hrc_closure_t *old = p->forwarded;
  p->forwarded = callee == NULL ? NULL : (hrc_closure_t *)hrc_obj_dup(&callee->header);
  if (old != NULL) hrc_obj_drop(&old->header);
}

/* The panic loop: the newest pending call of the newest frame, until one recovers. */
static void run_deferred(hrc_defer_state_t *st, hrc_panic_t *p) {
  for (;;) {
    hrc_frame_t *fr = st->top;
    if (fr == NULL) finish(st, p);
    hrc_frame_check_live(fr, p->bound);
    hrc_closure_t *fn;
    hrc_defer_rec_t *rec;
    if (!hrc_frame_take(fr, &fn, &rec)) {
      st->top = fr->prev;
      continue;
    }
    invoke(st, p, fn);
    if (rec != NULL) hrc_defer_pop_unwound(rec);
    if (p->recovered) land(st, fr);
  }
}

/* Start a panic with v; bound is the frame address of the entry point the program called,
 * the best bound there is on where the program's live frames are. */
static HRC_NORETURN void panic_from(hrc_obj_t *v, const void *bound) {
  hrc_defer_state_t *st = hrc_defer_state();
  if (v == NULL) v = hrc_error_new("panic called with nil argument");
  hrc_panic_t p = {.link = st->panic, .value = v, .bound = bound};
  st->panic = &p;
  HRC_STAT_ADD(panics, 1);
  run_deferred(st, &p);
}

void hrc_panic(hrc_obj_t *v) { panic_from(v, __builtin_frame_address(0)); }

void hrc_panic_str(const char *msg) {
  panic_from(hrc_bytes_obj(hrc_bytes_from(msg, strlen(msg))), __builtin_frame_address(0));
}

void hrc_thread_exit(void) {
  hrc_defer_state_t *st = hrc_defer_state();
  hrc_panic_t exit_record = {
      .link = st->panic, .goexit = true, .bound = __builtin_frame_address(0)};
  st->panic = &exit_record;
  run_deferred(st, &exit_record);
}

hrc_obj_t *hrc_recover(hrc_recover_t tok) {
  hrc_defer_state_t *st = hrc_tls_defer;
  if (tok == HRC_NO_RECOVER) return NULL;
  /* Tokens count up per thread: a larger one was never handed out (a stale one is fine: Go's
   * recover outside the deferred call itself returns nil). */
  if (st == NULL || tok > st->serial)
    hrc_fatal("recover with token %llu, which no deferred call on this thread was given "
              "(tokens come from hrc_recover_token)",
              (unsigned long long)tok);
  hrc_panic_t *p = st->panic;
  if (p == NULL || p->goexit || p->recovered || p->call != tok) return NULL;
  p->recovered = true;
  return hrc_dup(p->value);
}
