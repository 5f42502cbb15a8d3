/* defer.c: each thread's defer state, its record stack and the runner of a frame's records.
 *
 * The state record comes from hrc_heap_alloc_root: uncollectable memory that bdwgc scans in
 * the tracing modes (it does not scan __thread storage: docs/backstop.md), so the chain
 * head and the panic chain stay visible to the collector. Frames and stack records live on C
 * stacks, which bdwgc scans.
 *
 * The record stack: heap records are pushed and popped strictly last-in first-out per thread
 * (a frame's records are run before any older frame's, and a record is popped when its call
 * returns), so they are bump-allocated in chunks of root memory, scanned like the state. A
 * record is popped *after* its call, so an inline closure stays valid while it runs; records
 * its call pushes lie above it and are gone when it returns. A panic that unwinds past calls
 * leaves their records behind; the landing resets the top (hrc_defer_reset_records).
 * Invariants: [records_base, records_top) of the current chunk holds live records, older
 * chunks are full up to their recorded top; at most one empty chunk is kept as a spare.
 * In rc mode dead records keep their old contents until reused (nothing scans them); in the
 * tracing modes they are cleared when the top moves down past them (clear_dead).
 */
#include <pthread.h>

#include "defer_internal.h"

HRC_THREAD_LOCAL hrc_defer_state_t *hrc_tls_defer;

/* A chunk of the record stack. */
typedef struct chunk_s {
  struct chunk_s *prev; /* the next older chunk */
  char *top;            /* where the stack stood in this chunk when a newer one began */
  char *end;
  _Alignas(16) char data[];
} chunk_t;

#define CHUNK_BYTES (64u * 1024u) /* 2048 records of the smallest size */

/* Registration of this thread (rc/thread.c): make its state record now, while memory is
 * there, so that a panic never needs memory (a full heap's out-of-memory panic on a thread
 * that never entered a frame failed here, tests/exit_scenarios.c "out_of_memory_on_main"). */
void hrc_defer_thread_enter(void) {
  if (hrc_tls_defer != NULL) return;
  hrc_defer_state_t *st = hrc_heap_alloc_root(sizeof *st);
  if (st == NULL) hrc_out_of_memory(sizeof *st);
  hrc_tls_defer = st;
}

/* First defer operation of a thread not registered yet: registration makes the state. */
hrc_defer_state_t *hrc_defer_state_cold(void) {
  hrc_thread_ensure();
  hrc_defer_thread_enter(); /* registered earlier, then detached: make it again */
  return hrc_tls_defer;
}

/* Make c the current chunk with its top at top. */
static void enter_chunk(hrc_defer_state_t *st, chunk_t *c, char *top) {
  st->chunk = c;
  st->records_base = c->data;
  st->records_end = c->end;
  st->records_top = top;
}

/* A new chunk with room for at least `bytes`. */
static chunk_t *new_chunk(size_t bytes) {
  size_t size = sizeof(chunk_t) + (bytes > CHUNK_BYTES ? bytes : CHUNK_BYTES);
  chunk_t *c = hrc_heap_alloc_root_uncleared(size);
  if (c == NULL) hrc_out_of_memory(size);
  c->end = (char *)c + size;
  return c;
}

/* An emptied chunk becomes the spare; the previous spare is freed. */
static void retire(hrc_defer_state_t *st, chunk_t *c) {
  if (st->spare != NULL) hrc_heap_free_root(st->spare);
  st->spare = c;
}

/* The current chunk cannot hold `bytes` more: continue in the spare or a new chunk. */
hrc_defer_rec_t *hrc_defer_push_cold(size_t bytes) {
  hrc_defer_state_t *st = hrc_tls_defer;
  chunk_t *cur = st->chunk, *next = st->spare;
  if (cur != NULL) cur->top = st->records_top;
  if (next != NULL && (size_t)(next->end - next->data) >= bytes) st->spare = NULL;
  else next = new_chunk(bytes);
  next->prev = cur;
  enter_chunk(st, next, next->data + bytes);
  return (hrc_defer_rec_t *)next->data;
}

/* Traced heap: records above the stack's top are dead, but chunks are scanned memory, so
 * what a dead record refers to would stay alive. Popping clears a record (hrc_defer_pop); a
 * record whose call panicked again is never popped, and a later pop or a landing moves the
 * top down past it (the fuzzer found its captured object surviving every collection, gc and
 * hybrid). So clear the records in [from, to), which lie back to back ([base, top) always
 * does): closure pointers and captured values only; an inline closure's header stays, since
 * a panic in progress may still hold that closure. */
