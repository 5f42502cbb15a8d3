/* test_property.c: random programs against a shadow model.
 *
 * Each program runs a few hundred random operations (alloc, dup, drop, drop_reuse, allocation
 * into the pending token, share, is_unique, field read, drop specialisation, a count that
 * overflows to sticky, immortal constants as fields and as roots of hrc_share) over random
 * acyclic graphs. The model keeps, for every object, the number of references it must have
 * and whether it is shared; after every operation each live object's real count, sharing state
 * and identity word must match the model, and the number of live objects must equal the
 * model's. After the last root is dropped, the live count is exactly what it was before the
 * program (garbage-free). In the checked build, an operation that touched a freed block would
 * stop the test with the checker's line. Seeds are fixed, so a failure names its program.
 * In gc mode nothing is counted, so the checks shrink to what tracing promises: under forced
 * collections every object the model still holds keeps its identity word.
 */
#include <stdarg.h>

#include "common.h"

#define MAX_OBJS   4096
#define MAX_ROOTS  512
#define MAX_FIELDS 4
#define PROGRAMS   3000
#define OPS        200
#define COLLECT_EVERY 300 /* operations between forced collections in gc and hybrid */

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
  bool sticky; /* the count overflowed: no longer counted, never freed by RC */
  bool alive;
} model_t;

/* One thread's programs: the model and the real objects it tracks. The worlds are static so
 * that bdwgc scans the `real` pointers (it does not scan thread-local storage). */
typedef struct world_s {
  model_t objs[MAX_OBJS];
  int nobjs;
  int roots[MAX_ROOTS];
  int nroots;
  int token_of; /* model id whose block is the pending token, -1 if none */
  hrc_reuse_t token;
  int64_t live0;
  uint64_t rng;
  bool alone; /* the only thread running programs: the global live count is the model's */
  bool bad;   /* a check failed; why says which, seed says in which program */
  char why[160];
  uint64_t seed;
} world_t;

static world_t worlds[2];
static __thread world_t *W;

/* Record the first failed check of this thread's world (asserts stay on the main thread). */
static bool expect(bool ok, const char *fmt, ...) {
  if (!ok && !W->bad) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(W->why, sizeof W->why, fmt, ap);
    va_end(ap);
    W->bad = true;
  }
  return ok;
}

static uint64_t next_rand(void) {
  W->rng ^= W->rng << 13;
  W->rng ^= W->rng >> 7;
  W->rng ^= W->rng << 17;
  return W->rng;
}

static int pick(int n) { return (int)(next_rand() % (uint64_t)n); }

/* Immortal constants in read-only memory (a write to one faults), used as fields and shared. */
#define IMMORTALS 3
static const struct {
  hrc_obj_t header;
  hrc_obj_t *f[2];
} immortals[IMMORTALS] = {
    {HRC_IMMORTAL_HEADER(7, 2, 3), {(hrc_obj_t *)1, (hrc_obj_t *)3}},
    {HRC_IMMORTAL_HEADER(8, 1, 2), {(hrc_obj_t *)5, NULL}},
    {HRC_IMMORTAL_HEADER(9, 0, 1), {NULL, NULL}},
};

static hrc_obj_t *immortal(int i) { return (hrc_obj_t *)&immortals[i].header; }

/* The model's effect of one reference to id going away. */
static void model_release(int id) {
  model_t *m = &W->objs[id];
  if (!expect(m->alive && m->count > 0, "model: release of dead object %d", id)) return;
  if (m->sticky) return; /* uncounted: RC never frees it (the tracer may, in hybrid) */
  if (--m->count > 0) return;
  m->alive = false;
  for (int i = 0; i < m->nfields; i++)
    if (m->field[i] >= 0) model_release(m->field[i]);
}

/* Remove root i from the root set, returning its model id. */
static int take_root(int i) {
  int id = W->roots[i];
  W->roots[i] = W->roots[--W->nroots];
  return id;
}

static void push_root(int id) { W->roots[W->nroots++] = id; }

