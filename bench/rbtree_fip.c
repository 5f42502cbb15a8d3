/* rbtree_fip.c: the fully-in-place red-black tree insertion (the zipper formulation of
 * Lorenzen, Leijen and Swierstra's "FP^2: Fully in-Place Functional Programming", ICFP 2023,
 * whose Koka version reached 1.03x the imperative C tree): the same keys, values and fold as
 * rbtree.c, but insertion walks down turning each visited node into a zipper frame in place,
 * then walks back up rebalancing, turning each frame back into a node in place. Every function
 * is tail recursive, so the lowering is three loops; a unique tree allocates exactly one node
 * per inserted key and frees nothing. Lowered as Koka's compiler lowers it (docs/lowering.md):
 * drop specialisation, reuse tokens, and reuse specialisation (a token rebuilt as a constructor
 * that keeps some of its fields writes its tag and the changed fields only), so a shared tree
 * is copied along the path as usual.
 *
 *   type tree   = Node(color, left, key, value, right) | Leaf
 *   type zipper = NodeR(color, left, key, value, zip) | NodeL(color, zip, key, value, right) | Done
 *
 * Usage: rbtree-fip [n]. All three constructors are 32 bytes (two scanned fields, then key,
 * color and value in one scalar word), so each one's cell is a token for the others.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_report.h"
#include "hrc.h"

enum { NODE = 1, NODER = 2, NODEL = 3 };
enum { RED = 0, BLACK = 1 };
#define LEAF hrc_box_int(0)
#define DONE hrc_box_int(0)

typedef struct cell_s { /* Node(c, a, k, v, b), NodeR(c, a=left, k, v, b=zip), NodeL(c, a=zip, k, v, b=right) */
  hrc_obj_t header;
  hrc_obj_t *a, *b;
  int32_t key;
  uint8_t color, value;
} cell_t;

#define C(t) ((cell_t *)(t))

/* Build a cell in tok (or a fresh one). */
static inline hrc_obj_t *Cell(hrc_reuse_t tok, int tag, int color, hrc_obj_t *a, int32_t k, int v,
                              hrc_obj_t *b) {
  cell_t *n = (cell_t *)hrc_alloc_at_acyclic(tok, sizeof(cell_t), (unsigned)tag, 2);
  n->a = a;
  n->b = b;
  n->key = k;
  n->color = (uint8_t)color;
  n->value = (uint8_t)v;
  return &n->header;
}

/* The reuse-specialised constructor (rbtree.c's SAME_OR_FRESH, with the tag set): in a token
 * only the tag and the fields the assignments after it name are written; without one the whole
 * cell is allocated. */
#define AS_OR_FRESH(n, tok, tag, c, a, k, v, b)                                                    \
  cell_t *n = (tok) != HRC_NO_REUSE ? (cell_t *)hrc_reuse_as(tok, tag)                              \
                                    : (cell_t *)Cell(HRC_NO_REUSE, tag, c, a, k, v, b);            \
  if ((tok) != HRC_NO_REUSE)

/* The drop-specialised match of an owned cell binding both scanned fields (see rbtree.c). */
static inline hrc_reuse_t open_cell(hrc_obj_t *t, hrc_obj_t **a, hrc_obj_t **b) {
  *a = C(t)->a;
  *b = C(t)->b;
  if (hrc_is_unique(t)) return hrc_reuse_cell(t);
  hrc_dup(*a);
  hrc_dup(*b);
  hrc_decref(t);
  return HRC_NO_REUSE;
}

/* fun rebuild(z, t): plug t back into the zipper, frame by frame. */
static hrc_obj_t *rebuild(hrc_obj_t *z, hrc_obj_t *t) {
  while (!hrc_is_scalar(z)) {
    int tag = z->tag, c = C(z)->color, v = C(z)->value;
    int32_t k = C(z)->key;
    hrc_obj_t *a, *b;
    hrc_reuse_t tok = open_cell(z, &a, &b);
    if (tag == NODER) { /* NodeR(c, l, k, v, z1) -> rebuild(z1, Node(c, l, k, v, t)) */
      AS_OR_FRESH(n, tok, NODE, c, a, k, v, t) { n->b = t; }
      t = &n->header;
      z = b;
    } else { /* NodeL(c, z1, k, v, r) -> rebuild(z1, Node(c, t, k, v, r)) */
      AS_OR_FRESH(n, tok, NODE, c, t, k, v, b) { n->a = t; }
      t = &n->header;
      z = a;
    }
  }
  return t;
}

/* fun balance(z, l, k, v, r): place the red node (l, k, v, r) at z, restoring the colour
 * invariant upwards. Passed as its parts (Koka passes them unboxed), it is built only where it
 * ends up: the one cell an insertion allocates. */
