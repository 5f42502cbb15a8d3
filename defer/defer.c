/* defer.c: each thread's defer state, the heap-record pool and the runner of a frame's records.
 *
 * The state record comes from hrc_heap_alloc_root: uncollectable memory that bdwgc scans in
 * the tracing modes (it does not scan __thread storage; DESIGN.md section 4), so the chain
 * head, the panic chain and the pool stay visible to the collector. Frames and stack records
 * live on C stacks, which bdwgc scans; heap records are ordinary objects.
 *
 * The pool: a record whose call has started goes back to its thread's pool (newest first, at
 * most HRC_DEFER_POOL_MAX), so the next heap defer reuses it in place; past that bound it is
 * freed like any dead cell. Stats count a pooled record as freed and a reused one as
 * allocated, as for blocks in the caches. Invariant: pooled records have fn == NULL, so the
 * pool pins no closure.
 */
#include <pthread.h>

#include "block_internal.h"
#include "defer_internal.h"
#include "heap_internal.h"

__thread __attribute__((tls_model("initial-exec"))) hrc_defer_state_t *hrc_tls_defer;

/* First defer frame of this thread: register the thread, then make its state record. */
hrc_defer_state_t *hrc_defer_state_cold(void) {
  hrc_thread_ensure();
  hrc_defer_state_t *st = hrc_heap_alloc_root(sizeof *st);
  if (st == NULL) hrc_out_of_memory(sizeof *st);
  hrc_tls_defer = st;
  return st;
}

/* The pool is empty: a fresh record (an object with two scanned fields). */
hrc_defer_rec_t *hrc_defer_record_cold(void) {
  HRC_STAT_ADD(defer_records, 1);
  return (hrc_defer_rec_t *)hrc_alloc(sizeof(hrc_defer_rec_t), HRC_TAG_DEFER, 2);
}

/* A record's call has been taken: back to the pool, or freed when the pool is full; stack
 * records belong to their C frame. */
static void release_record(hrc_defer_state_t *st, hrc_defer_rec_t *r) {
  if (r->header.tag == HRC_DEFER_STACK_MARK) return;
  r->fn = NULL;
  if (HRC_LIKELY(st->npool < HRC_DEFER_POOL_MAX)) {
    hrc_stats_on_free(&r->header);
    r->next = st->pool;
    st->pool = r;
    st->npool++;
    return;
  }
  r->next = NULL;
  hrc_free_cell(&r->header); /* nothing in gc mode: the collector takes it */
}

/* Normal exit of a frame with records: newest first, each record released before its call. */
void hrc_frame_run_records(hrc_frame_t *fr) {
  hrc_defer_state_t *st = hrc_tls_defer;
  hrc_defer_rec_t *r;
  while ((r = fr->records) != NULL) {
    fr->records = r->next;
    hrc_closure_t *fn = r->fn;
    release_record(st, r);
    hrc_defer_invoke(fn);
  }
}

bool hrc_frame_take(hrc_defer_state_t *st, hrc_frame_t *fr, hrc_closure_t **fn) {
  if (fr->bits != 0) {
    unsigned i = 31u - (unsigned)__builtin_clz(fr->bits);
    fr->bits &= ~(1u << i);
    *fn = fr->slots[i];
    return true;
  }
  hrc_defer_rec_t *r = fr->records;
  if (r == NULL) return false;
  fr->records = r->next;
  *fn = r->fn;
  release_record(st, r);
  return true;
}

/* Go's call of a nil deferred function: a run-time panic at the call. */
void hrc_defer_nil_cold(void) {
  hrc_panic(hrc_error_new("runtime error: invalid memory address or nil pointer dereference"));
}

/* Checked builds: a frame left out of order, or with calls pending. */
void hrc_frame_misuse_cold(hrc_frame_t *fr) {
  hrc_defer_state_t *st = hrc_tls_defer;
  if (st == NULL || st->top != fr)
    hrc_fatal("frame %p left out of order (the thread's newest frame is %p)", (void *)fr,
              st != NULL ? (void *)st->top : NULL);
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
  if (st != NULL && self != NULL && st->invoking == self) st->invoking = callee;
}

void hrc_defer_thread_exit(void) {
  hrc_defer_state_t *st = hrc_tls_defer;
  if (st == NULL) return;
  hrc_tls_defer = NULL;
  while (st->pool != NULL) {
    hrc_defer_rec_t *r = st->pool;
    st->pool = r->next;
#if HRC_COUNTING
    hrc_block_release(&r->header); /* counted as freed when it entered the pool */
#endif
  }
  hrc_heap_free_root(st);
}
