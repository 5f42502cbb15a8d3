/* hrc_defer.h: Go's defer, panic and recover for generated C.
 *
 * A function with defers keeps an hrc_frame_t in its own C frame and links it, on entry, into
 * its thread's chain of frames, whose head is in a per-thread record the collector scans
 * (defer/defer.c). A deferred call is a closure (hrc_closure.h) taking no arguments: the
 * arguments Go evaluates at the `defer` are its captured values. A frame's deferred calls are
 * held in one of two ways, which the compiler chooses per function (docs/lowering.md):
 *   - open-coded: at most HRC_OPEN_MAX sites, none in a loop: the closure of site i sits in
 *     slots[i] and bit i of `bits` says it is pending. The exit code runs the sites highest
 *     first: hrc_defer_take_slot clears the bit, then the compiler calls the function directly
 *     (hrc_defer_run_slot calls the slot's closure when the function is not known).
 *   - records: each defer pushes a record on the frame's list, newest first; a record is
 *     either in the C frame (hrc_defer_stack, for defers that run at most once per call) or
 *     on the thread's record stack (hrc_defer_heap, for defers in loops): records are
 *     strictly last-in first-out per thread, so they are bump-allocated in chunks and each
 *     one's memory is reused in place by the next defer once its call has returned; a record
 *     may carry its closure inline (hrc_defer_heap_closure), so a loop defer allocates
 *     nothing. The exit code calls hrc_frame_exit, which runs them newest first.
 * Every exit path runs the frame's deferred calls and then leaves the chain (hrc_frame_exit).
 *
 * Ownership: a slot or record owns one reference to its closure; running the call hands that
 * reference to the callee (an owned call), so a unique environment is freed or reused by the
 * callee at once. The call's result is dropped.
 *
 * Panics (defer/panic.c): hrc_panic runs the pending deferred calls of the chain, newest
 * first, on top of the panicking stack, and unwinds (_longjmp, which saves no signal mask)
 * only when one of them has recovered, to the landing of the frame that deferred it. A
 * frame where a recover can land sets one up right after hrc_frame_enter with
 * HRC_FRAME_LANDING; its locals that the body changes and the landing code reads (named
 * results) must be volatile, as with any setjmp.
 *
 * Recover (Go's rule: effective only in a deferred call that the panic machinery invoked
 * itself): code that calls recover gets a token. A closure's code takes it on entry with
 * hrc_recover_token(self), before anything else; a named function that calls recover takes it
 * as a hidden parameter, which its deferred thunk fills with hrc_recover_token(self) and
 * every ordinary call with HRC_NO_RECOVER; a thunk that calls a closure value passes its window
 * on with hrc_recover_forward. hrc_recover(token) then returns the panic value or NULL.
 *
 * Assumes the C stack grows downwards (every Linux target hrc builds for) and that frames of
 * one chain live on one stack (no stack switching between hrc_frame_enter and exit).
 */
#ifndef HRC_DEFER_H
#define HRC_DEFER_H

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>

#include "hrc_closure.h"

#define HRC_OPEN_MAX 8 /* open-coded sites per frame (Go's limit as well) */

/* A recover token: which invocation by the panic machinery a deferred call is; 0 for none. */
typedef uint64_t hrc_recover_t;
#define HRC_NO_RECOVER ((hrc_recover_t)0)

/* A defer record: the link to the next older record of the same frame, whose low bits say
 * what kind of record this is, and the closure. A stack record lives in a C frame; a heap
 * record (HRC_DEFER_HEAP) on the thread's record stack; an inline record (also
 * HRC_DEFER_INLINE) carries its closure in place of `fn`, so it ends where the closure ends. */
typedef struct hrc_defer_rec_s {
  uintptr_t link;
  hrc_closure_t *fn; /* owned; NULL when Go code deferred a nil function */
} hrc_defer_rec_t;

#define HRC_DEFER_HEAP   1u
#define HRC_DEFER_INLINE 2u
#define HRC_DEFER_KINDS  7u

/* The next older record of the same frame. */
static inline hrc_defer_rec_t *hrc_defer_rec_next(const hrc_defer_rec_t *r) {
  return (hrc_defer_rec_t *)(r->link & ~(uintptr_t)HRC_DEFER_KINDS);
}

/* The record's closure. */
static inline hrc_closure_t *hrc_defer_rec_fn(hrc_defer_rec_t *r) {
  return (r->link & HRC_DEFER_INLINE) ? (hrc_closure_t *)&r->fn : r->fn;
}

