/* rbtree.c: the Perceus paper's functional red-black tree (Koka's rbtree.kk and rbtree-ck.kk),
 * lowered as a Perceus compiler lowers it (docs/lowering.md): owned parameters, drop
 * specialisation at every match, reuse tokens for the constructors of the same branch, and a
 * token given back when its branch builds nothing. One file builds every mode.
 *
 *   rbtree [n] [freq]   insert n keys (n-1 down to 0, value k % 10 == 0), fold counting the true
 *                       values; with freq > 0 also keep every freq-th tree alive (rbtree-ck),
 *                       so inserts copy shared paths instead of updating in place.
 *
 * Built with -DRBTREE_NO_REUSE it is "Perceus without reuse": the same code with every token
 * empty (a unique matched cell is freed, each constructor allocates).
 *
 * Representation (what a compiler emitting C structs picks for `Node(color, left, key:int32,
 * value:bool, right)`): the two children are the scanned fields; key, color and value pack into
 * one scalar word, so a node is 32 bytes. Leaf is the boxed scalar 0.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_report.h"
#include "hrc.h"

enum { NODE = 1, CONS = 2 };
enum { RED = 0, BLACK = 1 };
#define LEAF hrc_box_int(0)
#define NIL hrc_box_int(0)

typedef struct node_s {
  hrc_obj_t header;
  hrc_obj_t *left, *right;
  int32_t key;
  uint8_t color, value;
} node_t;

typedef struct cons_s {
  hrc_obj_t header;
  hrc_obj_t *head, *tail;
} cons_t;

#define N(t) ((node_t *)(t))

/* Node(color, l, k, v, r) built in tok (or freshly allocated when tok is empty). */
static inline hrc_obj_t *Node(hrc_reuse_t tok, int color, hrc_obj_t *l, int32_t k, int v,
                              hrc_obj_t *r) {
  node_t *n = (node_t *)hrc_alloc_at_acyclic(tok, sizeof(node_t), NODE, 2);
  n->left = l;
  n->right = r;
  n->key = k;
  n->color = (uint8_t)color;
  n->value = (uint8_t)v;
  return &n->header;
}

/* The drop-specialised match of an owned node binding both children: when unique the
 * children move out and the cell becomes the branch's token; when shared the children are
 * dup'ed and the reference given up. */
static inline hrc_reuse_t open_node(hrc_obj_t *t, hrc_obj_t **l, hrc_obj_t **r) {
  *l = N(t)->left;
  *r = N(t)->right;
  if (hrc_is_unique(t)) {
#ifdef RBTREE_NO_REUSE
    hrc_free_cell(t);
    return HRC_NO_REUSE;
#else
    return hrc_reuse_cell(t);
#endif
  }
  hrc_dup(*l);
  hrc_dup(*r);
  hrc_decref(t);
  return HRC_NO_REUSE;
}

/* fun is-red(^t) */
static inline int is_red(hrc_obj_t *t) { return !hrc_is_scalar(t) && N(t)->color == RED; }

/* fun balance-left(l, k, v, r): l is the red result of inserting left, with one red child. */
static hrc_obj_t *balance_left(hrc_obj_t *l, int32_t k, int v, hrc_obj_t *r) {
  if (hrc_is_scalar(l)) {
    hrc_drop(r);
    return LEAF;
  }
  hrc_obj_t *a, *b, *x, *y;
  int32_t ky = N(l)->key;
  int vy = N(l)->value;
  if (is_red(N(l)->left)) { /* Node(_, Node(Red, lx, kx, vx, rx), ky, vy, ry) */
    hrc_obj_t *inner = N(l)->left;
    int32_t kx = N(inner)->key;
    int vx = N(inner)->value;
    hrc_reuse_t t1 = open_node(l, &inner, &y);
    hrc_reuse_t t2 = open_node(inner, &a, &b);
    return Node(t1, RED, Node(t2, BLACK, a, kx, vx, b), ky, vy, Node(HRC_NO_REUSE, BLACK, y, k, v, r));
  }
  if (is_red(N(l)->right)) { /* Node(_, ly, ky, vy, Node(Red, lx, kx, vx, rx)) */
    hrc_obj_t *inner = N(l)->right;
    int32_t kx = N(inner)->key;
    int vx = N(inner)->value;
    hrc_reuse_t t1 = open_node(l, &x, &inner);
    hrc_reuse_t t2 = open_node(inner, &a, &b);
    return Node(t1, RED, Node(t2, BLACK, x, ky, vy, a), kx, vx, Node(HRC_NO_REUSE, BLACK, b, k, v, r));
  }
  hrc_reuse_t t1 = open_node(l, &a, &b); /* Node(_, lx, kx, vx, rx) */
  return Node(HRC_NO_REUSE, BLACK, Node(t1, RED, a, ky, vy, b), k, v, r);
}

