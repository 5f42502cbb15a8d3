/* defer.c: nanoseconds per operation of defer, panic and recover, lowered as docs/lowering.md
 * says, against a direct call of the same function.
 *
 * Rows: a direct call (the baseline); a function with one open-coded defer; one with a stack
 * record; heap records, per defer, in a loop of 1,000 (closure and record each); one million
 * defers in one frame (per defer, and the total); a panic recovered by the frame that
 * deferred the recover; the same through 10 frames. Each row is the median of `reps` runs in
 * this process: compare rows with each other, not with other runs (the machine is noisy).
 * Usage: defer [iterations-in-millions] (default 10). Output: one "row name=... ns=..." line
 * per row, then a table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hrc.h"

static long iters;
static volatile intptr_t sink;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The deferred work: what Go's benchmark defers (a call with an argument). */
static __attribute__((noinline)) void work(intptr_t x) { sink += x; }

/* The thunk of a closure in the frame or in a record, carrying x (borrows self). */
static hrc_obj_t *work_thunk(hrc_closure_t *self) {
  intptr_t x;
  memcpy(&x, hrc_closure_scalars(self), sizeof x);
  work(x);
  return NULL;
}

/* A closure in the frame for `defer work(x)`. */
static inline hrc_closure_t *frame_closure(void *storage, intptr_t x) {
  hrc_closure_t *c = hrc_closure_init_frame(storage, (hrc_code_t)work_thunk, 0, sizeof x);
  memcpy(hrc_closure_scalars(c), &x, sizeof x);
  return c;
}

/* A heap closure's thunk (owns self). */
static hrc_obj_t *work_thunk_owned(hrc_closure_t *self) {
  intptr_t x;
  memcpy(&x, hrc_closure_scalars(self), sizeof x);
  hrc_drop(&self->header);
  work(x);
  return NULL;
}

static __attribute__((noinline)) void direct(intptr_t x) { work(x); }

/* Open-coded: the exit calls work directly; the slot's closure is for a panic. */
static __attribute__((noinline)) void open_coded(intptr_t x) {
  hrc_frame_t fr;
  HRC_CLOSURE_STORAGE(k, 0, sizeof(intptr_t));
  hrc_frame_enter(&fr);
  hrc_defer_open(&fr, 0, frame_closure(k, x));
  if (hrc_defer_take_slot(&fr, 0)) work(x);
  hrc_frame_leave(&fr);
}

static __attribute__((noinline)) void stack_record(intptr_t x) {
  hrc_frame_t fr;
  hrc_defer_rec_t rec;
  HRC_CLOSURE_STORAGE(k, 0, sizeof(intptr_t));
  hrc_frame_enter(&fr);
  hrc_defer_stack(&fr, &rec, frame_closure(k, x));
  hrc_frame_exit(&fr);
}

/* Loop defers with the closure in the record (what the lowering uses). */
static __attribute__((noinline)) void loop_defers(long n) {
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  for (long i = 0; i < n; i++) {
    hrc_closure_t *c = hrc_defer_heap_closure(&fr, (hrc_code_t)work_thunk, 0, sizeof(intptr_t));
    intptr_t x = (intptr_t)i;
    memcpy(hrc_closure_scalars(c), &x, sizeof x);
  }
  hrc_frame_exit(&fr);
}

/* Loop defers of heap closures (a closure value deferred: `defer g()` in a loop). */
static __attribute__((noinline)) void loop_defers_heap_closures(long n) {
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  for (long i = 0; i < n; i++) {
    hrc_closure_t *c = hrc_closure_alloc((hrc_code_t)work_thunk_owned, 0, sizeof(intptr_t));
    intptr_t x = (intptr_t)i;
    memcpy(hrc_closure_scalars(c), &x, sizeof x);
    hrc_defer_heap(&fr, c);
  }
  hrc_frame_exit(&fr);
}