static void clear_dead(char *from, char *to) {
  if (!HRC_HEAP_TRACED) return;
  while (from < to) {
    hrc_defer_rec_t *r = (hrc_defer_rec_t *)from;
    if (r->link & HRC_DEFER_INLINE) {
      hrc_defer_clear_inline(r);
      from = (char *)&r->fn + (size_t)hrc_defer_rec_fn(r)->header.words * 8;
    } else {
      r->fn = NULL;
      from = (char *)(r + 1);
    }
  }
}

/* Move the stack's top back to p, which lies in the current chunk or an older one (p may be
 * a chunk's end); the chunks above it are emptied. */
static void set_top(hrc_defer_state_t *st, char *p) {
  chunk_t *c = st->chunk;
  char *top = st->records_top; /* where the stack stands in c */
  while (c != NULL && !(p >= c->data && p <= c->end)) {
    chunk_t *older = c->prev;
    clear_dead(c->data, top);
    retire(st, c);
    c = older;
    if (c != NULL) top = c->top;
  }
  if (c == NULL) hrc_fatal("defer record stack: %p is in no chunk (records run out of order)", p);
  clear_dead(p, top);
  enter_chunk(st, c, p);
}

/* The popped record is not in the current chunk: that chunk is empty; go back to r's. */
void hrc_defer_pop_cold(hrc_defer_rec_t *r) { set_top(hrc_tls_defer, (char *)r); }

/* During a panic every record above r is dead: its call returned, or panicked again and will
 * never pop it (clear_dead). */
void hrc_defer_pop_unwound(hrc_defer_rec_t *r) {
  if (!(r->link & HRC_DEFER_HEAP)) return; /* a stack record */
  set_top(hrc_tls_defer, (char *)r);
}

/* Clear the captured values of a popped inline record's closure (tracing modes: the chunk
 * is scanned memory). A loop, so out of line. */
void hrc_defer_clear_inline(hrc_defer_rec_t *r) {
  hrc_closure_t *c = hrc_defer_rec_fn(r);
  for (size_t i = 0, n = hrc_closure_arity_env(c); i < n; i++) c->env[i] = NULL;
}

void hrc_defer_reset_records(hrc_defer_state_t *st, hrc_frame_t *fr) {
  char *top = fr->landing->records_top;
  for (hrc_defer_rec_t *r = fr->records; r != NULL; r = hrc_defer_rec_next(r)) {
    if (r->link & HRC_DEFER_INLINE) {
      top = (char *)&r->fn + (size_t)hrc_defer_rec_fn(r)->header.words * 8;
      break;
    }
    if (r->link & HRC_DEFER_HEAP) {
      top = (char *)(r + 1);
      break;
    }
  }
  if (top != NULL) {
    set_top(st, top);
    return;
  }
  /* No record was pending when the landing was set: empty the whole stack. */
  chunk_t *c = st->chunk;
  if (c == NULL) return;
  while (c->prev != NULL) c = c->prev;
  set_top(st, c->data);
}

/* Normal exit of a frame with records: newest first; each record is unlinked before its call
 * (a panic in the call must not run it again) and popped after it. */
void hrc_frame_run_records(hrc_frame_t *fr) {
  hrc_defer_rec_t *r;
  while ((r = fr->records) != NULL) {
    fr->records = hrc_defer_rec_next(r);
    hrc_defer_invoke(hrc_defer_rec_fn(r));
    hrc_defer_pop(r);
  }
}

bool hrc_frame_take(hrc_frame_t *fr, hrc_closure_t **fn, hrc_defer_rec_t **rec) {
  *rec = NULL;
  if (fr->bits != 0) {
    unsigned i = 31u - (unsigned)__builtin_clz(fr->bits);
    fr->bits &= ~(1u << i);
    *fn = fr->slots[i];
    return true;
  }
  hrc_defer_rec_t *r = fr->records;
  if (r == NULL) return false;
  fr->records = hrc_defer_rec_next(r);
  *fn = hrc_defer_rec_fn(r);
  *rec = r;
  return true;
}

/* Go's call of a nil deferred function: a run-time panic at the call. */
void hrc_defer_nil_cold(void) {
  hrc_panic(hrc_error_new("runtime error: invalid memory address or nil pointer dereference"));
}

/* ---- frames never left ----
 * A function that enters a frame and returns without leaving it leaves a dead frame on the
 * chain. Frames of one chain live on one stack, newest lowest, and every frame of the chain
 * belongs to a function still running; so a frame lying below the frame of the code looking
 * at it (a noinline function's own frame is below every caller's locals) is dead. Checked
 * builds also keep a cookie in each entered frame, which the function's later stack use
 * overwrites. Under ASan with fake stacks (detect_stack_use_after_return) frames are not on
 * the stack, and only the cookie is checked. Tests: tests/exit_scenarios.c. */

