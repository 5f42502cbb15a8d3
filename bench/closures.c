/* closures.c: map and fold with closures over a long list, lowered as a Perceus compiler
 * lowers them (docs/lowering.md sections 6 and 7). Each round, over a list of n integers:
 *   xs = map(xs, fn(x) { x + r })             the unique list is updated in place
 *   cs = map(xs, fn(x) { fn(acc) { Cons(x, acc) } })  each cell now holds a fresh closure
 *   xs = foldl(cs, Nil, fn(acc, c) { c(acc) })       each closure is called once, owned: the
 *                                                    cons it builds reuses its environment
 * so a round allocates one closure per element and frees one cons cell, and everything else
 * happens in place. Koka specialises a recursive function that passes its function parameter
 * on unchanged for each call given a known fn (its Core/Specialize pass; Perc does the same):
 * map and foldl are copied per call with the fn's body inlined and its captured r a parameter,
 * so the only closures are the ones the program stores, each called once through its code
 * pointer. Usage: closures [n] [rounds] (default 1,000,000 x 10). The check is the sum of the
 * final list.
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

/* The drop-specialised match of an owned Cons: unique, the fields move out and the cell is
 * the token; shared, they are dup'ed. */
static inline hrc_reuse_t open_cons(hrc_obj_t *xs, hrc_obj_t **x, hrc_obj_t **xx) {
  *x = ((cons_t *)xs)->head;
  *xx = ((cons_t *)xs)->tail;
  if (hrc_is_unique(xs)) return hrc_reuse_cell(xs);
  hrc_dup(*x);
  hrc_dup(*xx);
  hrc_decref(xs);
  return HRC_NO_REUSE;
}

/* Cons(y, hole) in the token, reuse-specialised (the tag stays: Koka specialises a two-field
 * constructor on that alone), appended to the context k. */
static inline hrc_ctx_t cons_hole(hrc_ctx_t k, hrc_reuse_t tok, hrc_obj_t *y) {
  cons_t *r = tok != HRC_NO_REUSE ? (cons_t *)hrc_reuse_same(tok)
                                  : (cons_t *)hrc_alloc_acyclic(sizeof(cons_t), CONS, 2);
  r->head = y;
  return hrc_ctx_extend(k, &r->header, &r->tail);
}

/* map(xs, fn(x) { x + r }), specialised: owned list, a loop over a constructor context (tail
 * recursion modulo cons); the fn's body inlined, with Koka's overflow-checked int add. */
static hrc_obj_t *map_add(hrc_obj_t *xs, intptr_t r) {
  hrc_ctx_t k = hrc_ctx_empty();
  while (!hrc_is_scalar(xs)) {
    hrc_obj_t *x, *xx;
    hrc_reuse_t tok = open_cons(xs, &x, &xx);
    intptr_t y;
    if (__builtin_add_overflow(hrc_unbox_int(x), r, &y) || !hrc_int_fits_box(y)) {
      fprintf(stderr, "closures: integer overflow\n");
      exit(1);
    }
    k = cons_hole(k, tok, hrc_box_int(y));
    xs = xx;
  }
  return hrc_ctx_apply(k, xs);
}

/* fn(acc) { Cons(x, acc) }: builds the cons in its own block when called unique. */
static hrc_obj_t *push_x(hrc_closure_t *self, hrc_obj_t *acc) {
  hrc_obj_t *env[1];
  hrc_reuse_t tok = hrc_closure_unpack_reuse(self, env);
  cons_t *c = (cons_t *)hrc_alloc_at_acyclic(tok, sizeof(cons_t), CONS, 2);
  c->head = env[0];
  c->tail = acc;
  return &c->header;
}

/* map(xs, fn(x) { fn(acc) { Cons(x, acc) } }), specialised: each element becomes a closure. */
static hrc_obj_t *map_pushers(hrc_obj_t *xs) {
  hrc_ctx_t k = hrc_ctx_empty();
  while (!hrc_is_scalar(xs)) {
    hrc_obj_t *x, *xx;
    hrc_reuse_t tok = open_cons(xs, &x, &xx);
    hrc_closure_t *p = hrc_closure_alloc((hrc_code_t)push_x, 1, 0);
    p->env[0] = x;
    k = cons_hole(k, tok, &p->header);
    xs = xx;
  }
  return hrc_ctx_apply(k, xs);
}

/* foldl(xs, acc, fn(acc, c) { c(acc) }), specialised: owned list, a loop; each closure is
 * called owned, once. */
static hrc_obj_t *foldl_apply(hrc_obj_t *xs, hrc_obj_t *acc) {
  while (!hrc_is_scalar(xs)) {
    hrc_obj_t *c = ((cons_t *)xs)->head, *xx = ((cons_t *)xs)->tail;
    if (hrc_is_unique(xs)) {
      hrc_free_cell(xs);
    } else {
      hrc_dup(c);
      hrc_dup(xx);
      hrc_decref(xs);
    }
    acc = hrc_call1((hrc_closure_t *)c, acc);
    xs = xx;
  }
  return acc;
}

/* fun sum(^xs) */
static long sum(hrc_obj_t *xs) {
  long s = 0;
  for (; !hrc_is_scalar(xs); xs = ((cons_t *)xs)->tail) s += hrc_unbox_int(((cons_t *)xs)->head);
  return s;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  int rounds = argc > 2 ? atoi(argv[2]) : 10;
  bench_start();
  hrc_obj_t *xs = NIL;
  for (long i = n; i > 0; i--) {
    cons_t *c = (cons_t *)hrc_alloc_acyclic(sizeof(cons_t), CONS, 2);
    c->head = hrc_box_int(i % 1000);
    c->tail = xs;
    xs = &c->header;
  }
  for (int r = 1; r <= rounds; r++) {
    xs = map_add(xs, r);
    xs = map_pushers(xs);
    xs = foldl_apply(xs, NIL);
  }
  long check = sum(xs);
  hrc_drop(xs);
  printf("%ld\n", check);
  bench_report("closures", n, check, n * rounds);
  return 0;
}