/* A deferred recover in the frame: `defer func() { recover() }()`. */
static hrc_obj_t *recover_thunk(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  hrc_obj_t *v = hrc_recover(tok);
  if (v != NULL) hrc_drop(v);
  return NULL;
}

static volatile bool do_panic = true;

static __attribute__((noinline)) void panic_below(int depth) {
  if (depth > 0) {
    panic_below(depth - 1);
    sink++; /* not a tail call */
  } else if (do_panic) {
    hrc_panic(hrc_box_int(1));
  }
}

static __attribute__((noinline)) void panic_recover(int depth) {
  hrc_frame_t fr;
  hrc_landing_t land;
  HRC_CLOSURE_STORAGE(k, 0, 0);
  hrc_frame_enter(&fr);
  if (HRC_FRAME_LANDING(&fr, &land)) goto out;
  hrc_defer_open(&fr, 0, hrc_closure_init_frame(k, (hrc_code_t)recover_thunk, 0, 0));
  panic_below(depth);
out:
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
}

typedef void (*row_fn)(long n);

static void row_direct(long n) {
  for (long i = 0; i < n; i++) direct(i);
}
static void row_open(long n) {
  for (long i = 0; i < n; i++) open_coded(i);
}
static void row_stack(long n) {
  for (long i = 0; i < n; i++) stack_record(i);
}
static void row_loop(long n) {
  for (long i = 0; i < n / 1000; i++) loop_defers(1000);
}
static void row_loop_heap_closures(long n) {
  for (long i = 0; i < n / 1000; i++) loop_defers_heap_closures(1000);
}
static void row_panic(long n) {
  for (long i = 0; i < n; i++) panic_recover(0);
}
static void row_panic10(long n) {
  for (long i = 0; i < n; i++) panic_recover(10);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median ns per operation of fn over reps runs of n operations. */
static double measure(row_fn fn, long n, int reps) {
  double t[15];
  fn(n / 10 + 1); /* warm up: caches, pools, the defer state */
  for (int r = 0; r < reps; r++) {
    double t0 = now_ns();
    fn(n);
    t[r] = (now_ns() - t0) / (double)n;
  }
  qsort(t, (size_t)reps, sizeof t[0], cmp_double);
  return t[reps / 2];
}

int main(int argc, char **argv) {
  long millions = argc > 1 ? atol(argv[1]) : 10;
  iters = millions * 1000000L;
  int reps = 7;
  struct {
    const char *name;
    row_fn fn;
    long n;
  } rows[] = {
      {"direct-call", row_direct, iters},
      {"open-coded", row_open, iters},
      {"stack-record", row_stack, iters},
      {"heap-record-loop-1000", row_loop, iters},
      {"heap-record-loop-1000-heap-closure", row_loop_heap_closures, iters},
      {"panic-recover", row_panic, iters / 10},
      {"panic-recover-10-frames", row_panic10, iters / 20},
  };
  double base = 0;
  printf("defer benchmark, mode %s, %ld M iterations, median of %d\n", HRC_MODE_NAME, millions, reps);
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    double ns = measure(rows[i].fn, rows[i].n, reps);
    if (i == 0) base = ns;
    printf("row name=%s mode=%s ns=%.2f over_direct=%+.2f\n", rows[i].name, HRC_MODE_NAME, ns,
           ns - base);
  }
  /* One million defers in one frame: the per-defer cost and the whole. */
  double t[15];
  loop_defers(1000000);
  for (int r = 0; r < reps; r++) {
    double t0 = now_ns();
    loop_defers(1000000);
    t[r] = now_ns() - t0;
  }
  qsort(t, (size_t)reps, sizeof t[0], cmp_double);
  printf("row name=million-defers-one-frame mode=%s ns=%.2f total_ms=%.2f\n", HRC_MODE_NAME,
         t[reps / 2] / 1e6, t[reps / 2] / 1e6);
  return sink == 42 ? 1 : 0;
}
