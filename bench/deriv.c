/* deriv.c: symbolic differentiation (the Perceus paper's deriv, from Lean's benchmarks): the
 * derivative of x^x taken n times (default 10), printing each one's node count. Lowered as
 * Koka's compiler lowers it (docs/lowering.md): the smart constructors add, mul, pow and ln
 * own their arguments and rebuild into the cell of an argument they consume (reuse tokens);
 * d borrows the expression and dup's the subterms it shares into the result.
 * Usage: deriv [n]. The check is the last derivative's count (40230090 for n = 10).
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_report.h"
#include "hrc.h"

enum { VAL = 1, VAR, ADD, MUL, POW, LN };

typedef struct val_s { hrc_obj_t header; intptr_t n; } val_t;   /* Val(n), Var(name id) */
typedef struct bin_s { hrc_obj_t header; hrc_obj_t *l, *r; } bin_t; /* Add, Mul, Pow */
typedef struct un_s { hrc_obj_t header; hrc_obj_t *e; } un_t;      /* Ln */

#define TAG(e) ((e)->tag)
#define VALN(e) (((val_t *)(e))->n)
#define L(e) (((bin_t *)(e))->l)
#define R(e) (((bin_t *)(e))->r)

/* Val(n) built in tok, the cell of a Val that died (every token here is one): reuse-specialised,
 * as Koka compiles it, so only n is written there. */
static inline hrc_obj_t *Val(hrc_reuse_t tok, intptr_t n) {
  val_t *v = tok != HRC_NO_REUSE ? (val_t *)hrc_reuse_same(tok)
                                 : (val_t *)hrc_alloc_acyclic(sizeof(val_t), VAL, 0);
  v->n = n;
  return &v->header;
}

static inline hrc_obj_t *Bin(hrc_reuse_t tok, int tag, hrc_obj_t *l, hrc_obj_t *r) {
  bin_t *b = (bin_t *)hrc_alloc_at_acyclic(tok, sizeof(bin_t), (unsigned)tag, 2);
  b->l = l;
  b->r = r;
  return &b->header;
}

static inline bool is_val(hrc_obj_t *e) { return TAG(e) == VAL; }
static inline bool is_val_n(hrc_obj_t *e, intptr_t n) { return TAG(e) == VAL && VALN(e) == n; }

/* The drop-specialised match of an owned binary node binding both children: when unique they
 * move out and the cell is freed (the branch builds no node of its own); else they are dup'ed. */
static inline void open_free(hrc_obj_t *e, hrc_obj_t **l, hrc_obj_t **r) {
  *l = L(e);
  *r = R(e);
  if (hrc_is_unique(e)) {
    hrc_free_cell(e);
  } else {
    hrc_dup(*l);
    hrc_dup(*r);
    hrc_decref(e);
  }
}

static intptr_t pown(intptr_t a, intptr_t n) {
  if (n == 0) return 1;
  if (n == 1) return a;
  intptr_t b = pown(a, n / 2);
  return b * b * (n % 2 == 0 ? 1 : a);
}

/* add(x, y), both owned. */
static hrc_obj_t *add(hrc_obj_t *x, hrc_obj_t *y) {
  if (is_val(x) && is_val(y)) { /* Val n, Val m -> Val (n + m) */
    intptr_t s = VALN(x) + VALN(y);
    hrc_drop(y);
    return Val(hrc_drop_reuse(x), s);
  }
  if (is_val_n(x, 0)) { /* Val 0, f -> f */
    hrc_drop(x);
    return y;
  }
  if (is_val_n(y, 0)) { /* f, Val 0 -> f */
    hrc_drop(y);
    return x;
  }
  if (is_val(y)) return add(y, x); /* f, Val n -> add (Val n) f */
  if (TAG(y) == ADD && is_val(L(y))) {
    hrc_obj_t *a, *g;
    if (is_val(x)) { /* Val n, Add (Val m) f -> add (Val (n + m)) f */
      intptr_t s = VALN(x) + VALN(L(y));
      open_free(y, &a, &g);
      hrc_drop(a);
      return add(Val(hrc_drop_reuse(x), s), g);
    }
    open_free(y, &a, &g); /* f, Add (Val n) g -> add (Val n) (add f g) */
    return add(a, add(x, g));
  }
  if (TAG(x) == ADD) { /* Add f g, h -> add f (add g h) */
    hrc_obj_t *f, *g;
    open_free(x, &f, &g);
    return add(f, add(g, y));
  }
  return Bin(HRC_NO_REUSE, ADD, x, y);
}

