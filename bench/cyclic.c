/* cyclic.c: cyclic garbage built and dropped in a loop: rings, doubly linked lists and
 * closures whose environment points back to them. Reference counting alone cannot free any
 * of it (rc mode leaks by design); the backstop must. Usage: cyclic [rounds] (default 2000).
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_report.h"
#include "hrc.h"

enum { CELL = 1, DNODE = 2 };

typedef struct cell_s {
  hrc_obj_t header;
  hrc_obj_t *value, *next;
} cell_t;

typedef struct dnode_s {
  hrc_obj_t header;
  hrc_obj_t *prev, *next;
} dnode_t;

/* A ring of n cells: each points to the next, the last to the first. */
static hrc_obj_t *ring(int n) {
  cell_t *first = (cell_t *)hrc_alloc(sizeof(cell_t), CELL, 2);
  first->value = hrc_box_int(0);
  first->next = hrc_box_int(0);
  hrc_obj_t *xs = hrc_obj_dup(&first->header);
  for (int i = 1; i < n; i++) {
    cell_t *c = (cell_t *)hrc_alloc(sizeof(cell_t), CELL, 2);
    c->value = hrc_box_int(i);
    c->next = xs;
    xs = &c->header;
  }
  first->next = xs;
  return &first->header;
}

/* A doubly linked list of n nodes; returns its head. */
static hrc_obj_t *dlist(int n) {
  dnode_t *head = (dnode_t *)hrc_alloc(sizeof(dnode_t), DNODE, 2);
  head->prev = head->next = hrc_box_int(0);
  dnode_t *cur = head;
  for (int i = 1; i < n; i++) {
    dnode_t *d = (dnode_t *)hrc_alloc(sizeof(dnode_t), DNODE, 2);
    d->prev = hrc_obj_dup(&cur->header);
    d->next = hrc_box_int(0);
    cur->next = hrc_obj_dup(&d->header);
    if (cur != head) hrc_obj_drop(&cur->header);
    cur = d;
  }
  if (cur != head) hrc_obj_drop(&cur->header);
  return &head->header;
}

static hrc_obj_t *loop_code(hrc_closure_t *self, hrc_obj_t *x) {
  hrc_obj_drop(&self->header);
  return x;
}

/* A closure that captures a cell which points back to the closure. */
static hrc_obj_t *knot(void) {
  hrc_closure_t *f = hrc_closure_alloc((hrc_code_t)loop_code, 1, 0);
  cell_t *c = (cell_t *)hrc_alloc(sizeof(cell_t), CELL, 2);
  c->value = hrc_box_int(1);
  c->next = hrc_obj_dup(&f->header);
  f->env[0] = &c->header;
  return &f->header;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 2000;
  bench_start();
  long sum = 0, made = 0;
  for (int r = 0; r < rounds; r++) {
    hrc_obj_t *a = ring(100), *b = dlist(100), *k = knot();
    sum += hrc_unbox_int(((cell_t *)a)->value) + 1;
    made += 100 + 100 + 2;
    hrc_drop(a);
    hrc_drop(b);
    hrc_drop(k);
  }
  printf("%d rounds of cyclic garbage, check %ld\n", rounds, sum);
  bench_report("cyclic", rounds, sum, made);
  return 0;
}