/* Where a recovered panic resumes: a jump buffer in the frame that deferred the recovering
 * call. Only frames where a recover can land need one. */
typedef struct hrc_landing_s {
  jmp_buf jb;
  char *records_top; /* the record stack's top when the landing was set */
} hrc_landing_t;

/* A function's defer frame, in its C frame. Invariants: linked into the thread's chain from
 * hrc_frame_enter to hrc_frame_leave, in stack order; a pending slot i has bit i set in
 * `bits` and owns slots[i]; `records` owns every record on it. A frame uses slots or
 * records, not both (when both are present, slots run first). */
typedef struct hrc_frame_s {
  struct hrc_frame_s *prev; /* the next older frame of this thread */
  hrc_defer_rec_t *records; /* pending records, newest first */
  hrc_landing_t *landing;   /* where a recover in this frame's deferred calls lands */
  uint32_t bits;            /* pending open-coded slots */
  hrc_closure_t *slots[HRC_OPEN_MAX];
#if HRC_DEBUG
  uintptr_t entered; /* checked builds: the frame's address xor a magic while it is entered */
#endif
} hrc_frame_t;

typedef struct hrc_panic_s hrc_panic_t; /* defer/defer_internal.h */

/* A thread's defer state: in memory the collector scans (uncollectable in gc and hybrid), so
 * nothing a pending record or a panic refers to is reclaimed while it is needed (record
 * chunks are scanned root memory too).
 * Only its own thread touches it. */
typedef struct hrc_defer_state_s {
  hrc_frame_t *top;            /* the newest frame of the chain, or NULL */
  hrc_panic_t *panic;          /* the newest panic in progress, or NULL */
  hrc_closure_t *invoking;     /* the deferred call the panic machinery is starting, if any */
  hrc_recover_t invoking_call; /* its token */
  hrc_recover_t serial;        /* the last token handed out */
  /* The record stack: heap records in [records_base, records_top) of the current chunk,
   * older ones in older chunks (defer/defer.c). */
  char *records_top;
  char *records_end;
  char *records_base;
  void *chunk; /* the current chunk */
  void *spare; /* an empty chunk kept for the next push past the current one */
} hrc_defer_state_t;

/* This thread's state, or NULL before its first frame. */
extern HRC_API HRC_THREAD_LOCAL hrc_defer_state_t *hrc_tls_defer;

HRC_API HRC_COLD hrc_defer_state_t *hrc_defer_state_cold(void);
HRC_API HRC_COLD hrc_defer_rec_t *hrc_defer_push_cold(size_t bytes);
HRC_API HRC_COLD void hrc_defer_pop_cold(hrc_defer_rec_t *r);
HRC_API void hrc_defer_clear_inline(hrc_defer_rec_t *r);
HRC_API HRC_NOINLINE void hrc_frame_run_records(hrc_frame_t *fr);
HRC_API HRC_NORETURN HRC_COLD void hrc_defer_nil_cold(void);
HRC_API HRC_COLD void hrc_frame_misuse_cold(hrc_frame_t *fr);
HRC_API HRC_NOINLINE void hrc_frame_enter_check(hrc_defer_state_t *st, hrc_frame_t *fr);

/* Link a frame into this thread's chain, with nothing pending and no landing. The checked
 * build first makes sure the chain's newest frame is still entered (a function that returned
 * without leaving its frame is named here, not later as a bad pointer). */
static inline void hrc_frame_enter(hrc_frame_t *fr) {
  hrc_defer_state_t *st = hrc_tls_defer;
  if (HRC_UNLIKELY(st == NULL)) st = hrc_defer_state_cold();
#if HRC_DEBUG
  hrc_frame_enter_check(st, fr);
#endif
  fr->prev = st->top;
  fr->records = NULL;
  fr->landing = NULL;
  fr->bits = 0;
  st->top = fr;
}

/* In a frame where a recover can land, right after hrc_frame_enter:
 *     if (HRC_FRAME_LANDING(&fr, &land)) goto recovered;
 * true when control arrives there from a recovered panic. A macro: setjmp must be called in
 * the function whose frame it saves. */
#define HRC_FRAME_LANDING(fr, land)                                                                \
  ((fr)->landing = (land), (land)->records_top = hrc_tls_defer->records_top,                       \
   _setjmp((land)->jb) != 0)

