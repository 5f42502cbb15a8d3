/* closures.c: map and fold with closures over a long list, lowered as a Perceus compiler
 * lowers them (docs/lowering.md sections 6 and 7). Each round, over a list of n integers:
 *   xs = map(xs, fn(x) { x + r })             the unique list is updated in place
 *   cs = map(xs, fn(x) { fn(acc) { Cons(x, acc) } })  each cell now holds a fresh closure
 *   xs = foldl(cs, Nil, fn(acc, c) { c(acc) })       each closure is called once, owned: the
 *                                                    cons it builds reuses its environment
 * so a round allocates one closure per element and frees one cons cell, and everything else
 * happens in place. Usage: closures [n] [rounds] (default 1,000,000 x 10). The check is the sum
 * of the final list.
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

/* fun map(xs, ^f): owned list, borrowed function; a loop over a constructor context, as Koka
 * compiles it (tail recursion modulo cons, reuse specialisation). */
static hrc_obj_t *map(hrc_obj_t *xs, hrc_closure_t *f) {
  hrc_ctx_t k = hrc_ctx_empty();
  while (!hrc_is_scalar(xs)) {
    cons_t *c = (cons_t *)xs;
    hrc_obj_t *x = c->head, *xx = c->tail;
    hrc_reuse_t tok;
    if (hrc_is_unique(xs)) {
      tok = hrc_reuse_cell(xs);
    } else {
      hrc_dup(x);
      hrc_dup(xx);
      hrc_decref(xs);
      tok = HRC_NO_REUSE;
    }
    hrc_obj_t *y = hrc_call1_borrowed(f, x);
    /* Cons(y, hole), reuse-specialised: in the token the tag stays (Koka specialises a
     * two-field constructor on that alone) */
    cons_t *r = tok != HRC_NO_REUSE ? (cons_t *)hrc_reuse_same(tok)
                                    : (cons_t *)hrc_alloc_acyclic(sizeof(cons_t), CONS, 2);
    r->head = y;
    k = hrc_ctx_extend(k, &r->header, &r->tail);
    xs = xx;
  }
  return hrc_ctx_apply(k, xs);
}

/* fun foldl(xs, acc, ^f): owned list, borrowed function; a loop. */
static hrc_obj_t *foldl(hrc_obj_t *xs, hrc_obj_t *acc, hrc_closure_t *f) {
  while (!hrc_is_scalar(xs)) {
    cons_t *c = (cons_t *)xs;
    hrc_obj_t *x = c->head, *xx = c->tail;
    if (hrc_is_unique(xs)) {
      hrc_free_cell(xs);
    } else {
      hrc_dup(x);
      hrc_dup(xx);
      hrc_decref(xs);
    }
    acc = hrc_call2_borrowed(f, acc, x);
    xs = xx;
  }
  return acc;
}

/* fn(x) { x + r } */
static hrc_obj_t *add_r(hrc_closure_t *self, hrc_obj_t *x) {
  intptr_t r = hrc_unbox_int(self->env[0]);
  hrc_obj_drop(&self->header);
  return hrc_box_int(hrc_unbox_int(x) + r);
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

/* fn(x) { fn(acc) { Cons(x, acc) } } */
static hrc_obj_t *make_pusher(hrc_closure_t *self, hrc_obj_t *x) {
  hrc_obj_drop(&self->header);
  hrc_closure_t *p = hrc_closure_alloc((hrc_code_t)push_x, 1, 0);
  p->env[0] = x;
  return &p->header;
}

/* fn(acc, c) { c(acc) } */
static hrc_obj_t *apply_to(hrc_closure_t *self, hrc_obj_t *acc, hrc_obj_t *c) {
  hrc_obj_drop(&self->header);
  return hrc_call1((hrc_closure_t *)c, acc);
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
  hrc_closure_t *pusher = hrc_closure_alloc((hrc_code_t)make_pusher, 0, 0);
  hrc_closure_t *apply = hrc_closure_alloc((hrc_code_t)apply_to, 0, 0);
  for (int r = 1; r <= rounds; r++) {
    hrc_closure_t *add = hrc_closure_alloc((hrc_code_t)add_r, 1, 0);
    add->env[0] = hrc_box_int(r);
    xs = map(xs, add);
    hrc_obj_drop(&add->header);
    xs = map(xs, pusher);
    xs = foldl(xs, NIL, apply);
  }
  hrc_obj_drop(&pusher->header);
  hrc_obj_drop(&apply->header);
  long check = sum(xs);
  hrc_drop(xs);
  printf("%ld\n", check);
  bench_report("closures", n, check, n * rounds);
  return 0;
}