static hrc_obj_t *balance(hrc_obj_t *z, hrc_obj_t *l, int32_t k, int v, hrc_obj_t *r) {
  for (;;) {
    if (hrc_is_scalar(z)) return Cell(HRC_NO_REUSE, NODE, BLACK, l, k, v, r); /* Done */
    int tag = z->tag, c1 = C(z)->color, v1 = C(z)->value;
    int32_t k1 = C(z)->key;
    hrc_obj_t *a1, *b1;
    if (c1 == BLACK) { /* the parent is black: done after one red node */
      hrc_reuse_t tok = open_cell(z, &a1, &b1);
      hrc_obj_t *red = Cell(HRC_NO_REUSE, NODE, RED, l, k, v, r);
      if (tag == NODER) {
        AS_OR_FRESH(n, tok, NODE, BLACK, a1, k1, v1, red) { n->b = red; }
        return rebuild(b1, &n->header);
      }
      AS_OR_FRESH(n, tok, NODE, BLACK, red, k1, v1, b1) { n->a = red; }
      return rebuild(a1, &n->header);
    }
    hrc_reuse_t tok1 = open_cell(z, &a1, &b1);
    hrc_obj_t *z1 = tag == NODER ? b1 : a1;
    if (hrc_is_scalar(z1)) { /* the red parent is the root: it turns black */
      hrc_obj_t *red = Cell(HRC_NO_REUSE, NODE, RED, l, k, v, r);
      if (tag == NODER) {
        AS_OR_FRESH(n, tok1, NODE, BLACK, a1, k1, v1, red) {
          n->color = BLACK;
          n->b = red;
        }
        return &n->header;
      }
      AS_OR_FRESH(n, tok1, NODE, BLACK, red, k1, v1, b1) {
        n->color = BLACK;
        n->a = red;
      }
      return &n->header;
    }
    int tag2 = z1->tag, v2 = C(z1)->value;
    int32_t k2 = C(z1)->key;
    hrc_obj_t *a2, *b2;
    hrc_reuse_t tok2 = open_cell(z1, &a2, &b2);
    hrc_obj_t *nl, *nr, *z2;
    int32_t nk;
    int nv;
    if (tag == NODER) { /* parent (l1, k1, node) */
      hrc_obj_t *l1 = a1;
      if (tag2 == NODER) { /* grandparent (l2, k2, parent) */
        AS_OR_FRESH(cl, tok2, NODE, BLACK, a2, k2, v2, l1) {
          cl->color = BLACK;
          cl->b = l1;
        }
        nl = &cl->header;
        nk = k1, nv = v1;
        nr = Cell(tok1, NODE, BLACK, l, k, v, r);
        z2 = b2;
      } else { /* grandparent (parent, k2, r2) */
        AS_OR_FRESH(cl, tok1, NODE, BLACK, l1, k1, v1, l) {
          cl->color = BLACK;
          cl->b = l;
        }
        nl = &cl->header;
        nk = k, nv = v;
        AS_OR_FRESH(cr, tok2, NODE, BLACK, r, k2, v2, b2) {
          cr->color = BLACK;
          cr->a = r;
        }
        nr = &cr->header;
        z2 = a2;
      }
    } else { /* parent (node, k1, r1) */
      hrc_obj_t *r1 = b1;
      if (tag2 == NODER) { /* grandparent (l2, k2, parent) */
        AS_OR_FRESH(cl, tok2, NODE, BLACK, a2, k2, v2, l) {
          cl->color = BLACK;
          cl->b = l;
        }
        nl = &cl->header;
        nk = k, nv = v;
        AS_OR_FRESH(cr, tok1, NODE, BLACK, r, k1, v1, r1) {
          cr->color = BLACK;
          cr->a = r;
        }
        nr = &cr->header;
        z2 = b2;
      } else { /* grandparent (parent, k2, r2) */
        nl = Cell(tok1, NODE, BLACK, l, k, v, r);
        nk = k1, nv = v1;
        AS_OR_FRESH(cr, tok2, NODE, BLACK, r1, k2, v2, b2) {
          cr->color = BLACK;
          cr->a = r1;
        }
        nr = &cr->header;
        z2 = a2;
      }
    }
    z = z2, l = nl, k = nk, v = nv, r = nr; /* balance(z2, nl, nk, nv, nr) */
  }
}

/* fun ins(t, k, v, z): t and z owned; walks down, each node becoming a frame in place. */
static hrc_obj_t *ins(hrc_obj_t *t, int32_t k, int v, hrc_obj_t *z) {
  while (!hrc_is_scalar(t)) {
    int c = C(t)->color, vx = C(t)->value;
    int32_t kx = C(t)->key;
    hrc_obj_t *l, *r;
    hrc_reuse_t tok = open_cell(t, &l, &r);
    if (k < kx) { /* ins(l, k, v, NodeL(c, z, kx, vx, r)) */
      AS_OR_FRESH(n, tok, NODEL, c, z, kx, vx, r) { n->a = z; }
      z = &n->header;
      t = l;
    } else if (k > kx) { /* ins(r, k, v, NodeR(c, l, kx, vx, z)) */
      AS_OR_FRESH(n, tok, NODER, c, l, kx, vx, z) { n->b = z; }
      z = &n->header;
      t = r;
    } else { /* rebuild(z, Node(c, l, kx, v, r)) */
      AS_OR_FRESH(n, tok, NODE, c, l, kx, v, r) { n->value = (uint8_t)v; }
      return rebuild(z, &n->header);
    }
  }
  return balance(z, LEAF, k, v, LEAF);
}

/* fun fold(^t, acc) counting the true values. */
static long count_true(hrc_obj_t *t, long acc) {
  while (!hrc_is_scalar(t)) {
    acc = count_true(C(t)->a, acc) + (C(t)->value ? 1 : 0);
    t = C(t)->b;
  }
  return acc;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 4200000;
  if (n < 0 || n > INT32_MAX) {
    fprintf(stderr, "usage: rbtree-fip [n]\n");
    return 2;
  }
  bench_start();
  hrc_obj_t *t = LEAF;
  for (long i = n; i > 0; i--) {
    int32_t k = (int32_t)(i - 1);
    t = ins(t, k, k % 10 == 0, DONE);
  }
  long check = count_true(t, 0);
  hrc_drop(t);
  printf("%ld\n", check);
  bench_report("rbtree-fip", n, check, n);
  return 0;
}