/* fun balance-right(l, k, v, r): r is the red result of inserting right, with one red child. */
static hrc_obj_t *balance_right(hrc_obj_t *l, int32_t k, int v, hrc_obj_t *r) {
  if (hrc_is_scalar(r)) {
    hrc_drop(l);
    return LEAF;
  }
  hrc_obj_t *a, *b, *x, *y;
  int32_t ky = N(r)->key;
  int vy = N(r)->value;
  if (is_red(N(r)->left)) { /* Node(_, Node(Red, lx, kx, vx, rx), ky, vy, ry) */
    hrc_obj_t *inner = N(r)->left;
    int32_t kx = N(inner)->key;
    int vx = N(inner)->value;
    hrc_reuse_t t1 = open_node(r, &inner, &y);
    hrc_reuse_t t2 = open_node(inner, &a, &b);
    return Node(t1, RED, Node(HRC_NO_REUSE, BLACK, l, k, v, a), kx, vx, Node(t2, BLACK, b, ky, vy, y));
  }
  if (is_red(N(r)->right)) { /* Node(_, lx, kx, vx, Node(Red, ly, ky, vy, ry)) */
    hrc_obj_t *inner = N(r)->right;
    int32_t kz = N(inner)->key;
    int vz = N(inner)->value;
    hrc_reuse_t t1 = open_node(r, &x, &inner);
    hrc_reuse_t t2 = open_node(inner, &a, &b);
    return Node(t1, RED, Node(HRC_NO_REUSE, BLACK, l, k, v, x), ky, vy, Node(t2, BLACK, a, kz, vz, b));
  }
  hrc_reuse_t t1 = open_node(r, &a, &b); /* Node(_, lx, kx, vx, rx) */
  return Node(HRC_NO_REUSE, BLACK, l, k, v, Node(t1, RED, a, ky, vy, b));
}

/* fun ins(t, k, v): t owned. */
static hrc_obj_t *ins(hrc_obj_t *t, int32_t k, int v) {
  if (hrc_is_scalar(t)) return Node(HRC_NO_REUSE, RED, LEAF, k, v, LEAF);
  int color = N(t)->color;
  int32_t kx = N(t)->key;
  int vx = N(t)->value;
  hrc_obj_t *l, *r;
  hrc_reuse_t tok = open_node(t, &l, &r);
  if (color == RED) {
    if (k < kx) return Node(tok, RED, ins(l, k, v), kx, vx, r);
    if (k == kx) return Node(tok, RED, l, k, v, r);
    return Node(tok, RED, l, kx, vx, ins(r, k, v));
  }
  if (k < kx) {
    if (is_red(l)) {
      hrc_reuse_free(tok); /* this branch builds no node itself */
      return balance_left(ins(l, k, v), kx, vx, r);
    }
    return Node(tok, BLACK, ins(l, k, v), kx, vx, r);
  }
  if (k == kx) return Node(tok, BLACK, l, k, v, r);
  if (is_red(r)) {
    hrc_reuse_free(tok);
    return balance_right(l, kx, vx, ins(r, k, v));
  }
  return Node(tok, BLACK, l, kx, vx, ins(r, k, v));
}

/* fun set-black(t) */
static hrc_obj_t *set_black(hrc_obj_t *t) {
  if (hrc_is_scalar(t)) return t;
  int32_t k = N(t)->key;
  int v = N(t)->value;
  hrc_obj_t *l, *r;
  hrc_reuse_t tok = open_node(t, &l, &r);
  return Node(tok, BLACK, l, k, v, r);
}

/* fun insert(t, k, v) = if is-red(t) then set-black(ins(t, k, v)) else ins(t, k, v) */
static hrc_obj_t *insert(hrc_obj_t *t, int32_t k, int v) {
  if (is_red(t)) return set_black(ins(t, k, v));
  return ins(t, k, v);
}

/* fun fold(^t, acc) counting the true values (the fold with its lambda specialised). */
static long count_true(hrc_obj_t *t, long acc) {
  while (!hrc_is_scalar(t)) {
    acc = count_true(N(t)->left, acc) + (N(t)->value ? 1 : 0);
    t = N(t)->right;
  }
  return acc;
}

static hrc_obj_t *Cons(hrc_obj_t *h, hrc_obj_t *t) {
  cons_t *c = (cons_t *)hrc_alloc_acyclic(sizeof(cons_t), CONS, 2);
  c->head = h;
  c->tail = t;
  return &c->header;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 4200000;
  long freq = argc > 2 ? atol(argv[2]) : 0;
  if (n < 0 || n > INT32_MAX || freq < 0) {
    fprintf(stderr, "usage: rbtree [n] [freq]\n");
    return 2;
  }
  bench_start();
  hrc_obj_t *t = LEAF, *kept = NIL;
  for (long i = n; i > 0; i--) { /* make-tree-aux, a tail call: a loop */
    int32_t k = (int32_t)(i - 1);
    t = insert(t, k, k % 10 == 0);
    if (freq > 0 && k % freq == 0) kept = Cons(hrc_dup(t), kept);
  }
  if (freq > 0) kept = Cons(hrc_dup(t), kept);
  long check = count_true(t, 0);
  hrc_drop(t);
  if (freq > 0) check = count_true(((cons_t *)kept)->head, 0);
  hrc_drop(kept);
  printf("%ld\n", check);
#ifdef RBTREE_NO_REUSE
  const char *name = freq > 0 ? "rbtree-ck-noreuse" : "rbtree-noreuse";
#else
  const char *name = freq > 0 ? "rbtree-ck" : "rbtree";
#endif
  bench_report(name, n, check, n);
  return 0;
}
