/* rbtree.c: the Perceus paper's functional red-black tree (Koka's rbtree.kk and rbtree-ck.kk),
 * lowered as Koka's compiler lowers it (docs/lowering.md): owned parameters, drop
 * specialisation at every match, reuse tokens for the constructors of the same size, reuse
 * specialisation (a token rebuilt as the constructor it held writes only the fields that
 * change, sections 4 and 7), tail recursion modulo cons through a constructor context in `ins`
 * (section 7), and balance-left/balance-right inlined into `ins` (Koka's inliner does), so the
 * token of the Black node they replace builds one of their nodes: an insert into a unique tree
 * allocates one node, the new leaf. One file builds every mode.
 *
 * Which token builds which node: Koka pairs a constructor with any available token of its
 * size; here each goes to the node that keeps most of the token's fields (the pairing its
 * specialisation pays most on; a different pairing writes a few more fields, never allocates).
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
 * one scalar word, so a node is 32 bytes. Leaf is the boxed scalar 0. Koka's rbtree-ck.kk has
 * `key : int`: built with -DRBTREE_INT_KEYS (the rbtree-ck executables) the key is a word of
 * its own, as Koka's small integer is, and a node 40 bytes.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_report.h"
#include "hrc.h"

enum { NODE = 1, CONS = 2 };
enum { RED = 0, BLACK = 1 };
#define LEAF hrc_box_int(0)
#define NIL hrc_box_int(0)

#ifdef RBTREE_INT_KEYS
typedef intptr_t rb_key_t; /* Koka's int (rbtree-ck.kk): a word */
#else
typedef int32_t rb_key_t; /* Koka's int32 (rbtree.kk) */
#endif

typedef struct node_s {
  hrc_obj_t header;
  hrc_obj_t *left, *right;
  rb_key_t key;
  uint8_t color, value;
} node_t;

typedef struct cons_s {
  hrc_obj_t header;
  hrc_obj_t *head, *tail;
} cons_t;

#define N(t) ((node_t *)(t))

/* A fresh Node(color, l, k, v, r): the allocation when no token serves. */
static inline node_t *fresh(int color, hrc_obj_t *l, rb_key_t k, int v, hrc_obj_t *r) {
  node_t *n = (node_t *)hrc_alloc_acyclic(sizeof(node_t), NODE, 2);
  n->left = l;
  n->right = r;
  n->key = k;
  n->color = (uint8_t)color;
  n->value = (uint8_t)v;
  return n;
}

/* The reuse-specialised constructor (Koka's ParcReuseSpec): in a token of this very Node only
 * the fields the assignments after it name are written, the rest (header included) stay as
 * they were; without a token, the whole Node is allocated. Usage:
 *     SAME_OR_FRESH(n, tok, RED, l, kx, vx, r) { n->left = x; }   // only left changes */
#define SAME_OR_FRESH(n, tok, color, l, k, v, r)                                                   \
  node_t *n = (tok) != HRC_NO_REUSE ? (node_t *)hrc_reuse_same(tok) : fresh(color, l, k, v, r);    \
  if ((tok) != HRC_NO_REUSE)

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

/* balance-left(l, k, v, r) inlined where ins calls it, Black node's token in hand: tok is the
 * cell of the Black node Node(Black, _, k, v, r) that ins matched, whose colour, key, value and
 * right child the Node(Black, _, k, v, r) built here keeps. l is ins' result: a node. */
