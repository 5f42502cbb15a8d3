/* binarytrees.c: the Benchmarks Game's binary-trees, lowered as a Perceus compiler would
 * lower it (dup/drop/reuse only where Perceus puts them). Builds in every mode from this one
 * file. Usage: binarytrees [max-depth] (default 18). Prints the usual check lines, then one
 * `result` line with wall time, peak RSS, collections and the runtime's counters.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_report.h"
#include "hrc.h"

enum { NODE = 1 };
#define LEAF hrc_box_int(0)

typedef struct node_s {
  hrc_obj_t header;
  hrc_obj_t *left, *right;
} node_t;

/* fun make(d) = if d == 0 then Leaf else Node(make(d-1), make(d-1))
 * As Koka lowers it but for TRMC: the arguments are evaluated first (A-normal form), then the
 * node is allocated with both fields known, so every scanned field is written before the next
 * runtime call (hrc_alloc's contract). Koka would compile this tail recursive modulo cons (the
 * last field's call in a loop through a constructor context). Measured here (depth 16, rc,
 * callgrind, gcc 12 -O2) that form costs 31 instructions per node against 12 for the plain
 * recursion: the loop keeps six registers live across the left call, which gcc saves and
 * restores in every one of them, and its base case is no longer inlined at the calls. So the
 * benchmark keeps the plain recursion; a compiler on hrc should choose TRMC by cost where the
 * non-tail call comes first (Perc does). Allocating the node before the two calls, as this
 * file did before, counts the same (405.8 against 405.4 M instructions at depth 16, rc) but
 * leaves the fields unwritten across allocations, which no Perceus compiler does. */
static hrc_obj_t *make(int d) {
  if (d == 0) return LEAF;
  hrc_obj_t *l = make(d - 1);
  hrc_obj_t *r = make(d - 1);
  node_t *n = (node_t *)hrc_alloc_acyclic(sizeof(node_t), NODE, 2);
  n->left = l;
  n->right = r;
  return &n->header;
}

/* fun check(t) = match t { Leaf -> 1; Node(l, r) -> 1 + check(l) + check(r) }  (Koka's checkr)
 * t owned, as Koka compiles it (its borrow inference is off by default): the match is
 * drop-specialised, so a unique node is freed as the checksum passes it and the children move
 * into the calls; no drop walk follows. Measured (depth 16, rc, callgrind): 53.5 instructions per
 * allocated node against 64.3 with a borrowed check and a drop after it; Koka's active checksum,
 * the checkv visitor reusing each node, cost as much as the borrowed check. */
static long check(hrc_obj_t *t) {
  if (hrc_is_scalar(t)) return 1;
  hrc_obj_t *l = ((node_t *)t)->left, *r = ((node_t *)t)->right;
  if (hrc_is_unique(t)) {
    hrc_free_cell(t);
  } else {
    hrc_dup(l);
    hrc_dup(r);
    hrc_decref(t);
  }
  long a = check(l);
  return 1 + a + check(r);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 18;
  int min_depth = 4, max_depth = n < min_depth + 2 ? min_depth + 2 : n;
  bench_start();

  hrc_obj_t *stretch = make(max_depth + 1);
  printf("stretch tree of depth %d\t check: %ld\n", max_depth + 1, check(stretch));

  hrc_obj_t *long_lived = make(max_depth);
  long nodes = (2L << (max_depth + 1)) + (2L << max_depth);
  for (int d = min_depth; d <= max_depth; d += 2) {
    long iterations = 1L << (max_depth - d + min_depth), sum = 0;
    for (long i = 0; i < iterations; i++) {
      hrc_obj_t *t = make(d);
      sum += check(t); /* consumes t */
    }
    nodes += iterations * (2L << d);
    printf("%ld\t trees of depth %d\t check: %ld\n", iterations, d, sum);
  }
  long ll = check(long_lived);
  printf("long lived tree of depth %d\t check: %ld\n", max_depth, ll);
  bench_report("binary-trees", n, ll, nodes);
  return 0;
}
