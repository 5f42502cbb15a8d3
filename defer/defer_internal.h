/* defer_internal.h: what defer/defer.c and defer/panic.c share.
 *
 * A panic record lives in the C frame of hrc_panic (or hrc_thread_exit) that started it and is
 * linked from the thread's state, newest first. The C stack grows downwards, so a record whose
 * address is below a frame's was started by that frame or by something it called: when a
 * recover lands in a frame, every panic below it ends (Go: "the original panic had to be in
 * frame F or a descendant of F").
 */
#ifndef HRC_DEFER_INTERNAL_H
#define HRC_DEFER_INTERNAL_H

#include "rc_internal.h"

struct hrc_panic_s {
  hrc_panic_t *link;        /* the next older panic */
  hrc_obj_t *value;         /* owned; still printed after a recover, like Go's [recovered] */
  hrc_recover_t call;       /* token of the deferred call it is running now */
  hrc_closure_t *held;      /* that call's closure, one reference held until it returns */
  hrc_closure_t *forwarded; /* the closure the window was forwarded to (hrc_recover_forward),
                             * one reference held until the call returns, so that no other
                             * closure is allocated at its address and takes the window */
  bool recovered;           /* a recover took its value; it ends when that call returns */
  bool goexit;       /* a thread exit: runs like a panic, cannot be recovered, prints nothing */
  const void *bound; /* the frame address of the call that started it (hrc_frame_check_live) */
};

/* This thread's state, made on first use. */
static inline hrc_defer_state_t *hrc_defer_state(void) {
  hrc_defer_state_t *st = hrc_tls_defer;
  return st != NULL ? st : hrc_defer_state_cold();
}

/* Take the newest pending deferred call of fr into *fn (and its heap or stack record, to pop
 * when the call returns, into *rec); false when none is left. */
HRC_HIDDEN bool hrc_frame_take(hrc_frame_t *fr, hrc_closure_t **fn, hrc_defer_rec_t **rec);
/* A landing in fr: the record stack's top goes back to fr's newest pending heap record, or to
 * where it stood when fr set its landing. */
HRC_HIDDEN void hrc_defer_reset_records(hrc_defer_state_t *st, hrc_frame_t *fr);
/* Pop the heap record r whose call a panic ran: records above it are dead too. */
HRC_HIDDEN void hrc_defer_pop_unwound(hrc_defer_rec_t *r);

/* A panic is about to run fr's deferred calls: stop with one line if fr's function has
 * returned without leaving it. bound: the frame address of the panic's entry point, which
 * lies below every live frame of the chain. */
HRC_HIDDEN void hrc_frame_check_live(hrc_frame_t *fr, const void *bound);
/* hrc_recover_forward moved the window of the current panic's call to callee: hold it. */
HRC_HIDDEN void hrc_panic_hold_forwarded(hrc_defer_state_t *st, hrc_closure_t *callee);

/* This thread's registration: make its state record (a hook, runtime/runtime.c). */
HRC_HIDDEN void hrc_defer_thread_enter(void);
/* This thread's end (detaching false) or hrc_thread_detach: release its state and its record
 * stack; refused with one fatal line while a frame is entered or a panic runs. */
HRC_HIDDEN void hrc_defer_thread_exit(bool detaching);

#endif
