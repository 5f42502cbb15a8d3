/* mutator.c: the fuzzing harness: a byte string is a mutator program run against a shadow model.
 *
 * Each byte picks an operation, the next bytes its operands: allocate (fields from the roots,
 * into a pending reuse token when there is one), dup, drop, drop_reuse, link a field of one
 * root to another (sharing and cycles), read a field into a new root, share a root with the
 * worker thread, have the worker drop what it holds, force a collection, defer a closure
 * (open-coded slot, stack record, heap record, inline heap record; plain, recovering or
 * panicking again), call into a new frame, return, panic with a root. The model keeps every
 * object's expected count, fields and sharing, the pending deferred calls in order, and the
 * panics in progress.
 * After every step: every object reachable from the roots, the worker, pending defers and
 * panics has its identity word (and in rc/hybrid its exact count and sharing); in rc and
 * hybrid the live object count equals the model's objects with a count above zero (so
 * anything unreachable without a cycle was freed at once); deferred calls run newest first
 * and a recover lands where Go would. At the end, with every root dropped: no defer records
 * are left, rc keeps exactly the objects on or reachable from cycles, and in gc and hybrid a
 * full collection reclaims every object still allocated (bdwgc's disappearing links); the
 * program runs on a thread of its own so that its stale stack words cannot keep anything
 * (see program()).
 * A failed check prints one line naming it and aborts, so libFuzzer keeps the input.
 */
#include "mutator.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if HRC_TRACING
#include <gc/gc.h>
#endif

#define MAX_OBJS    2048
#define MAX_ROOTS   256
#define MAX_FIELDS  3
#define MAX_HELD    64
#define MAX_DEFERS  128
#define MAX_DEPTH   8
#define MAX_PANICS  16
#define OBJ_TAG     7u

typedef struct obj_s {
  hrc_obj_t header;
  hrc_obj_t *f[MAX_FIELDS]; /* the first `scan` are scanned, the rest boxed scalars */
  intptr_t id;              /* identity word */
} obj_t;

typedef struct mobj_s {
  uintptr_t hidden; /* ~address: the model must not keep objects alive for bdwgc */
  int count;        /* references the model knows of */
  int nfields;
  int field[MAX_FIELDS]; /* model ids, -1 for a scalar */
  bool shared;
} mobj_t;

typedef struct pending_s {
  int64_t seq;
  int depth;    /* frame that deferred it */
  int captured; /* model id the closure owns, -1 for none */
  int mode;     /* 0 plain, 1 recover, 2 panic again */
} pending_t;

enum { PLAIN, RECOVER, REPANIC };

/* The model. Real pointers the program holds live in static arrays (bdwgc scans them). */
static mobj_t objs[MAX_OBJS];
static int nobjs;
static hrc_obj_t *roots[MAX_ROOTS];
static int root_id[MAX_ROOTS], nroots;
static hrc_reuse_t token;
static int token_id = -1;
static pending_t pend[MAX_DEFERS];
static int npend;
static int64_t next_seq;
static int live_closures; /* deferred closures allocated on the heap, not yet run */
static int panics[MAX_PANICS], npanics; /* values (model ids, -1 scalar) of panics in progress */
static bool unwinding, recovered;
static int landing_depth;
static int64_t live0;

static const uint8_t *in, *in_end;
#if HRC_TRACING
static void *links[MAX_OBJS]; /* bdwgc disappearing links at the end */
#endif

/* ---- the worker: holds shared objects, drops them on request ---- */
static hrc_obj_t *held[MAX_HELD];
static int held_id[MAX_HELD], nheld;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int request = -1; /* index in held[] to drop, -1 when idle */
static bool worker_started;

const char *hrc_fuzz_label = "input";
bool hrc_fuzz_strict_gc = true;
int64_t hrc_fuzz_survivors;

static HRC_NORETURN void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "fuzz: %s (%s): ", hrc_fuzz_label, hrc_variant());
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  abort();
}

#define CHECK(cond, ...)                                                                          \
  do {                                                                                            \
    if (!(cond)) fail(__VA_ARGS__);                                                               \
  } while (0)

static obj_t *real(int id) { return (obj_t *)~objs[id].hidden; }

