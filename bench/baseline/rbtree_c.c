/* rbtree_c.c: the baseline a functional red-black tree aims at: a textbook imperative
 * red-black tree (parent pointers, insertion fix-up by recolouring and rotations) with the same
 * keys, values and fold as bench/rbtree.c, then every node freed. Builds against the C library's
 * malloc, or mimalloc with -DRBTREE_MIMALLOC. Usage: rbtree-c [n] (default 4,200,000).
 * A node is 32 bytes, like the functional one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../bench_report_plain.h"

#ifdef RBTREE_MIMALLOC
#include <mimalloc.h>
#define node_alloc(n) mi_malloc(n)
#define node_free(p) mi_free(p)
#define BASELINE_NAME "rbtree-c-mimalloc"
#else
#define node_alloc(n) malloc(n)
#define node_free(p) free(p)
#define BASELINE_NAME "rbtree-c-malloc"
#endif

enum { RED = 0, BLACK = 1 };

typedef struct node_s {
  struct node_s *left, *right, *parent;
  int32_t key;
  uint8_t color, value;
} node_t;

/* Rotate x's right child up into x's place. */
static void rotate_left(node_t **root, node_t *x) {
  node_t *y = x->right;
  x->right = y->left;
  if (y->left) y->left->parent = x;
  y->parent = x->parent;
  if (!x->parent) *root = y;
  else if (x == x->parent->left) x->parent->left = y;
  else x->parent->right = y;
  y->left = x;
  x->parent = y;
}

/* Rotate x's left child up into x's place. */
static void rotate_right(node_t **root, node_t *x) {
  node_t *y = x->left;
  x->left = y->right;
  if (y->right) y->right->parent = x;
  y->parent = x->parent;
  if (!x->parent) *root = y;
  else if (x == x->parent->right) x->parent->right = y;
  else x->parent->left = y;
  y->right = x;
  x->parent = y;
}

/* Insert or update key k, then restore the red-black properties. */
static void insert(node_t **root, int32_t k, int v) {
  node_t *p = NULL, **slot = root;
  while (*slot) {
    p = *slot;
    if (k < p->key) slot = &p->left;
    else if (k > p->key) slot = &p->right;
    else {
      p->value = (uint8_t)v;
      return;
    }
  }
  node_t *z = node_alloc(sizeof(node_t));
  if (!z) {
    fprintf(stderr, "rbtree-c: out of memory\n");
    exit(1);
  }
  *z = (node_t){NULL, NULL, p, k, RED, (uint8_t)v};
  *slot = z;
  while (z->parent && z->parent->color == RED) {
    node_t *g = z->parent->parent;
    if (z->parent == g->left) {
      node_t *u = g->right;
      if (u && u->color == RED) {
        z->parent->color = u->color = BLACK;
        g->color = RED;
        z = g;
      } else {
        if (z == z->parent->right) {
          z = z->parent;
          rotate_left(root, z);
        }
        z->parent->color = BLACK;
        g->color = RED;
        rotate_right(root, g);
      }
    } else {
      node_t *u = g->left;
      if (u && u->color == RED) {
        z->parent->color = u->color = BLACK;
        g->color = RED;
        z = g;
      } else {
        if (z == z->parent->left) {
          z = z->parent;
          rotate_right(root, z);
        }
        z->parent->color = BLACK;
        g->color = RED;
        rotate_left(root, g);
      }
    }
  }
  (*root)->color = BLACK;
}

/* Count the true values, in order. */
static long count_true(const node_t *t, long acc) {
  while (t) {
    acc = count_true(t->left, acc) + t->value;
    t = t->right;
  }
  return acc;
}

/* Free every node. */
static void free_tree(node_t *t) {
  while (t) {
    free_tree(t->left);
    node_t *r = t->right;
    node_free(t);
    t = r;
  }
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 4200000;
  bench_start();
  node_t *root = NULL;
  for (long i = n; i > 0; i--) {
    int32_t k = (int32_t)(i - 1);
    insert(&root, k, k % 10 == 0);
  }
  long check = count_true(root, 0);
  free_tree(root);
  printf("%ld\n", check);
  bench_report_plain(BASELINE_NAME, n, check);
  return 0;
}