/* Run a deferred call, handing it the slot's or record's reference; a nil one panics as Go's
 * call of a nil function does. */
static inline void hrc_defer_invoke(hrc_closure_t *fn) {
  if (HRC_UNLIKELY(fn == NULL)) hrc_defer_nil_cold();
  HRC_STAT_ADD(defers_run, 1);
  hrc_xdrop(hrc_call0(fn));
}

/* Open-coded defer at site i (a constant below HRC_OPEN_MAX): the frame now owns fn. */
static inline void hrc_defer_open(hrc_frame_t *fr, unsigned i, hrc_closure_t *fn) {
  fr->slots[i] = fn;
  fr->bits |= 1u << i;
}

/* Exit code of an open-coded frame, once per site, highest site first: whether site i is
 * pending, clearing its bit so that a panic in the call does not run it again. The compiler
 * then calls the deferred function directly, as Go's open-coded exit does; the slot's closure
 * is what a panic would have called. */
static inline bool hrc_defer_take_slot(hrc_frame_t *fr, unsigned i) {
  uint32_t bit = 1u << i;
  if (!(fr->bits & bit)) return false;
  fr->bits &= ~bit;
  HRC_STAT_ADD(defers_run, 1);
  return true;
}

/* The same, calling the slot's closure (when the compiler does not know the function). */
static inline void hrc_defer_run_slot(hrc_frame_t *fr, unsigned i) {
  if (fr->bits & (1u << i)) {
    fr->bits &= ~(1u << i);
    hrc_defer_invoke(fr->slots[i]);
  }
}

/* Defer fn with a record that lives in the caller's C frame (a defer not in a loop). */
static inline void hrc_defer_stack(hrc_frame_t *fr, hrc_defer_rec_t *rec, hrc_closure_t *fn) {
  rec->fn = fn;
  rec->link = (uintptr_t)fr->records;
  fr->records = rec;
}

/* A heap record of `bytes` bytes on top of this thread's record stack; constant time. */
static inline hrc_defer_rec_t *hrc_defer_push(size_t bytes) {
  hrc_defer_state_t *st = hrc_tls_defer; /* set: the frame was entered on this thread */
  char *p = st->records_top;
  if (HRC_UNLIKELY((size_t)(st->records_end - p) < bytes)) return hrc_defer_push_cold(bytes);
  st->records_top = p + bytes;
  return (hrc_defer_rec_t *)p;
}

/* Defer the closure fn (owned) with a heap record (a defer in a loop). */
static inline void hrc_defer_heap(hrc_frame_t *fr, hrc_closure_t *fn) {
  hrc_defer_rec_t *r = hrc_defer_push(sizeof(hrc_defer_rec_t));
  HRC_STAT_ADD(defer_records, 1);
  r->fn = fn;
  r->link = (uintptr_t)fr->records | HRC_DEFER_HEAP;
  fr->records = r;
}

/* Defer a closure carried inside its heap record: returns it, with room for n captured values
 * and scalar_bytes of scalars, for the caller to fill. Nothing is allocated: the record and
 * the closure go when the call returns. The closure is immortal (hrc_closure_init_frame): its
 * code borrows self and takes the captured values over, since it runs exactly once. */
static inline hrc_closure_t *hrc_defer_heap_closure(hrc_frame_t *fr, hrc_code_t code, size_t n,
                                                    size_t scalar_bytes) {
  size_t closure = (hrc_closure_size(n, scalar_bytes) + 7) & ~(size_t)7;
  if (HRC_UNLIKELY(closure > HRC_SMALL_WORDS_MAX * 8)) hrc_closure_too_big(n);
  hrc_defer_rec_t *r = hrc_defer_push(sizeof(uintptr_t) + closure);
  HRC_STAT_ADD(defer_records, 1);
  hrc_closure_t *c = hrc_closure_init_frame(&r->fn, code, n, scalar_bytes);
  r->link = (uintptr_t)fr->records | HRC_DEFER_HEAP | HRC_DEFER_INLINE;
  fr->records = r;
  return c;
}

/* A record's call has returned: give its memory back (the newest heap record of the thread).
 * In the tracing modes the record's references are cleared first: the chunk is scanned
 * memory, and a stale closure pointer or captured value would keep what it refers to alive
 * until another defer reuses the slot (found by the fuzzer, tests/fuzz). */