/* The worker's one job, out of line so its frame holds no stale pointer while it waits. */
static __attribute__((noinline)) void worker_drop(int i) {
  hrc_obj_t *o = held[i];
  held[i] = NULL;
  hrc_drop(o);
}

static __attribute__((noinline)) void scrub_stack(void) {
  volatile char junk[65536];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = 0;
}

static void *worker(void *arg) {
  (void)arg;
  hrc_thread_attach();
  pthread_mutex_lock(&mu);
  for (;;) {
    while (request < 0) pthread_cond_wait(&cv, &mu);
    worker_drop(request);
    scrub_stack();
    request = -1;
    pthread_cond_broadcast(&cv);
  }
  return NULL;
}

/* Have the worker drop held[i], and wait until it has. */
static void worker_drops(int i) {
  pthread_mutex_lock(&mu);
  request = i;
  pthread_cond_broadcast(&cv);
  while (request >= 0) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
}

/* ---- the model ---- */

static int byte(void) { return in < in_end ? *in++ : -1; }
static int pick(int n) {
  int b = byte();
  return b < 0 || n <= 0 ? 0 : b % n;
}

static void model_release(int id) {
  if (id < 0) return;
  CHECK(objs[id].count > 0, "model: release of object %d with no references", id);
  if (--objs[id].count > 0) return;
  for (int i = 0; i < objs[id].nfields; i++) model_release(objs[id].field[i]);
}

static void model_share(int id) {
  if (id < 0 || objs[id].shared) return;
  objs[id].shared = true;
  for (int i = 0; i < objs[id].nfields; i++) model_share(objs[id].field[i]);
}

static hrc_obj_t *value_of(int id) { return id < 0 ? hrc_box_int(id) : &real(id)->header; }

static void push_root(int id, hrc_obj_t *o) {
  root_id[nroots] = id;
  roots[nroots++] = o;
}

/* Take root i out of the set (its reference goes to the caller). */
static int take_root(int i, hrc_obj_t **o) {
  int id = root_id[i];
  *o = roots[i];
  nroots--;
  root_id[i] = root_id[nroots];
  roots[i] = roots[nroots];
  roots[nroots] = NULL;
  return id;
}

/* Every object the program can still reach passes its checks. */
static bool seen[MAX_OBJS];
static void visit(int id) {
  if (id < 0 || seen[id]) return;
  seen[id] = true;
  obj_t *o = real(id);
  CHECK(objs[id].count > 0, "object %d is reachable with no references in the model", id);
  CHECK(o->id == id && o->header.tag == OBJ_TAG, "object %d (%p) was freed or overwritten", id,
        (void *)o);
#if HRC_COUNTING
  CHECK(hrc_refcount(&o->header) == (uint64_t)objs[id].count,
        "object %d has count %llu, the model %d", id,
        (unsigned long long)hrc_refcount(&o->header), objs[id].count);
  CHECK(hrc_is_shared(&o->header) == objs[id].shared, "object %d's sharing", id);
#endif
  for (int i = 0; i < objs[id].nfields; i++) {
    CHECK(objs[id].field[i] < 0 ? o->f[i] == hrc_box_int(i)
                                : o->f[i] == value_of(objs[id].field[i]),
          "object %d field %d", id, i);
    visit(objs[id].field[i]);
  }
}

static void check_step(void) {
  memset(seen, 0, sizeof seen);
  for (int i = 0; i < nroots; i++) {
    CHECK(roots[i] == value_of(root_id[i]), "root %d", i);
    visit(root_id[i]);
  }
  for (int i = 0; i < nheld; i++) visit(held_id[i]);
  for (int i = 0; i < npend; i++) visit(pend[i].captured);
  for (int i = 0; i < npanics; i++) visit(panics[i]);
#if HRC_COUNTING
  int64_t alive = live_closures + (token_id >= 0);
  for (int id = 0; id < nobjs; id++) alive += objs[id].count > 0;
  CHECK(hrc_live_objects() - live0 == alive, "%lld objects live, the model has %lld",
        (long long)(hrc_live_objects() - live0), (long long)alive);
#endif
}

/* ---- operations ---- */