static inline hrc_obj_t *balance_left(hrc_reuse_t tok, hrc_obj_t *l, rb_key_t k, int v,
                                      hrc_obj_t *r) {
  if (hrc_is_scalar(l)) { /* Leaf -> Leaf */
    hrc_reuse_free(tok);
    hrc_drop(r);
    return LEAF;
  }
  rb_key_t ky = N(l)->key;
  int vy = N(l)->value;
  hrc_obj_t *a, *b, *inner, *y;
  if (is_red(N(l)->left)) {
    /* Node(_, Node(Red, a, kx, vx, b), ky, vy, y)
     *   -> Node(Red, Node(Black, a, kx, vx, b), ky, vy, Node(Black, y, k, v, r)) */
    hrc_reuse_t t1 = open_node(l, &inner, &y);
    rb_key_t kx = N(inner)->key;
    int vx = N(inner)->value;
    hrc_reuse_t t2 = open_node(inner, &a, &b);
    SAME_OR_FRESH(n2, t2, BLACK, a, kx, vx, b) { n2->color = BLACK; }
    SAME_OR_FRESH(n3, tok, BLACK, y, k, v, r) { n3->left = y; }
    SAME_OR_FRESH(n1, t1, RED, &n2->header, ky, vy, &n3->header) {
      n1->color = RED;
      n1->left = &n2->header;
      n1->right = &n3->header;
    }
    return &n1->header;
  }
  if (is_red(N(l)->right)) {
    /* Node(_, y, ky, vy, Node(Red, a, kx, vx, b))
     *   -> Node(Red, Node(Black, y, ky, vy, a), kx, vx, Node(Black, b, k, v, r)) */
    hrc_reuse_t t1 = open_node(l, &y, &inner);
    rb_key_t kx = N(inner)->key;
    int vx = N(inner)->value;
    hrc_reuse_t t2 = open_node(inner, &a, &b);
    SAME_OR_FRESH(n1, t1, BLACK, y, ky, vy, a) {
      n1->color = BLACK;
      n1->right = a;
    }
    SAME_OR_FRESH(n3, tok, BLACK, b, k, v, r) { n3->left = b; }
    SAME_OR_FRESH(n2, t2, RED, &n1->header, kx, vx, &n3->header) {
      n2->left = &n1->header;
      n2->right = &n3->header;
    }
    return &n2->header;
  }
  /* Node(_, a, ky, vy, b) -> Node(Black, Node(Red, a, ky, vy, b), k, v, r) */
  hrc_reuse_t t1 = open_node(l, &a, &b);
  SAME_OR_FRESH(n1, t1, RED, a, ky, vy, b) { n1->color = RED; }
  SAME_OR_FRESH(n3, tok, BLACK, &n1->header, k, v, r) { n3->left = &n1->header; }
  return &n3->header;
}

/* balance-right(l, k, v, r) inlined into ins the same way: tok is the cell of the Black node
 * Node(Black, l, k, v, _), whose colour, left child, key and value stay. */
static inline hrc_obj_t *balance_right(hrc_reuse_t tok, hrc_obj_t *l, rb_key_t k, int v,
                                       hrc_obj_t *r) {
  if (hrc_is_scalar(r)) { /* Leaf -> Leaf */
    hrc_reuse_free(tok);
    hrc_drop(l);
    return LEAF;
  }
  rb_key_t ky = N(r)->key;
  int vy = N(r)->value;
  hrc_obj_t *a, *b, *inner, *x, *y;
  if (is_red(N(r)->left)) {
    /* Node(_, Node(Red, x, kx, vx, a), ky, vy, y)
     *   -> Node(Red, Node(Black, l, k, v, x), kx, vx, Node(Black, a, ky, vy, y)) */
    hrc_reuse_t t1 = open_node(r, &inner, &y);
    rb_key_t kx = N(inner)->key;
    int vx = N(inner)->value;
    hrc_reuse_t t2 = open_node(inner, &x, &a);
    SAME_OR_FRESH(n0, tok, BLACK, l, k, v, x) { n0->right = x; }
    SAME_OR_FRESH(n1, t1, BLACK, a, ky, vy, y) {
      n1->color = BLACK;
      n1->left = a;
    }
    SAME_OR_FRESH(n2, t2, RED, &n0->header, kx, vx, &n1->header) {
      n2->left = &n0->header;
      n2->right = &n1->header;
    }
    return &n2->header;
  }
  if (is_red(N(r)->right)) {
    /* Node(_, x, ky, vy, Node(Red, a, kz, vz, b))
     *   -> Node(Red, Node(Black, l, k, v, x), ky, vy, Node(Black, a, kz, vz, b)) */
    hrc_reuse_t t1 = open_node(r, &x, &inner);
    rb_key_t kz = N(inner)->key;
    int vz = N(inner)->value;
    hrc_reuse_t t2 = open_node(inner, &a, &b);
    SAME_OR_FRESH(n0, tok, BLACK, l, k, v, x) { n0->right = x; }
    SAME_OR_FRESH(n2, t2, BLACK, a, kz, vz, b) { n2->color = BLACK; }
    SAME_OR_FRESH(n1, t1, RED, &n0->header, ky, vy, &n2->header) {
      n1->color = RED;
      n1->left = &n0->header;
      n1->right = &n2->header;
    }
    return &n1->header;
  }
  /* Node(_, a, ky, vy, b) -> Node(Black, l, k, v, Node(Red, a, ky, vy, b)) */
  hrc_reuse_t t1 = open_node(r, &a, &b);
  SAME_OR_FRESH(n1, t1, RED, a, ky, vy, b) { n1->color = RED; }
  SAME_OR_FRESH(n0, tok, BLACK, l, k, v, &n1->header) { n0->right = &n1->header; }
  return &n0->header;
}