/* Allocate a new object whose fields take fresh references to random W->roots. */
static void op_alloc(void) {
  if (W->nobjs == MAX_OBJS || W->nroots == MAX_ROOTS) return;
  int id = W->nobjs++;
  model_t *m = &W->objs[id];
  *m = (model_t){.count = 1, .alive = true, .nfields = pick(MAX_FIELDS + 1)};
  hrc_reuse_t tok = HRC_NO_REUSE;
  if (W->token_of >= 0 && pick(2) == 0) {
    tok = W->token;
    W->token_of = -1;
    W->token = HRC_NO_REUSE;
  }
  obj_t *o = (obj_t *)hrc_alloc_at(tok, sizeof(obj_t), (unsigned)(id % 200), (unsigned)m->nfields);
  if (tok != HRC_NO_REUSE) expect(o == (obj_t *)tok, "allocation into a token reuses it");
  for (int i = 0; i < MAX_FIELDS; i++) {
    m->field[i] = -1;
    o->f[i] = hrc_box_int(i);
    if (i < m->nfields && pick(8) == 0) {
      o->f[i] = immortal(pick(IMMORTALS)); /* no reference to count */
    } else if (i < m->nfields && W->nroots > 0 && pick(4) != 0) {
      int child = W->roots[pick(W->nroots)];
      m->field[i] = child;
      W->objs[child].count++;
      o->f[i] = hrc_dup(&W->objs[child].real->header);
    }
  }
  o->id = id;
  m->real = o;
  push_root(id);
}

static void op_dup(void) {
  if (W->nroots == 0 || W->nroots == MAX_ROOTS) return;
  int id = W->roots[pick(W->nroots)];
  hrc_dup(&W->objs[id].real->header);
  W->objs[id].count++;
  push_root(id);
}

static void op_drop(void) {
  if (W->nroots == 0) return;
  int id = take_root(pick(W->nroots));
  hrc_drop(&W->objs[id].real->header);
  model_release(id);
}

/* drop_reuse: a W->token exactly when the model says the reference was the only one. */
static void op_drop_reuse(void) {
  if (W->nroots == 0) return;
  int id = take_root(pick(W->nroots));
  bool unique = W->objs[id].count == 1 && !W->objs[id].shared && !W->objs[id].sticky;
  if (W->token_of >= 0) {
    hrc_reuse_free(W->token);
    W->token_of = -1;
  }
  hrc_reuse_t tok = hrc_drop_reuse(&W->objs[id].real->header);
  model_release(id);
  if (unique) {
    if (HRC_COUNTING)
      expect(tok == &W->objs[id].real->header, "drop_reuse of object %d gives its block", id);
    W->token = tok;
    W->token_of = id;
  } else {
    expect(tok == NULL, "drop_reuse of shared object %d gives no token", id);
  }
}

/* Mark the model graph from id shared (the real call must do the same). */
static void model_share(int id) {
  if (W->objs[id].shared) return;
  W->objs[id].shared = true;
  for (int i = 0; i < W->objs[id].nfields; i++)
    if (W->objs[id].field[i] >= 0) model_share(W->objs[id].field[i]);
}

static void op_share(void) {
  if (pick(8) == 0) {
    hrc_share(immortal(pick(IMMORTALS))); /* changes nothing, writes nothing */
    return;
  }
  if (W->nroots == 0) return;
  int id = W->roots[pick(W->nroots)];
  hrc_share(&W->objs[id].real->header);
  model_share(id);
}

/* A count overflows: as 2^31 more references would do, made at once. A local count becomes
 * sticky and its graph stays local (hrc_share must still walk it); a shared one stays shared. */
static void op_make_sticky(void) {
  if (!HRC_COUNTING || W->nroots == 0) return;
  int id = W->roots[pick(W->nroots)];
  model_t *m = &W->objs[id];
  if (m->sticky) return;
  hrc_obj_t *o = &m->real->header;
  hrc_rc_store(o, m->shared ? HRC_RC_STICKY - 1 : HRC_RC_LOCAL_MAX);
  hrc_dup(o);
  m->sticky = true;
}

/* Pattern match keeping a field: a new root holding the field's object. */
static void op_read_field(void) {
  if (W->nroots == 0 || W->nroots == MAX_ROOTS) return;
  int id = W->roots[pick(W->nroots)];
  model_t *m = &W->objs[id];
  for (int i = 0; i < m->nfields; i++) {
    if (m->field[i] >= 0) {
      hrc_dup(m->real->f[i]);
      W->objs[m->field[i]].count++;
      push_root(m->field[i]);
      return;
    }
  }
}

/* Drop specialisation: unique -> fields move to new W->roots and the cell is freed;
 * otherwise fields are dup'ed into new W->roots and the cell is decremented. */