static void op_alloc(void) {
  if (nobjs == MAX_OBJS || nroots == MAX_ROOTS) return;
  int id = nobjs++;
  mobj_t *m = &objs[id];
  *m = (mobj_t){.count = 1, .nfields = pick(MAX_FIELDS + 1)};
  hrc_reuse_t tok = HRC_NO_REUSE;
  if (token_id >= 0) {
    tok = token;
    token = HRC_NO_REUSE;
    token_id = -1;
  }
  obj_t *o = (obj_t *)hrc_alloc_at(tok, sizeof(obj_t), OBJ_TAG, (unsigned)m->nfields);
  if (tok != HRC_NO_REUSE) CHECK(&o->header == tok, "allocation into a token reuses it");
  for (int i = 0; i < MAX_FIELDS; i++) {
    m->field[i] = -1;
    o->f[i] = hrc_box_int(i);
    if (i < m->nfields && nroots > 0 && pick(3) != 0) {
      int r = pick(nroots);
      m->field[i] = root_id[r];
      if (root_id[r] >= 0) {
        objs[root_id[r]].count++;
        o->f[i] = hrc_dup(roots[r]);
      }
    }
  }
  o->id = id;
  m->hidden = ~(uintptr_t)o;
  push_root(id, &o->header);
}

static void op_dup(void) {
  if (nroots == 0 || nroots == MAX_ROOTS) return;
  int r = pick(nroots);
  if (root_id[r] >= 0) objs[root_id[r]].count++;
  push_root(root_id[r], hrc_dup(roots[r]));
}

static void op_drop(void) {
  if (nroots == 0) return;
  hrc_obj_t *o;
  int id = take_root(pick(nroots), &o);
  hrc_drop(o);
  model_release(id);
}

static void op_drop_reuse(void) {
  if (nroots == 0) return;
  hrc_obj_t *o;
  int id = take_root(pick(nroots), &o);
  if (token_id >= 0) {
    hrc_reuse_free(token);
    token_id = -1;
  }
  if (id < 0) return;
  bool unique = objs[id].count == 1 && !objs[id].shared;
  hrc_reuse_t tok = hrc_drop_reuse(o);
  model_release(id);
  if (HRC_COUNTING && unique) {
    CHECK(tok == o, "drop_reuse of unique object %d gives its block", id);
    token = tok;
    token_id = id;
  } else {
    CHECK(tok == HRC_NO_REUSE, "drop_reuse of shared object %d gives no token", id);
  }
}

/* x.f[i] := y: the old field's reference goes, y gets one (shared when x is). */
static void op_link(void) {
  if (nroots < 1) return;
  int x = root_id[pick(nroots)], r = pick(nroots);
  int y = root_id[r];
  if (x < 0 || objs[x].nfields == 0) return;
  int i = pick(objs[x].nfields);
  obj_t *o = real(x);
  hrc_obj_t *old = o->f[i];
  int old_id = objs[x].field[i];
  if (y >= 0) {
    objs[y].count++;
    if (objs[x].shared) {
      hrc_share(roots[r]);
      model_share(y);
    }
  }
  o->f[i] = y >= 0 ? hrc_dup(roots[r]) : hrc_box_int(i);
  objs[x].field[i] = y;
  hrc_drop(old);
  model_release(old_id);
}

static void op_read_field(void) {
  if (nroots == 0 || nroots == MAX_ROOTS) return;
  int x = root_id[pick(nroots)];
  if (x < 0 || objs[x].nfields == 0) return;
  int i = pick(objs[x].nfields), y = objs[x].field[i];
  if (y < 0) return;
  objs[y].count++;
  push_root(y, hrc_dup(real(x)->f[i]));
}

static void op_share(void) {
  if (nroots == 0 || nheld == MAX_HELD) return;
  int r = pick(nroots), id = root_id[r];
  if (id < 0) return;
  if (!worker_started) {
    pthread_t t;
    CHECK(hrc_thread_create(&t, NULL, worker, NULL) == 0, "cannot start the worker");
    pthread_detach(t);
    worker_started = true;
  }
  hrc_share(roots[r]);
  model_share(id);
  objs[id].count++;
  held_id[nheld] = id;
  held[nheld++] = hrc_dup(roots[r]);
}

static void op_worker_drop(void) {
  if (nheld == 0) return;
  int i = pick(nheld), id = held_id[i];
  worker_drops(i);
  model_release(id);
  nheld--;
  held[i] = held[nheld];
  held_id[i] = held_id[nheld];
  held[nheld] = NULL;
}

