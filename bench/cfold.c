/* cfold.c: constant folding (the Perceus paper's cfold, from Lean's const_fold): build
 * mk_expr(n, 1), evaluate it, reassociate it, fold its constants and evaluate again. Lowered
 * as Koka's compiler lowers it (docs/lowering.md), append_add/append_mul with a constructor
 * context (tail recursion modulo cons, section 7) and reuse specialisation (section 4) as Koka
 * compiles them; the rest recurses half
 * a million calls deep on the reassociated chains, so it runs on a 1 GiB stack.
 * Usage: cfold [n] (default 20). The check is the folded value (3447966 for 20).
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_report.h"
#include "hrc.h"

enum { VAR = 1, VAL, ADD, MUL };

typedef struct val_s { hrc_obj_t header; intptr_t n; } val_t;       /* Var(n), Val(n) */
typedef struct bin_s { hrc_obj_t header; hrc_obj_t *l, *r; } bin_t; /* Add, Mul */

#define TAG(e) ((e)->tag)
#define VALN(e) (((val_t *)(e))->n)
#define L(e) (((bin_t *)(e))->l)
#define R(e) (((bin_t *)(e))->r)

static inline hrc_obj_t *Leaf(hrc_reuse_t tok, int tag, intptr_t n) {
  val_t *v = (val_t *)hrc_alloc_at_acyclic(tok, sizeof(val_t), (unsigned)tag, 0);
  v->n = n;
  return &v->header;
}

static inline hrc_obj_t *Bin(hrc_reuse_t tok, int tag, hrc_obj_t *l, hrc_obj_t *r) {
  bin_t *b = (bin_t *)hrc_alloc_at_acyclic(tok, sizeof(bin_t), (unsigned)tag, 2);
  b->l = l;
  b->r = r;
  return &b->header;
}

/* The drop-specialised match of an owned binary node binding both children; returns the cell
 * as a token when it was unique. */
static inline hrc_reuse_t open_bin(hrc_obj_t *e, hrc_obj_t **l, hrc_obj_t **r) {
  *l = L(e);
  *r = R(e);
  if (hrc_is_unique(e)) return hrc_reuse_cell(e);
  hrc_dup(*l);
  hrc_dup(*r);
  hrc_decref(e);
  return HRC_NO_REUSE;
}

/* fun mk_expr(n, v) */
static hrc_obj_t *mk_expr(int n, intptr_t v) {
  if (n == 0) return v == 0 ? Leaf(HRC_NO_REUSE, VAR, 1) : Leaf(HRC_NO_REUSE, VAL, v);
  hrc_obj_t *l = mk_expr(n - 1, v + 1);
  return Bin(HRC_NO_REUSE, ADD, l, mk_expr(n - 1, v > 0 ? v - 1 : 0));
}

/* fun append_add(e0, e3) / append_mul: Op(e1, append(e2, e3)) while e0 is Op, else Op(e0, e3);
 * both owned; a loop over a constructor context, reusing each matched cell in place. */
static hrc_obj_t *append_op(int op, hrc_obj_t *e0, hrc_obj_t *e3) {
  hrc_ctx_t k = hrc_ctx_empty();
  while (TAG(e0) == op) {
    hrc_obj_t *e1, *e2;
    hrc_reuse_t tok = open_bin(e0, &e1, &e2);
    bin_t *c; /* Op(e1, hole): reuse-specialised, the tag and e1 stay where they are */
    if (tok != HRC_NO_REUSE) {
      c = (bin_t *)hrc_reuse_same(tok);
    } else {
      c = (bin_t *)hrc_alloc_acyclic(sizeof(bin_t), (unsigned)op, 2);
      c->l = e1;
    }
    k = hrc_ctx_extend(k, &c->header, &c->r);
    e0 = e2;
  }
  return hrc_ctx_apply(k, Bin(HRC_NO_REUSE, op, e0, e3));
}

/* fun reassoc(e), owned. */
static hrc_obj_t *reassoc(hrc_obj_t *e) {
  int op = TAG(e);
  if (op != ADD && op != MUL) return e;
  hrc_obj_t *e1, *e2;
  hrc_reuse_free(open_bin(e, &e1, &e2)); /* the branch builds no node itself */
  hrc_obj_t *a = reassoc(e1);
  return append_op(op, a, reassoc(e2));
}

static intptr_t apply(int op, intptr_t a, intptr_t b) { return op == ADD ? a + b : a * b; }

/* fun const_folding(e), owned. */
static hrc_obj_t *const_folding(hrc_obj_t *e) {
  int op = TAG(e);
  if (op != ADD && op != MUL) return e;
  hrc_obj_t *e1, *e2;
  hrc_reuse_t tok = open_bin(e, &e1, &e2);
  hrc_obj_t *a = const_folding(e1);
  hrc_obj_t *b = const_folding(e2);
  if (TAG(a) == VAL && TAG(b) == VAL) { /* (Val a, Val b) -> Val(a op b) */
    intptr_t v = apply(op, VALN(a), VALN(b));
    hrc_reuse_free(tok);
    hrc_drop(b);
    return Leaf(hrc_drop_reuse(a), VAL, v);
  }
  if (TAG(a) == VAL && TAG(b) == op) {
    if (TAG(R(b)) == VAL) { /* (Val a, Op(e, Val b)) -> Op(Val(a op b), e) */
      intptr_t v = apply(op, VALN(a), VALN(R(b)));
      hrc_obj_t *x, *vb;
      hrc_reuse_free(tok);
      hrc_reuse_t tb = open_bin(b, &x, &vb);
      hrc_drop(vb);
      return Bin(tb, op, Leaf(hrc_drop_reuse(a), VAL, v), x);
    }
    if (TAG(L(b)) == VAL) { /* (Val a, Op(Val b, e)) -> Op(Val(a op b), e) */
      intptr_t v = apply(op, VALN(a), VALN(L(b)));
      hrc_obj_t *x, *vb;
      hrc_reuse_free(tok);
      hrc_reuse_t tb = open_bin(b, &vb, &x);
      hrc_drop(vb);
      return Bin(tb, op, Leaf(hrc_drop_reuse(a), VAL, v), x);
    }
  }
  /* (_, _) -> Op(e1', e2'): reuse-specialised (the tag stays: Koka specialises a two-field
   * constructor on that alone) */
  if (tok == HRC_NO_REUSE) return Bin(HRC_NO_REUSE, op, a, b);
  bin_t *c = (bin_t *)hrc_reuse_same(tok);
  c->l = a;
  c->r = b;
  return &c->header;
}

/* fun eval(^e) */
static intptr_t eval(hrc_obj_t *e) {
  switch (TAG(e)) {
  case VAR: return 0;
  case VAL: return VALN(e);
  case ADD: return eval(L(e)) + eval(R(e));
  default: return eval(L(e)) * eval(R(e));
  }
}

static void *run(void *arg) {
  int n = (int)(intptr_t)arg;
  hrc_obj_t *e = mk_expr(n, 1);
  intptr_t v1 = eval(e);
  hrc_obj_t *f = const_folding(reassoc(e));
  intptr_t v2 = eval(f);
  hrc_drop(f);
  printf("%ld, %ld\n", (long)v1, (long)v2);
  return (void *)v2;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 20;
  bench_start();
  intptr_t v = (intptr_t)bench_on_big_stack(run, (void *)(intptr_t)n);
  bench_report("cfold", n, (long)v, 1L << n);
  return 0;
}
