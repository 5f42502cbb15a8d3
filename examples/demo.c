/* demo.c: the project's main job for now: a small program written the way a Perceus compiler
 * would lower it, exercising the rc module, then the runtime's statistics (HRC_STATS=1 prints
 * them at exit; scripts/run sets it). The benchmark report replaces this job later.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "hrc.h"

enum { CONS = 1, NODE = 2 };
#define NIL hrc_box_int(0)

typedef struct cons_s {
  hrc_obj_t header;
  hrc_obj_t *head, *tail;
} cons_t;

typedef struct node_s {
  hrc_obj_t header;
  hrc_obj_t *left, *right;
} node_t;

/* [0, 1, ..., n-1] built back to front. */
static hrc_obj_t *range(intptr_t n) {
  hrc_obj_t *xs = NIL;
  for (intptr_t i = n - 1; i >= 0; i--) {
    cons_t *c = (cons_t *)hrc_alloc(sizeof(cons_t), CONS, 2);
    c->head = hrc_box_int(i);
    c->tail = xs;
    xs = &c->header;
  }
  return xs;
}

/* map (*2) with reuse and a constructor context: in place when xs is unique. */
static hrc_obj_t *double_all(hrc_obj_t *xs) {
  hrc_ctx_t k = hrc_ctx_empty();
  while (!hrc_is_scalar(xs)) {
    cons_t *c = (cons_t *)xs;
    hrc_obj_t *x = c->head, *xx = hrc_dup(c->tail);
    hrc_reuse_t tok = hrc_drop_reuse(xs);
    cons_t *r = (cons_t *)hrc_alloc_at(tok, sizeof(cons_t), CONS, 2);
    r->head = hrc_box_int(2 * hrc_unbox_int(x));
    k = hrc_ctx_extend(k, &r->header, &r->tail);
    xs = xx;
  }
  return hrc_ctx_apply(k, xs);
}

/* Sum of a list, borrowed. */
static intptr_t sum(hrc_obj_t *xs) {
  intptr_t s = 0;
  for (; !hrc_is_scalar(xs); xs = ((cons_t *)xs)->tail) s += hrc_unbox_int(((cons_t *)xs)->head);
  return s;
}

/* A complete binary tree of depth d (binary-trees' bottom-up tree). */
static hrc_obj_t *make_tree(int d) {
  node_t *n = (node_t *)hrc_alloc(sizeof(node_t), NODE, 2);
  n->left = d > 0 ? make_tree(d - 1) : NIL;
  n->right = d > 0 ? make_tree(d - 1) : NIL;
  return &n->header;
}

/* Node count of a tree, borrowed. */
static intptr_t check_tree(hrc_obj_t *t) {
  if (hrc_is_scalar(t)) return 0;
  return 1 + check_tree(((node_t *)t)->left) + check_tree(((node_t *)t)->right);
}

/* A thread that reads a shared tree and builds and drops its own trees meanwhile. */
static void *reader(void *arg) {
  hrc_obj_t *shared = arg;
  intptr_t total = 0;
  for (int i = 0; i < 64; i++) {
    hrc_obj_t *mine = make_tree(10);
    total += check_tree(mine) + check_tree(shared);
    hrc_drop(mine);
  }
  hrc_drop(shared);
  return (void *)total;
}

int main(void) {
  printf("hrc %s, variant %s\n", hrc_version(), hrc_variant());

  hrc_obj_t *xs = range(1000000);
  hrc_obj_t *first = xs;
  xs = double_all(xs);
  printf("map over a unique list of 1e6 cells: sum %ld, updated in place: %s\n", (long)sum(xs),
         xs == first ? "yes" : "no");
  hrc_obj_t *ys = double_all(hrc_dup(xs));
  printf("map over a shared list: sum %ld, original kept: sum %ld\n", (long)sum(ys), (long)sum(xs));
  hrc_drop(xs);
  hrc_drop(ys);

  long checks = 0;
  for (int i = 0; i < 32; i++) {
    hrc_obj_t *t = make_tree(14);
    checks += check_tree(t);
    hrc_drop(t);
  }
  printf("32 trees of depth 14 built and dropped: %ld nodes\n", checks);

  hrc_obj_t *shared = make_tree(12);
  hrc_share(shared);
  hrc_dup(shared);
  pthread_t t;
  hrc_thread_create(&t, NULL, reader, shared);
  intptr_t here = (intptr_t)reader(shared);
  void *there;
  hrc_thread_join(t, &there);
  printf("a shared tree read by 2 threads: %ld and %ld nodes visited\n", (long)here,
         (long)(intptr_t)there);

  if (HRC_COUNTING) printf("live objects at the end: %lld\n", (long long)hrc_live_objects());
  else printf("gc mode: nothing is freed by counting; the collector reclaims it all\n");
  if (getenv("HRC_STATS") == NULL)
    printf("(run with HRC_STATS=1 to see the runtime's statistics)\n");
  /* In gc mode nothing is freed by counting; elsewhere everything must be (-1: no stats). */
  return HRC_COUNTING && hrc_live_objects() > 0;
}