/* ---- defer, panic, recover ---- */

typedef struct scalars_s {
  int64_t seq;
  int64_t mode;
  int64_t on_heap; /* an allocated closure (counted live), not one inside a record */
} scalars_t;

static HRC_NORETURN void start_panic(int id, hrc_obj_t *v) {
  CHECK(npanics < MAX_PANICS, "too many panics");
  panics[npanics++] = id;
  unwinding = true;
  recovered = false;
  hrc_panic(v);
}

/* A deferred call, as a compiler writes one: an allocated closure is owned by its call, which
 * unpacks it (moving the captured value out when the closure is unique); a closure inside a
 * heap record is borrowed and its captured value taken over. */
static hrc_obj_t *deferred_code(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  scalars_t sc;
  memcpy(&sc, hrc_closure_scalars(self), sizeof sc);
  hrc_obj_t *v;
  if (sc.on_heap) {
    hrc_closure_unpack(self, &v);
    live_closures--;
  } else {
    v = self->env[0];
  }
  CHECK(npend > 0 && pend[npend - 1].seq == sc.seq,
        "deferred call %lld ran, but %lld is the newest pending", (long long)sc.seq,
        npend > 0 ? (long long)pend[npend - 1].seq : -1LL);
  pending_t p = pend[--npend];
  if (p.captured >= 0)
    CHECK(((obj_t *)v)->id == p.captured, "a deferred call's captured object was freed");
  hrc_drop(v);
  model_release(p.captured);
  if (p.mode == RECOVER) {
    hrc_obj_t *r = hrc_recover(tok);
    bool expect = unwinding && !recovered;
    CHECK((r != NULL) == expect, "recover returned %p in deferred call %lld (expected %s)",
          (void *)r, (long long)p.seq, expect ? "the panic" : "nil");
    if (r != NULL) {
      int id = panics[npanics - 1];
      CHECK(r == value_of(id), "recover returned another value than the panic's");
      recovered = true;
      landing_depth = p.depth;
      if (id >= 0) objs[id].count++;
      if (nroots < MAX_ROOTS) push_root(id, r);
      else {
        hrc_drop(r);
        model_release(id);
      }
    }
  } else if (p.mode == REPANIC && npanics < MAX_PANICS && nobjs < MAX_OBJS) {
    int id = nobjs++;
    objs[id] = (mobj_t){.count = 1};
    obj_t *o = (obj_t *)hrc_alloc(sizeof(obj_t), OBJ_TAG, 0);
    for (int i = 0; i < MAX_FIELDS; i++) o->f[i] = hrc_box_int(i), objs[id].field[i] = -1;
    o->id = id;
    objs[id].hidden = ~(uintptr_t)o;
    start_panic(id, &o->header);
  }
  return NULL;
}

typedef struct frame_s {
  hrc_frame_t fr;
  bool open; /* open-coded slots, else records */
  int nslots, nstack;
  hrc_defer_rec_t stack[8];
  int depth;
} frame_t;

static hrc_closure_t *new_closure(int64_t seq, int mode, hrc_obj_t *v, bool heap) {
  hrc_closure_t *c = hrc_closure_alloc((hrc_code_t)deferred_code, 1, sizeof(scalars_t));
  c->env[0] = v;
  scalars_t sc = {seq, mode, heap};
  memcpy(hrc_closure_scalars(c), &sc, sizeof sc);
  return c;
}

/* Defer a call owning a root (or nothing), in the way the frame and the input choose. */
static void defer_one(frame_t *f, int mode, bool take) {
  if (npend == MAX_DEFERS) return;
  int id = -1;
  hrc_obj_t *v = hrc_box_int(0);
  if (take && nroots > 0) id = take_root(pick(nroots), &v);
  if (id < 0 && v != hrc_box_int(0)) v = hrc_box_int(0); /* a scalar root: nothing to own */
  int64_t seq = ++next_seq;
  int how = pick(3);
  if (f->open) {
    if (f->nslots >= HRC_OPEN_MAX) goto none;
    hrc_defer_open(&f->fr, (unsigned)f->nslots++, new_closure(seq, mode, v, true));
    live_closures++;
  } else if (how == 0 && f->nstack < 8) {
    hrc_defer_stack(&f->fr, &f->stack[f->nstack++], new_closure(seq, mode, v, true));
    live_closures++;
  } else if (how == 1) {
    hrc_defer_heap(&f->fr, new_closure(seq, mode, v, true));
    live_closures++;
  } else {
    hrc_closure_t *c = hrc_defer_heap_closure(&f->fr, (hrc_code_t)deferred_code, 1, sizeof(scalars_t));
    c->env[0] = v;
    scalars_t sc = {seq, mode, false};
    memcpy(hrc_closure_scalars(c), &sc, sizeof sc);
  }
  pend[npend++] = (pending_t){seq, f->depth, id, mode};
  return;
none:
  if (id >= 0) push_root(id, v);
  next_seq--;
}