static inline void hrc_defer_pop(hrc_defer_rec_t *r) {
  hrc_defer_state_t *st = hrc_tls_defer;
  if (!(r->link & HRC_DEFER_HEAP)) return; /* a stack record */
#if HRC_TRACING
  if (r->link & HRC_DEFER_INLINE) hrc_defer_clear_inline(r);
  else r->fn = NULL;
#endif
  if (HRC_LIKELY((char *)r >= st->records_base && (char *)r < st->records_end))
    st->records_top = (char *)r;
  else hrc_defer_pop_cold(r);
}

/* Leave the chain. Every deferred call must have run (hrc_frame_exit does that). */
static inline void hrc_frame_leave(hrc_frame_t *fr) {
  hrc_defer_state_t *st = hrc_tls_defer;
#if HRC_DEBUG
  if (st == NULL || st->top != fr || fr->bits != 0 || fr->records != NULL)
    hrc_frame_misuse_cold(fr);
  fr->entered = 0;
#endif
  st->top = fr->prev;
}

/* The exit of a frame with records: run them newest first, then leave the chain. One record
 * (a function's only defer) runs inline; more go through the library's loop. */
static inline void hrc_frame_exit(hrc_frame_t *fr) {
  hrc_defer_rec_t *r = fr->records;
  if (r != NULL) {
    if (HRC_LIKELY(hrc_defer_rec_next(r) == NULL)) {
      fr->records = NULL;
      hrc_defer_invoke(hrc_defer_rec_fn(r));
      hrc_defer_pop(r);
    } else {
      hrc_frame_run_records(fr);
    }
  }
  hrc_frame_leave(fr);
}

/* Bytes of heap records pending on this thread's record stack (tests, debuggers). */
HRC_API size_t hrc_defer_records_bytes(void);

/* ---- panic, recover, thread exit (defer/panic.c) ---- */

/* Go's panic(v): v (owned) is any value; NULL panics with a runtime error, as Go 1.21 does. */
HRC_API HRC_NORETURN void hrc_panic(hrc_obj_t *v);
/* panic with a byte string holding msg. */
HRC_API HRC_NORETURN void hrc_panic_str(const char *msg);

/* At the entry of a closure's code that calls recover (before self is unpacked or dropped):
 * this invocation's token when the panic machinery is invoking this very closure, else
 * HRC_NO_RECOVER. Consumes the window: nothing called later gets it. */
HRC_API hrc_recover_t hrc_recover_token(hrc_closure_t *self);
/* In a deferred thunk that calls the closure value callee (`defer g(x)`): hand the window the
 * thunk was invoked with, if any, to callee, so that callee may recover as Go's g would. */
HRC_API void hrc_recover_forward(hrc_closure_t *self, hrc_closure_t *callee);
/* Go's recover(): the current panic's value (owned) when tok is its invocation's token and
 * nothing has recovered it yet, else NULL. */
HRC_API hrc_obj_t *hrc_recover(hrc_recover_t tok);

/* Go's runtime.Goexit: run every pending deferred call of this thread, then end the thread
 * (pthread_exit). It cannot be recovered; a panic in one of the deferred calls proceeds as
 * usual, and a panic in progress when a deferred call exits ends with the thread. On the main
 * thread, as Go's Goexit in main: once the deferred calls have run, the other threads hrc
 * knows (hrc_thread_create, attached) run on, and when none is left the process ends with
 * "fatal error: no threads left to run (the main thread called hrc_thread_exit)" and status 2
 * (tests/exit_scenarios.c). */
HRC_API HRC_NORETURN void hrc_thread_exit(void);

/* ---- panic values ---- */

typedef struct hrc_error_s {
  hrc_obj_t header;   /* tag HRC_TAG_ERROR, scan 1 */
  hrc_obj_t *message; /* an hrc_bytes_t */
} hrc_error_t;

/* A runtime error value holding msg ("runtime error: ..." for the runtime's own). */
HRC_API hrc_obj_t *hrc_error_new(const char *msg);
/* The text of a runtime error or of a byte string; NULL for other values. */
HRC_API const char *hrc_value_text(hrc_obj_t *v);

/* How an unrecovered panic prints a value of a compiler's own type (after "panic: "); the
 * runtime prints byte strings, boxed integers and runtime errors itself. */
typedef void (*hrc_panic_printer_t)(FILE *out, hrc_obj_t *v);
HRC_API void hrc_panic_set_printer(hrc_panic_printer_t printer);

#endif
