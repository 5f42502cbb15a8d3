/* test_property.c: random programs against a shadow model.
 *
 * Each program runs a few hundred random operations (alloc, dup, drop, drop_reuse, allocation
 * into the pending token, share, is_unique, field read, drop specialisation) over random
 * acyclic graphs. The model keeps, for every object, the number of references it must have
 * and whether it is shared; after every operation each live object's real count, sharing state
 * and identity word must match the model, and the number of live objects must equal the
 * model's. After the last root is dropped, the live count is exactly what it was before the
 * program (garbage-free). In the checked build, an operation that touched a freed block would
 * stop the test with the checker's line. Seeds are fixed, so a failure names its program.
 */
#include "common.h"

#define MAX_OBJS   4096
#define MAX_ROOTS  512
#define MAX_FIELDS 4
#define PROGRAMS   3000
#define OPS        200

typedef struct obj_s {
  hrc_obj_t header;
  hrc_obj_t *f[MAX_FIELDS]; /* the first `scan` are scanned */
  intptr_t id;              /* scalar identity word, checked after every step */
} obj_t;

typedef struct model_s {
  obj_t *real;
  int count;
  int nfields;
  int field[MAX_FIELDS]; /* model ids, -1 for a boxed scalar */
  bool shared;
  bool alive;
} model_t;

static model_t objs[MAX_OBJS];
static int nobjs;
static int roots[MAX_ROOTS];
static int nroots;
static int token_of = -1; /* model id whose block is the pending token, -1 if none */
static hrc_reuse_t token;
static int64_t live0;
static uint64_t rng;

static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static int pick(int n) { return (int)(next_rand() % (uint64_t)n); }

/* The model's effect of one reference to id going away. */
static void model_release(int id) {
  model_t *m = &objs[id];
  cr_assert(m->alive && m->count > 0, "model: release of dead object %d", id);
  if (--m->count > 0) return;
  m->alive = false;
  for (int i = 0; i < m->nfields; i++)
    if (m->field[i] >= 0) model_release(m->field[i]);
}

/* Remove root i from the root set, returning its model id. */
static int take_root(int i) {
  int id = roots[i];
  roots[i] = roots[--nroots];
  return id;
}

static void push_root(int id) { roots[nroots++] = id; }

/* Allocate a new object whose fields take fresh references to random roots. */
static void op_alloc(void) {
  if (nobjs == MAX_OBJS || nroots == MAX_ROOTS) return;
  int id = nobjs++;
  model_t *m = &objs[id];
  *m = (model_t){.count = 1, .alive = true, .nfields = pick(MAX_FIELDS + 1)};
  hrc_reuse_t tok = HRC_NO_REUSE;
  if (token_of >= 0 && pick(2) == 0) {
    tok = token;
    token_of = -1;
    token = HRC_NO_REUSE;
  }
  obj_t *o = (obj_t *)hrc_alloc_at(tok, sizeof(obj_t), (unsigned)(id % 200), (unsigned)m->nfields);
  if (tok != HRC_NO_REUSE) cr_assert(eq(ptr, (void *)o, (void *)tok));
  for (int i = 0; i < MAX_FIELDS; i++) {
    m->field[i] = -1;
    o->f[i] = hrc_box_int(i);
    if (i < m->nfields && nroots > 0 && pick(4) != 0) {
      int child = roots[pick(nroots)];
      m->field[i] = child;
      objs[child].count++;
      o->f[i] = hrc_dup(&objs[child].real->header);
    }
  }
  o->id = id;
  m->real = o;
  push_root(id);
}

static void op_dup(void) {
  if (nroots == 0 || nroots == MAX_ROOTS) return;
  int id = roots[pick(nroots)];
  hrc_dup(&objs[id].real->header);
  objs[id].count++;
  push_root(id);
}

static void op_drop(void) {
  if (nroots == 0) return;
  int id = take_root(pick(nroots));
  hrc_drop(&objs[id].real->header);
  model_release(id);
}