static void run_frame(int depth);

/* The frame's exit: its pending calls, newest first. */
static void exit_frame(frame_t *f) {
  for (int i = f->nslots - 1; i >= 0; i--) hrc_defer_run_slot(&f->fr, (unsigned)i);
  hrc_frame_exit(&f->fr);
}

/* One step of the program; false when the frame returns. */
static bool step(frame_t *f) {
  int op = byte();
  if (op < 0) return false;
  switch (op % 16) {
  case 0: case 1: op_alloc(); break;
  case 2: op_dup(); break;
  case 3: case 4: op_drop(); break;
  case 5: op_drop_reuse(); break;
  case 6: op_link(); break;
  case 7: op_read_field(); break;
  case 8: op_share(); break;
  case 9: op_worker_drop(); break;
  case 10: if (pick(8) == 0) hrc_collect(); break;
  case 11: defer_one(f, pick(4) == 0 ? RECOVER : pick(6) == 0 ? REPANIC : PLAIN, true); break;
  case 12: if (f->depth + 1 < MAX_DEPTH) run_frame(f->depth + 1); break;
  case 13: return f->depth == 0 ? pick(2) == 0 : false;
  case 14: {
    if (pick(4) != 0 || npanics == MAX_PANICS) break;
    hrc_obj_t *v = hrc_box_int(-1);
    int id = nroots > 0 ? take_root(pick(nroots), &v) : -1;
    start_panic(id, v);
  }
  default: op_alloc(); break;
  }
  check_step();
  return true;
}

static void run_frame(int depth) {
  frame_t f = {.depth = depth};
  hrc_landing_t land;
  f.open = pick(2) == 0;
  hrc_frame_enter(&f.fr);
  if (HRC_FRAME_LANDING(&f.fr, &land)) goto landed;
  if (depth == 0) defer_one(&f, RECOVER, false); /* the catch-all: no panic escapes */
  while (step(&f)) {
  }
  exit_frame(&f);
  return;
landed:
  CHECK(recovered && landing_depth == depth, "a recover landed in frame %d, expected %d", depth,
        landing_depth);
  for (int i = 0; i < npend; i++)
    CHECK(pend[i].depth <= depth, "a deferred call of a discarded frame did not run");
  while (npanics > 0) model_release(panics[--npanics]); /* the runtime ends them */
  unwinding = recovered = false;
  exit_frame(&f);
  check_step();
}

/* ---- one input ---- */

static void reset(void) {
  nobjs = nroots = npend = npanics = nheld = live_closures = 0;
  token_id = -1;
  token = HRC_NO_REUSE;
  unwinding = recovered = false;
  live0 = hrc_live_objects();
}

/* Everything the program holds goes. Out of line: its frame, which held the pointers, is
 * dead when finish collects. */
static __attribute__((noinline)) void drop_everything(void) {
  while (nroots > 0) {
    hrc_obj_t *o;
    int id = take_root(nroots - 1, &o);
    hrc_drop(o);
    model_release(id);
  }
  while (nheld > 0) {
    worker_drops(nheld - 1);
    model_release(held_id[--nheld]);
  }
  if (token_id >= 0) hrc_reuse_free(token);
  token_id = -1;
  token = HRC_NO_REUSE;
}

#if HRC_TRACING
/* Whether object id's block still holds it. Not instrumented: checked builds poison blocks
 * they quarantine, and a reclaimed object's block may be one of them by now. */
__attribute__((no_sanitize("address"))) static bool still_holds(int id) {
  const volatile obj_t *o = real(id);
  return o->id == id && o->header.tag == OBJ_TAG;
}
#endif