static void op_specialised_drop(void) {
  if (W->nroots == 0 || W->nroots + MAX_FIELDS >= MAX_ROOTS) return;
  int id = take_root(pick(W->nroots));
  model_t *m = &W->objs[id];
  hrc_obj_t *cell = &m->real->header;
  bool unique = hrc_is_unique(cell);
  if (HRC_COUNTING)
    expect(unique == (m->count == 1 && !m->shared && !m->sticky), "object %d's uniqueness", id);
  for (int i = 0; i < m->nfields; i++) {
    if (m->field[i] < 0) continue;
    push_root(m->field[i]);
    if (!unique) hrc_dup(m->real->f[i]);
    W->objs[m->field[i]].count++; /* the new root's reference */
  }
  if (unique) hrc_free_cell(cell);
  else hrc_decref(cell);
  model_release(id);
}

/* Every live model object matches its real object; the live count matches the model. */
static void check_model(void) {
  int64_t alive = 0;
  for (int id = 0; id < W->nobjs; id++) {
    model_t *m = &W->objs[id];
    if (!m->alive) continue;
    alive++;
    hrc_obj_t *o = &m->real->header;
    expect(m->real->id == id, "object %d's identity word", id);
    if (!HRC_COUNTING) continue; /* gc mode: only that nothing reachable was reclaimed */
    if (m->sticky) {
      uint32_t rc = hrc_rc_load(o);
      expect(hrc_is_uncounted(o), "object %d is sticky", id);
      expect((rc != HRC_RC_STICKY) == m->shared, "object %d's sharing (sticky)", id);
      continue;
    }
    expect(hrc_refcount(o) == (uint64_t)m->count, "object %d's count", id);
    expect(hrc_is_shared(o) == m->shared, "object %d's sharing", id);
  }
  if (W->token_of >= 0) alive++; /* a pending W->token's block is still accounted */
  if (W->alone && HRC_COUNTING)
    expect(hrc_live_objects() - W->live0 == alive, "live objects match the model");
}

static __thread unsigned collect_clock;

typedef void (*op_fn)(void);
static const op_fn ops[] = {op_alloc,      op_alloc, op_alloc,      op_dup,
                            op_drop,       op_drop,  op_drop_reuse, op_share,
                            op_read_field, op_specialised_drop, op_make_sticky};

/* One random program from seed; ends with every root dropped. In the tracing modes a
 * collection is forced every COLLECT_EVERY operations. */
static void run_program(uint64_t seed) {
  W->rng = seed * 0x9E3779B97F4A7C15u + 1;
  W->seed = seed;
  W->nobjs = W->nroots = 0;
  W->token_of = -1;
  W->token = HRC_NO_REUSE;
  W->live0 = hrc_live_objects();
  for (int step = 0; step < OPS && !W->bad; step++) {
    ops[pick((int)(sizeof ops / sizeof ops[0]))]();
    check_model();
    if (HRC_TRACING && ++collect_clock % COLLECT_EVERY == 0) hrc_collect();
  }
  while (W->nroots > 0 && !W->bad) {
    op_drop();
    check_model();
  }
  if (W->token_of >= 0) hrc_reuse_free(W->token);
  int64_t kept = 0; /* sticky objects and what they hold: RC never frees them */
  for (int id = 0; id < W->nobjs; id++) kept += W->objs[id].alive;
  if (W->alone && HRC_COUNTING)
    expect(hrc_live_objects() - W->live0 == kept, "the program is garbage-free");
}

/* Run `count` programs from `first` in world w. */
static void run_programs(world_t *w, uint64_t first, uint64_t count, bool alone) {
  W = w;
  W->alone = alone;
  W->bad = false;
  for (uint64_t seed = first; seed < first + count && !W->bad; seed++) run_program(seed);
}

Test(property, random_programs_match_the_shadow_model, .timeout = 300) {
  cr_assert(hrc_live_objects() >= 0, "the test libraries are built with stats");
  run_programs(&worlds[0], 1, PROGRAMS, true);
  cr_assert(not(worlds[0].bad), "program %llu: %s", (unsigned long long)worlds[0].seed,
            worlds[0].why);
}

static void *second_world(void *arg) {
  run_programs(&worlds[1], *(uint64_t *)arg, PROGRAMS / 2, false);
  return NULL;
}

Test(property, two_threads_run_programs_at_once, .timeout = 300) {
  uint64_t first = 100000;
  pthread_t t;
  cr_assert(eq(int, hrc_thread_create(&t, NULL, second_world, &first), 0));
  run_programs(&worlds[0], 1, PROGRAMS / 2, false);
  hrc_thread_join(t, NULL);
  for (int i = 0; i < 2; i++)
    cr_assert(not(worlds[i].bad), "thread %d, program %llu: %s", i,
              (unsigned long long)worlds[i].seed, worlds[i].why);
}