/* drop_reuse: a token exactly when the model says the reference was the only one. */
static void op_drop_reuse(void) {
  if (nroots == 0) return;
  int id = take_root(pick(nroots));
  bool unique = objs[id].count == 1 && !objs[id].shared;
  if (token_of >= 0) {
    hrc_reuse_free(token);
    token_of = -1;
  }
  hrc_reuse_t tok = hrc_drop_reuse(&objs[id].real->header);
  model_release(id);
  if (unique) {
    cr_assert(eq(ptr, (void *)tok, (void *)objs[id].real));
    token = tok;
    token_of = id;
  } else {
    cr_assert(eq(ptr, (void *)tok, NULL));
  }
}

/* Mark the model graph from id shared (the real call must do the same). */
static void model_share(int id) {
  if (objs[id].shared) return;
  objs[id].shared = true;
  for (int i = 0; i < objs[id].nfields; i++)
    if (objs[id].field[i] >= 0) model_share(objs[id].field[i]);
}

static void op_share(void) {
  if (nroots == 0) return;
  int id = roots[pick(nroots)];
  hrc_share(&objs[id].real->header);
  model_share(id);
}

/* Pattern match keeping a field: a new root holding the field's object. */
static void op_read_field(void) {
  if (nroots == 0 || nroots == MAX_ROOTS) return;
  int id = roots[pick(nroots)];
  model_t *m = &objs[id];
  for (int i = 0; i < m->nfields; i++) {
    if (m->field[i] >= 0) {
      hrc_dup(m->real->f[i]);
      objs[m->field[i]].count++;
      push_root(m->field[i]);
      return;
    }
  }
}

/* Drop specialisation: unique -> fields move to new roots and the cell is freed;
 * otherwise fields are dup'ed into new roots and the cell is decremented. */
static void op_specialised_drop(void) {
  if (nroots == 0 || nroots + MAX_FIELDS >= MAX_ROOTS) return;
  int id = take_root(pick(nroots));
  model_t *m = &objs[id];
  hrc_obj_t *cell = &m->real->header;
  bool unique = hrc_is_unique(cell);
  cr_assert(eq(int, unique, m->count == 1 && !m->shared));
  for (int i = 0; i < m->nfields; i++) {
    if (m->field[i] < 0) continue;
    push_root(m->field[i]);
    if (!unique) hrc_dup(m->real->f[i]);
    objs[m->field[i]].count++; /* the new root's reference */
  }
  if (unique) hrc_free_cell(cell);
  else hrc_decref(cell);
  model_release(id);
}

/* Every live model object matches its real object; the live count matches the model. */
static void check_model(void) {
  int64_t alive = 0;
  for (int id = 0; id < nobjs; id++) {
    model_t *m = &objs[id];
    if (!m->alive) continue;
    alive++;
    hrc_obj_t *o = &m->real->header;
    cr_assert(eq(i64, m->real->id, id), "object %d's identity word", id);
    cr_assert(eq(u64, hrc_refcount(o), (uint64_t)m->count), "object %d's count", id);
    cr_assert(eq(int, hrc_is_shared(o), m->shared), "object %d's sharing", id);
  }
  if (token_of >= 0) alive++; /* a pending token's block is still accounted */
  cr_assert(eq(i64, hrc_live_objects() - live0, alive));
}

typedef void (*op_fn)(void);
static const op_fn ops[] = {op_alloc, op_alloc,      op_alloc, op_dup,        op_drop,
                            op_drop,  op_drop_reuse, op_share, op_read_field, op_specialised_drop};

/* One random program from seed; ends with every root dropped. */
static void run_program(uint64_t seed) {
  rng = seed * 0x9E3779B97F4A7C15u + 1;
  nobjs = nroots = 0;
  token_of = -1;
  token = HRC_NO_REUSE;
  live0 = hrc_live_objects();
  for (int step = 0; step < OPS; step++) {
    ops[pick((int)(sizeof ops / sizeof ops[0]))]();
    check_model();
  }
  while (nroots > 0) {
    op_drop();
    check_model();
  }
  if (token_of >= 0) hrc_reuse_free(token);
  cr_assert(eq(i64, hrc_live_objects(), live0), "program %llu is garbage-free",
            (unsigned long long)seed);
}

Test(property, random_programs_match_the_shadow_model, .timeout = 300) {
  cr_assert(hrc_live_objects() >= 0, "the test libraries are built with stats");
  for (uint64_t seed = 1; seed <= PROGRAMS; seed++) run_program(seed);
}