#if HRC_TRACING
/* Register a disappearing link on every object that should be garbage now; the number watched.
 * Out of line: its frame held their addresses, and it is dead (and scrubbed) when finish
 * collects (under ASan a spilled `base` in finish's own frame kept the last object alive). */
static __attribute__((noinline)) int watch_all(void) {
  int watched = 0;
  for (int id = 0; id < nobjs; id++) {
    links[id] = NULL;
    if (HRC_COUNTING && objs[id].count == 0) continue; /* freed by counting; maybe reused */
    void *base = GC_base(real(id));
    if (base == NULL) continue; /* already reclaimed (gc: a collection ran) */
    /* A block a collection reclaimed during the run may since hold another object, or sit on
     * a free list (bdwgc keeps its thread-local free lists marked; hybrid's caches are roots):
     * the object is gone when its identity or tag is. */
    if (!still_holds(id)) continue;
    links[id] = (void *)GC_HIDE_POINTER(base);
    GC_general_register_disappearing_link(&links[id], base);
    watched++;
  }
  return watched;
}
#endif

/* What stays must be exactly what cycles keep, and a collection must take it. */
#if HRC_TRACING
/* In gc and hybrid the record chunks are scanned memory: a dead record (above the top) must
 * refer to no object, or it keeps that object alive as long as the thread lives. Words that
 * point into the chunk itself (record links) are fine. */
static void check_dead_records(void) {
  hrc_defer_state_t *st = hrc_tls_defer;
  if (st == NULL || st->chunk == NULL) return;
  for (void **w = (void **)st->records_top; (char *)(w + 1) <= st->records_end; w++) {
    void *base = *w == NULL ? NULL : GC_base(*w);
    CHECK(base == NULL || base == GC_base(st->chunk), "a dead defer record still refers to %p",
          *w);
  }
}
#endif

static __attribute__((noinline)) void finish(void) {
  drop_everything();
#if HRC_TRACING
  check_dead_records();
#endif
  CHECK(npend == 0 && npanics == 0 && live_closures == 0, "calls or panics left over");
  CHECK(hrc_defer_records_bytes() == 0, "%zu bytes of defer records left",
        hrc_defer_records_bytes());
#if HRC_COUNTING
  int kept = 0;
  for (int id = 0; id < nobjs; id++) kept += objs[id].count > 0;
  CHECK(hrc_live_objects() - live0 == kept, "%lld objects outlive the program, cycles keep %d",
        (long long)(hrc_live_objects() - live0), kept);
#endif
}

/* After the program's thread ended: a full collection must take every object left. */
static void collect_the_rest(void) {
#if HRC_TRACING
  int watched = watch_all(), survivors = 0;
  for (int round = 0; round < 4; round++) {
    scrub_stack();
    hrc_collect();
  }
  for (int id = 0; id < nobjs; id++) {
    if (links[id] == NULL) continue; /* reclaimed */
    GC_unregister_disappearing_link(&links[id]);
    survivors++;
    CHECK(!hrc_fuzz_strict_gc, "object %d (of %d watched) survived the collection with no root",
          id, watched);
  }
  hrc_fuzz_survivors += survivors;
#endif
}

/* In gc mode the model's objects may be reclaimed by any collection once unreachable: the
 * links are registered at the end only for those GC_base still finds, which is sound because
 * a reclaimed block is only reused for a later allocation of this same input, whose id is
 * different: its identity word tells them apart. */
/* The program: a thread of its own, which ends before the final collections, so that no stale
 * word its stack held (conservative scanning) keeps a dropped object alive; whatever survives
 * them is held by hrc or bdwgc. (Run on the caller's thread, with the stack scrubbed, the
 * words left in live frames kept 0.6 objects per input in gc mode.) */
static void *program(void *arg) {
  (void)arg;
  reset();
  while (in < in_end) run_frame(0);
  finish();
  return NULL;
}

int hrc_fuzz_run(const uint8_t *data, size_t size) {
  in = data;
  in_end = data + size;
  pthread_t t;
  CHECK(hrc_thread_create(&t, NULL, program, NULL) == 0, "cannot start the program's thread");
  CHECK(hrc_thread_join(t, NULL) == 0, "cannot join the program's thread");
  collect_the_rest();
  return 0;
}
