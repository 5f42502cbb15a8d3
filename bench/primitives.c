/* primitives.c: nanoseconds per operation of hrc's primitives, against mimalloc and malloc.
 *
 * Each row runs its loop `reps` times and prints the median; all rows run in the same process
 * one after another, so compare rows with each other (ratios), not with other runs: this
 * machine is shared and noisy. Usage: primitives [iterations-in-millions] (default 20).
 * scripts/bench builds it in release mode with and without stats and runs it.
 */
#include <mimalloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hrc.h"

#define BARRIER() __asm__ volatile("" ::: "memory")

typedef struct cell_s {
  hrc_obj_t header;
  hrc_obj_t *a, *b, *c;
} cell_t;

static long iters;
static hrc_obj_t *volatile sink;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static hrc_obj_t *new_cell(hrc_reuse_t tok) {
  cell_t *c = (cell_t *)hrc_alloc_at(tok, sizeof(cell_t), 1, 3);
  c->a = c->b = c->c = hrc_box_int(1);
  return &c->header;
}

static void loop_dup_drop(hrc_obj_t *o) {
  for (long i = 0; i < iters; i++) {
    hrc_obj_dup(o);
    BARRIER();
    hrc_obj_drop(o);
    BARRIER();
  }
}

static void run_dup_drop_local(void) {
  hrc_obj_t *o = new_cell(HRC_NO_REUSE);
  loop_dup_drop(o);
  hrc_drop(o);
}

static void run_dup_drop_shared(void) {
  hrc_obj_t *o = new_cell(HRC_NO_REUSE);
  hrc_share(o);
  loop_dup_drop(o);
  hrc_drop(o);
}

static void run_alloc_free(void) {
  for (long i = 0; i < iters; i++) {
    hrc_obj_t *o = new_cell(HRC_NO_REUSE);
    sink = o;
    hrc_drop(o);
  }
}

static void run_reuse(void) {
  hrc_obj_t *o = new_cell(HRC_NO_REUSE);
  for (long i = 0; i < iters; i++) {
    o = new_cell(hrc_drop_reuse(o));
    sink = o;
  }
  hrc_drop(o);
}

/* drop_reuse as a Perceus compiler emits it for a known constructor: the field drops inline. */
static void run_reuse_inline_fields(void) {
  hrc_obj_t *o = new_cell(HRC_NO_REUSE);
  for (long i = 0; i < iters; i++) {
    hrc_reuse_t tok = HRC_NO_REUSE;
    if (hrc_is_unique(o)) {
      cell_t *c = (cell_t *)o;
      hrc_drop(c->a);
      hrc_drop(c->b);
      hrc_drop(c->c);
      tok = hrc_reuse_cell(o);
    } else {
      hrc_decref(o);
    }
    o = new_cell(tok);
    sink = o;
  }
  hrc_drop(o);
}

/* Perceus' specialised form: the fields move out, the unique cell becomes the token. */
static void run_reuse_cell(void) {
  hrc_obj_t *o = new_cell(HRC_NO_REUSE);
  for (long i = 0; i < iters; i++) {
    hrc_reuse_t tok = hrc_is_unique(o) ? hrc_reuse_cell(o) : (hrc_decref(o), HRC_NO_REUSE);
    o = new_cell(tok);
    sink = o;
  }
  hrc_drop(o);
}

/* Build a list of `iters` cells, then drop it: the iterative free walk, per cell. */
static void run_list_build_drop(void) {
  hrc_obj_t *xs = hrc_box_int(0);
  for (long i = 0; i < iters; i++) {
    cell_t *c = (cell_t *)hrc_alloc(sizeof(cell_t), 1, 3);
    c->a = hrc_box_int(i);
    c->b = xs;
    c->c = hrc_box_int(0);
    xs = &c->header;
  }
  hrc_drop(xs);
}

static void run_mi_malloc_free(void) {
  for (long i = 0; i < iters; i++) {
    void **p = mi_malloc(sizeof(cell_t));
    p[0] = p;
    sink = (hrc_obj_t *)p;
    mi_free(p);
  }
}

static void run_malloc_free(void) {
  for (long i = 0; i < iters; i++) {
    void **p = malloc(sizeof(cell_t));
    p[0] = p;
    sink = (hrc_obj_t *)p;
    free(p);
  }
}

static void run_empty(void) {
  for (long i = 0; i < iters; i++) BARRIER();
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median ns per iteration of fn over reps runs. */
static double measure(void (*fn)(void), int reps) {
  double t[15];
  for (int r = 0; r < reps; r++) {
    double t0 = now_ns();
    fn();
    t[r] = (now_ns() - t0) / (double)iters;
  }
  qsort(t, (size_t)reps, sizeof t[0], cmp_double);
  return t[reps / 2];
}

int main(int argc, char **argv) {
  iters = (argc > 1 ? atol(argv[1]) : 20) * 1000000L;
  int reps = 7;
  struct {
    const char *name;
    void (*fn)(void);
  } rows[] = {
      {"empty loop", run_empty},
      {"dup+drop, local object", run_dup_drop_local},
      {"dup+drop, shared object", run_dup_drop_shared},
      {"alloc+free, 3-field cell", run_alloc_free},
      {"drop_reuse + alloc into token", run_reuse},
      {"same, field drops inline", run_reuse_inline_fields},
      {"is_unique+reuse_cell + alloc", run_reuse_cell},
      {"list of N cells built and dropped", run_list_build_drop},
      {"mi_malloc+mi_free, 32 bytes", run_mi_malloc_free},
      {"malloc+free, 32 bytes", run_malloc_free},
  };
  printf("hrc %s (%s), %ld iterations, median of %d\n", hrc_version(), hrc_variant(), iters, reps);
  printf("%-32s %8s\n", "operation", "ns/op");
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
    printf("%-32s %8.2f\n", rows[i].name, measure(rows[i].fn, reps));
  return 0;
}
