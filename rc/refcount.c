/* refcount.c: the slow paths of dup and drop, and marking a graph thread-shared.
 *
 * The state table is in codegen-helpers/hrc_object.h. Invariants kept here:
 *  - a sticky or immortal count is never changed again (CAS loops check before every update),
 *    but for hrc_share turning a local sticky count (HRC_RC_STICKY) into HRC_RC_STICKY_SHARED;
 *  - a shared count changes only by compare-and-swap; decrements release, and the thread that
 *    gives up the last reference has read the count with acquire before freeing;
 *  - hrc_share turns local counts into shared ones with the same number of references
 *    (local rc r means r+1 references, shared 0x80000000+r means r+1: no off-by-one, see
 *    tests/test_share.c "conversion_keeps_*"), and never recurses on the C stack.
 */
#include <stdlib.h>

#include "rc_internal.h"

/* Suspect decrements (hrc_object.h): hybrid's drops count them, the heap's policy reads them. */
HRC_THREAD_LOCAL uint64_t hrc_tls_cycle_candidates;

/* dup that the fast path could not do: local overflow, shared, sticky or immortal. */
void hrc_dup_cold(hrc_obj_t *o, uint32_t n) {
  uint32_t rc = hrc_rc_load(o);
  if (rc < HRC_RC_SHARED) {
    if (n < HRC_RC_LOCAL_MAX - rc) {
      hrc_rc_store(o, rc + n);
    } else {
      hrc_rc_store(o, HRC_RC_STICKY);
      HRC_STAT_ADD(sticky, 1);
    }
    return;
  }
  while (rc < HRC_RC_STICKY) {
    uint32_t next = (n < HRC_RC_STICKY - rc) ? rc + n : HRC_RC_STICKY_SHARED;
    if (__atomic_compare_exchange_n(&o->rc, &rc, next, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
      if (next == HRC_RC_STICKY_SHARED) HRC_STAT_ADD(sticky, 1);
      return;
    }
  }
}

/* Hybrid's evidence for shared and sticky objects (hrc_note_suspect does local ones): a
 * reference given up that did not free the object. Several threads may do this at once, so the
 * flag is set atomically and the thread that sets it counts. */
static void note_shared_suspect(hrc_obj_t *o) {
  if (!(HRC_COUNTING && HRC_HEAP_TRACED)) return;
  uint8_t flags = __atomic_load_n(&o->flags, __ATOMIC_RELAXED);
  if (flags & (HRC_FLAG_ACYCLIC | HRC_FLAG_SUSPECT)) return;
  if (!(__atomic_fetch_or(&o->flags, HRC_FLAG_SUSPECT, __ATOMIC_RELAXED) & HRC_FLAG_SUSPECT))
    hrc_tls_cycle_candidates++;
}

/* Give up one reference to a shared, sticky or immortal object; true when it was the last.
 * The count is read with acquire (a plain load on x86-64) and a failed CAS re-reads it with
 * acquire, so seeing the last reference synchronises with every other thread's release
 * decrement before the object is freed. (An acquire fence after a relaxed read would do the
 * same in C11, but ThreadSanitizer does not model fences.) */
bool hrc_shared_release(hrc_obj_t *o) {
  uint32_t rc = __atomic_load_n(&o->rc, __ATOMIC_ACQUIRE);
  for (;;) {
    if (rc == HRC_RC_IMMORTAL) return false; /* static data, maybe read-only: never written */
    if (rc >= HRC_RC_STICKY) break;          /* RC will never free it: evidence, below */
    if (rc == HRC_RC_SHARED) return true;    /* ours alone: nobody else can change it any more */
    if (__atomic_compare_exchange_n(&o->rc, &rc, rc - 1, true, __ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
      break;
  }
  note_shared_suspect(o);
  return false;
}

/* A growable stack of objects for hrc_share; starts in place, grows on the C heap. */
typedef struct share_stack_s {
  hrc_obj_t **items;
  size_t len, cap;
  hrc_obj_t *inline_items[64];
} share_stack_t;

/* Push o, doubling the stack when full. */
static void share_push(share_stack_t *s, hrc_obj_t *o) {
  if (s->len == s->cap) {
    size_t cap = s->cap * 2;
    hrc_obj_t **items = s->items == s->inline_items ? malloc(cap * sizeof *items)
                                                    : realloc(s->items, cap * sizeof *items);
    if (items == NULL) hrc_out_of_memory(cap * sizeof *items);
    if (s->items == s->inline_items) {
      for (size_t i = 0; i < s->len; i++) items[i] = s->inline_items[i];
    }
    s->items = items;
    s->cap = cap;
  }
  s->items[s->len++] = o;
}

/* Convert one local count (a sticky local one included) to the shared count with the same
 * number of references, or to sticky-shared when that many do not fit. */
static void share_one(hrc_obj_t *o, uint32_t rc) {
  bool fits = rc <= HRC_RC_STICKY - 1 - HRC_RC_SHARED;
  uint32_t shared = fits ? HRC_RC_SHARED + rc : HRC_RC_STICKY_SHARED;
  hrc_rc_store(o, shared);
  HRC_STAT_ADD(shared_marked, 1);
  if (!fits && rc != HRC_RC_STICKY) HRC_STAT_ADD(sticky, 1); /* newly sticky */
}

/* Whether hrc_share must convert o and walk its fields: a local count, or a local count that
 * overflowed to sticky (its graph was never shared: Koka 3.1.1's shared-count bugs are of this
 * class; tests/test_share.c "sticky_roots_share_their_graph"). Shared, sticky-shared and
 * immortal objects are skipped: their graphs are shared already. */
static bool needs_share(uint32_t rc) { return rc < HRC_RC_SHARED || rc == HRC_RC_STICKY; }

/* Mark everything reachable from v as thread-shared, before v is handed to another thread. */
void hrc_share(hrc_obj_t *v) {
  if (!HRC_COUNTING || v == NULL || hrc_is_scalar(v)) return;
  share_stack_t s = {.len = 0, .cap = 64};
  s.items = s.inline_items;
  share_push(&s, v);
  while (s.len > 0) {
    hrc_obj_t *o = s.items[--s.len];
    HRC_CHECK(o, HRC_OP_SHARE);
    uint32_t rc = hrc_rc_load(o);
    if (!needs_share(rc)) continue;
    share_one(o, rc);
    size_t n;
    hrc_obj_t **slots = hrc_slots(o, &n);
    for (size_t i = 0; i < n; i++) {
      if (!hrc_is_scalar(slots[i])) share_push(&s, slots[i]);
    }
  }
  if (s.items != s.inline_items) free(s.items);
}
