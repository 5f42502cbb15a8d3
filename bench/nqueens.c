/* nqueens.c: all solutions of the n-queens problem as lists of lists (the Perceus paper's
 * nqueens, Koka's nqueens.kk), lowered as a Perceus compiler lowers it (docs/lowering.md).
 * Usage: nqueens [n] (default 13). The check is the number of solutions (73712 for 13).
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_report.h"
#include "hrc.h"

enum { CONS = 1 };
#define NIL hrc_box_int(0)

typedef struct cons_s {
  hrc_obj_t header;
  hrc_obj_t *head, *tail;
} cons_t;

#define HEAD(c) (((cons_t *)(c))->head)
#define TAIL(c) (((cons_t *)(c))->tail)

static inline hrc_obj_t *Cons(hrc_reuse_t tok, hrc_obj_t *h, hrc_obj_t *t) {
  cons_t *c = (cons_t *)hrc_alloc_at_acyclic(tok, sizeof(cons_t), CONS, 2);
  c->head = h;
  c->tail = t;
  return &c->header;
}

/* fun safe(queen, diag, ^xs) */
static bool safe(intptr_t queen, intptr_t diag, hrc_obj_t *xs) {
  while (!hrc_is_scalar(xs)) {
    intptr_t q = hrc_unbox_int(HEAD(xs));
    if (queen == q || queen == q + diag || queen == q - diag) return false;
    diag++;
    xs = TAIL(xs);
  }
  return true;
}

/* fun append-safe(queen, xs, xss): xs and xss owned; a tail-recursive loop. */
static hrc_obj_t *append_safe(intptr_t queen, hrc_obj_t *xs, hrc_obj_t *xss) {
  for (; queen > 0; queen--) {
    if (safe(queen, 1, xs)) xss = Cons(HRC_NO_REUSE, Cons(HRC_NO_REUSE, hrc_box_int(queen), hrc_dup(xs)), xss);
  }
  hrc_drop(xs);
  return xss;
}

/* fun extend(queen, acc, xss): acc and xss owned; a tail-recursive loop. */
static hrc_obj_t *extend(intptr_t queen, hrc_obj_t *acc, hrc_obj_t *xss) {
  while (!hrc_is_scalar(xss)) { /* Cons(xs, rest): drop-specialised */
    hrc_obj_t *xs = HEAD(xss), *rest = TAIL(xss);
    if (hrc_is_unique(xss)) {
      hrc_free_cell(xss);
    } else {
      hrc_dup(xs);
      hrc_dup(rest);
      hrc_decref(xss);
    }
    acc = append_safe(queen, xs, acc);
    xss = rest;
  }
  return acc;
}

/* fun find-solutions(n, queen) */
static hrc_obj_t *find_solutions(intptr_t n, intptr_t queen) {
  if (queen == 0) return Cons(HRC_NO_REUSE, NIL, NIL);
  return extend(n, NIL, find_solutions(n, queen - 1));
}

/* fun length(^xs) */
static long length(hrc_obj_t *xs) {
  long k = 0;
  for (; !hrc_is_scalar(xs); xs = TAIL(xs)) k++;
  return k;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 13;
  bench_start();
  hrc_obj_t *sols = find_solutions(n, n);
  long k = length(sols);
  hrc_drop(sols);
  printf("%ld\n", k);
  bench_report("nqueens", n, k, k);
  return 0;
}