/* fun ins(t, k, v): t owned. Tail recursive modulo cons (hrc_trmc.h): the nodes rebuilt on
 * the way down go into the context acc with the child still to come as its hole, so the
 * descent is a loop; only the balancing branches, whose recursive call is an argument of
 * balance, recurse. The tests come in the source's order, as Koka's match compiles them: the
 * colour (the clause), then k < kx, then k > kx; the clause's fields are read after its test
 * and the node is drop-specialised before the body's tests, as Perceus places it. */
static hrc_obj_t *ins(hrc_obj_t *t, rb_key_t k, int v) {
  hrc_ctx_t acc = hrc_ctx_empty();
  for (;;) {
    if (hrc_is_scalar(t)) /* Leaf -> Node(Red, Leaf, k, v, Leaf) */
      return hrc_ctx_apply(acc, &fresh(RED, LEAF, k, v, LEAF)->header);
    int color = N(t)->color;
    rb_key_t kx = N(t)->key;
    int vx = N(t)->value;
    hrc_obj_t *l, *r;
    hrc_reuse_t tok = open_node(t, &l, &r);
    if (color == RED) {
      if (k < kx) { /* Node(Red, ins(l, k, v), kx, vx, r) */
        SAME_OR_FRESH(n, tok, RED, LEAF, kx, vx, r) {}
        acc = hrc_ctx_extend(acc, &n->header, &n->left);
        t = l;
        continue;
      }
      if (k > kx) { /* Node(Red, l, kx, vx, ins(r, k, v)) */
        SAME_OR_FRESH(n, tok, RED, l, kx, vx, LEAF) {}
        acc = hrc_ctx_extend(acc, &n->header, &n->right);
        t = r;
        continue;
      }
      SAME_OR_FRESH(n, tok, RED, l, k, v, r) { /* Node(Red, l, k, v, r) */
        n->key = k;
        n->value = (uint8_t)v;
      }
      return hrc_ctx_apply(acc, &n->header);
    }
    if (k < kx) {
      if (is_red(l)) /* balance-left(ins(l, k, v), kx, vx, r) */
        return hrc_ctx_apply(acc, balance_left(tok, ins(l, k, v), kx, vx, r));
      SAME_OR_FRESH(n, tok, BLACK, LEAF, kx, vx, r) {} /* Node(Black, ins(l, k, v), kx, vx, r) */
      acc = hrc_ctx_extend(acc, &n->header, &n->left);
      t = l;
      continue;
    }
    if (k > kx) {
      if (is_red(r)) /* balance-right(l, kx, vx, ins(r, k, v)) */
        return hrc_ctx_apply(acc, balance_right(tok, l, kx, vx, ins(r, k, v)));
      SAME_OR_FRESH(n, tok, BLACK, l, kx, vx, LEAF) {} /* Node(Black, l, kx, vx, ins(r, k, v)) */
      acc = hrc_ctx_extend(acc, &n->header, &n->right);
      t = r;
      continue;
    }
    SAME_OR_FRESH(n, tok, BLACK, l, k, v, r) { /* Node(Black, l, k, v, r) */
      n->key = k;
      n->value = (uint8_t)v;
    }
    return hrc_ctx_apply(acc, &n->header);
  }
}

/* fun set-black(t) */
static hrc_obj_t *set_black(hrc_obj_t *t) {
  if (hrc_is_scalar(t)) return t;
  rb_key_t k = N(t)->key;
  int v = N(t)->value;
  hrc_obj_t *l, *r;
  hrc_reuse_t tok = open_node(t, &l, &r);
  SAME_OR_FRESH(n, tok, BLACK, l, k, v, r) { n->color = BLACK; }
  return &n->header;
}

/* fun insert(t, k, v) = ins(t, k, v).set-black */
static hrc_obj_t *insert(hrc_obj_t *t, rb_key_t k, int v) { return set_black(ins(t, k, v)); }

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
    rb_key_t k = (rb_key_t)(i - 1);
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