/* mul(x, y), both owned. */
static hrc_obj_t *mul(hrc_obj_t *x, hrc_obj_t *y) {
  if (is_val(x) && is_val(y)) { /* Val n, Val m -> Val (n * m) */
    intptr_t p = VALN(x) * VALN(y);
    hrc_drop(y);
    return Val(hrc_drop_reuse(x), p);
  }
  if (is_val_n(x, 0)) { /* Val 0, _ -> Val 0 */
    hrc_drop(y);
    return Val(hrc_drop_reuse(x), 0);
  }
  if (is_val_n(y, 0)) { /* _, Val 0 -> Val 0 */
    hrc_drop(x);
    return Val(hrc_drop_reuse(y), 0);
  }
  if (is_val_n(x, 1)) { /* Val 1, f -> f */
    hrc_drop(x);
    return y;
  }
  if (is_val_n(y, 1)) { /* f, Val 1 -> f */
    hrc_drop(y);
    return x;
  }
  if (is_val(y)) return mul(y, x); /* f, Val n -> mul (Val n) f */
  if (TAG(y) == MUL && is_val(L(y))) {
    hrc_obj_t *a, *g;
    if (is_val(x)) { /* Val n, Mul (Val m) f -> mul (Val (n * m)) f */
      intptr_t p = VALN(x) * VALN(L(y));
      open_free(y, &a, &g);
      hrc_drop(a);
      return mul(Val(hrc_drop_reuse(x), p), g);
    }
    open_free(y, &a, &g); /* f, Mul (Val n) g -> mul (Val n) (mul f g) */
    return mul(a, mul(x, g));
  }
  if (TAG(x) == MUL) { /* Mul f g, h -> mul f (mul g h) */
    hrc_obj_t *f, *g;
    open_free(x, &f, &g);
    return mul(f, mul(g, y));
  }
  return Bin(HRC_NO_REUSE, MUL, x, y);
}

/* pow(x, y), both owned. */
static hrc_obj_t *pow_(hrc_obj_t *x, hrc_obj_t *y) {
  if (is_val(x) && is_val(y)) { /* Val m, Val n -> Val (pown m n) */
    intptr_t p = pown(VALN(x), VALN(y));
    hrc_drop(y);
    return Val(hrc_drop_reuse(x), p);
  }
  if (is_val_n(y, 0)) { /* _, Val 0 -> Val 1 */
    hrc_drop(x);
    return Val(hrc_drop_reuse(y), 1);
  }
  if (is_val_n(y, 1)) { /* f, Val 1 -> f */
    hrc_drop(y);
    return x;
  }
  if (is_val_n(x, 0)) { /* Val 0, _ -> Val 0 */
    hrc_drop(y);
    return Val(hrc_drop_reuse(x), 0);
  }
  return Bin(HRC_NO_REUSE, POW, x, y);
}

/* ln(x), owned. */
static hrc_obj_t *ln(hrc_obj_t *x) {
  if (is_val_n(x, 1)) return Val(hrc_drop_reuse(x), 0); /* Val 1 -> Val 0 */
  un_t *u = (un_t *)hrc_alloc_acyclic(sizeof(un_t), LN, 1);
  u->e = x;
  return &u->header;
}

/* d(x, ^e): e borrowed; subterms used in the result are dup'ed. */
static hrc_obj_t *d(intptr_t x, hrc_obj_t *e) {
  switch (TAG(e)) {
  case VAL: return Val(HRC_NO_REUSE, 0);
  case VAR: return Val(HRC_NO_REUSE, VALN(e) == x ? 1 : 0);
  case ADD: {
    hrc_obj_t *df = d(x, L(e));
    return add(df, d(x, R(e)));
  }
  case MUL: { /* add (mul f (d x g)) (mul g (d x f)) */
    hrc_obj_t *f = L(e), *g = R(e);
    hrc_obj_t *a = mul(hrc_dup(f), d(x, g));
    return add(a, mul(hrc_dup(g), d(x, f)));
  }
  case POW: { /* mul (pow f g) (add (mul (mul g (d x f)) (pow f (Val -1))) (mul (ln f) (d x g))) */
    hrc_obj_t *f = L(e), *g = R(e);
    hrc_obj_t *p = pow_(hrc_dup(f), hrc_dup(g));
    hrc_obj_t *a = mul(hrc_dup(g), d(x, f));
    a = mul(a, pow_(hrc_dup(f), Val(HRC_NO_REUSE, -1)));
    hrc_obj_t *b = mul(ln(hrc_dup(f)), d(x, g));
    return mul(p, add(a, b));
  }
  case LN: { /* mul (d x f) (pow f (Val -1)) */
    hrc_obj_t *f = ((un_t *)e)->e;
    hrc_obj_t *df = d(x, f);
    return mul(df, pow_(hrc_dup(f), Val(HRC_NO_REUSE, -1)));
  }
  default: abort();
  }
}

/* count(^e) */
static long count(hrc_obj_t *e) {
  switch (TAG(e)) {
  case VAL:
  case VAR: return 1;
  case LN: return count(((un_t *)e)->e);
  default: return count(L(e)) + count(R(e));
  }
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 10;
  enum { X = 1 }; /* the variable's name, interned */
  bench_start();
  val_t *x = (val_t *)hrc_alloc_acyclic(sizeof(val_t), VAR, 0);
  x->n = X;
  hrc_obj_t *f = pow_(hrc_obj_dup(&x->header), &x->header);
  long c = 0;
  for (int i = 0; i < n; i++) { /* nest deriv n f */
    hrc_obj_t *df = d(X, f);
    hrc_drop(f);
    f = df;
    c = count(f);
    printf("%d count: %ld\n", i + 1, c);
  }
  hrc_drop(f);
  bench_report("deriv", n, c, c);
  return 0;
}