#define FRAME_MAGIC ((uintptr_t)0x48524346524d4521u) /* "HRCFRME!" */

#if defined(__SANITIZE_ADDRESS__)
#define HRC_FRAME_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HRC_FRAME_ASAN 1
#endif
#endif
#ifdef HRC_FRAME_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* Whether fr, on this thread's chain, belongs to a function that has returned; `bound` is
 * the frame address of a noinline function the code now running called. */
static bool frame_is_dead(const hrc_frame_t *fr, const void *bound) {
#if HRC_DEBUG
  if (fr->entered != ((uintptr_t)fr ^ FRAME_MAGIC)) return true;
#endif
#ifdef HRC_FRAME_ASAN
  if (__asan_get_current_fake_stack() != NULL) return false;
#endif
  return (uintptr_t)fr < (uintptr_t)bound;
}

/* One line naming the dead frame and who met it. */
static HRC_NORETURN void frame_never_left(const hrc_frame_t *dead, const char *met_by,
                                          const void *other) {
  hrc_fatal("defer frame %p was never left: its function returned without hrc_frame_leave or "
            "hrc_frame_exit (met by %s %p)",
            (const void *)dead, met_by, other);
}

void hrc_frame_enter_check(hrc_defer_state_t *st, hrc_frame_t *fr) {
#if HRC_DEBUG
  if (st->top != NULL && frame_is_dead(st->top, __builtin_frame_address(0)))
    frame_never_left(st->top, "hrc_frame_enter of frame", fr);
  fr->entered = (uintptr_t)fr ^ FRAME_MAGIC;
#else
  (void)st, (void)fr;
#endif
}

/* A panic is about to run fr's deferred calls: fr must be a live frame (every build: a dead
 * one's slots hold whatever the stack holds now). */
void hrc_frame_check_live(hrc_frame_t *fr, const void *bound) {
  if (frame_is_dead(fr, bound)) frame_never_left(fr, "a panic at", bound);
}

/* Checked builds: a frame left out of order, or with calls pending. */
void hrc_frame_misuse_cold(hrc_frame_t *fr) {
  hrc_defer_state_t *st = hrc_tls_defer;
  if (st == NULL || st->top == NULL)
    hrc_fatal("frame %p left, but this thread has no frame entered (left twice, or entered on "
              "another thread, or the thread was detached)",
              (void *)fr);
  if (st->top != fr)
    hrc_fatal("frame %p left out of order: the thread's newest frame %p was entered after it "
              "and never left",
              (void *)fr, (void *)st->top);
  hrc_fatal("frame %p left with deferred calls pending (open-coded bits 0x%x, records %p)",
            (void *)fr, fr->bits, (void *)fr->records);
}

hrc_recover_t hrc_recover_token(hrc_closure_t *self) {
  hrc_defer_state_t *st = hrc_tls_defer;
  if (st == NULL || self == NULL || st->invoking != self) return HRC_NO_RECOVER;
  st->invoking = NULL;
  return st->invoking_call;
}

void hrc_recover_forward(hrc_closure_t *self, hrc_closure_t *callee) {
  hrc_defer_state_t *st = hrc_tls_defer;
  if (st == NULL || self == NULL || st->invoking != self) return;
  st->invoking = callee;
  hrc_panic_hold_forwarded(st, callee); /* the window is open only during a panic's call */
}

size_t hrc_defer_records_bytes(void) {
  hrc_defer_state_t *st = hrc_tls_defer;
  if (st == NULL || st->chunk == NULL) return 0;
  size_t bytes = (size_t)(st->records_top - st->records_base);
  for (chunk_t *c = ((chunk_t *)st->chunk)->prev; c != NULL; c = c->prev)
    bytes += (size_t)(c->top - c->data);
  return bytes;
}

void hrc_defer_thread_exit(bool detaching) {
  hrc_defer_state_t *st = hrc_tls_defer;
  if (st == NULL) return;
  if (detaching && (st->top != NULL || st->panic != NULL))
    hrc_fatal("hrc_thread_detach with defer frame %p still entered%s: leave every frame "
              "(hrc_frame_exit) before detaching",
              (void *)st->top, st->panic != NULL ? " and a panic running" : "");
  if (st->top != NULL)
    hrc_fatal("a thread ended with defer frame %p still entered: its function returned without "
              "hrc_frame_leave or hrc_frame_exit, or the thread ended by pthread_exit instead of "
              "hrc_thread_exit",
              (void *)st->top);
  hrc_tls_defer = NULL;
  for (chunk_t *c = st->chunk; c != NULL;) {
    chunk_t *older = c->prev;
    hrc_heap_free_root(c);
    c = older;
  }
  if (st->spare != NULL) hrc_heap_free_root(st->spare);
  hrc_heap_free_root(st);
}
