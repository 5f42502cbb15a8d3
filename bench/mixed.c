/* mixed.c: acyclic data rebuilt while a graph with back references is updated, the program the
 * hybrid exists for. Each round builds a fresh binary tree of depth 12 (acyclic constructors,
 * hrc_alloc_acyclic) and walks it, keeping only the newest; and replaces one of 64 groups of a
 * graph: a group is a parent holding a list of 64 children, each child holding a mutable
 * reference back to its parent (a type that can hold a reference is not acyclic), so the
 * replaced group is cyclic garbage. RC frees the trees the moment they are replaced; only a
 * tracer frees the groups. Lowered like binarytrees.c (the tree) and cyclic.c (the groups).
 * Usage: mixed [rounds] (default 2000). The check is the total node count walked.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_report.h"
#include "hrc.h"

enum { NODE = 1, PARENT = 2, CHILD = 3, CONS = 4, DEPTH = 12, GROUPS = 64, CHILDREN = 64 };

typedef struct pair_s {
  hrc_obj_t header;
  hrc_obj_t *a, *b;
} pair_t;

/* fun make(d): a perfect tree of immutable nodes */
static hrc_obj_t *make(int d) {
  if (d == 0) return hrc_box_int(0);
  pair_t *n = (pair_t *)hrc_alloc_acyclic(sizeof(pair_t), NODE, 2);
  n->a = make(d - 1);
  n->b = make(d - 1);
  return &n->header;
}

/* fun check(t) -- t borrowed */
static long check(hrc_obj_t *t) {
  if (hrc_is_scalar(t)) return 0;
  pair_t *n = (pair_t *)t;
  return 1 + check(n->a) + check(n->b);
}

/* A group: parent(name, children), children = list of child(id, ref parent). */
static hrc_obj_t *group(long name) {
  pair_t *p = (pair_t *)hrc_alloc(sizeof(pair_t), PARENT, 2);
  p->a = hrc_box_int(name);
  p->b = hrc_box_int(0);
  hrc_obj_t *kids = hrc_box_int(0);
  for (int i = 0; i < CHILDREN; i++) {
    pair_t *c = (pair_t *)hrc_alloc(sizeof(pair_t), CHILD, 2);
    c->a = hrc_box_int(i);
    c->b = hrc_obj_dup(&p->header); /* the back reference */
    pair_t *cell = (pair_t *)hrc_alloc(sizeof(pair_t), CONS, 2);
    cell->a = &c->header;
    cell->b = kids;
    kids = &cell->header;
  }
  p->b = kids; /* the parent's mutable field, set once its children exist */
  return &p->header;
}

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 2000;
  bench_start();
  hrc_obj_t *groups[GROUPS];
  for (int g = 0; g < GROUPS; g++) groups[g] = group(g);
  hrc_obj_t *tree = hrc_box_int(0);
  long sum = 0, made = 0;
  for (long r = 0; r < rounds; r++) {
    hrc_drop(tree);
    tree = make(DEPTH);
    sum += check(tree);
    hrc_drop(groups[r % GROUPS]);
    groups[r % GROUPS] = group(r);
    made += (1L << DEPTH) - 1 + 1 + 2 * CHILDREN;
  }
  hrc_drop(tree);
  for (int g = 0; g < GROUPS; g++) hrc_drop(groups[g]);
  printf("%ld rounds of trees and groups, check %ld\n", rounds, sum);
  bench_report("mixed", rounds, sum, made);
  return 0;
}
