/* free.c: freeing dead objects without recursion, and the field loops of reuse.
 *
 * hrc_free_dead walks the graph that dies with an object using the dead objects themselves as
 * its stack (pointer reversal, as Koka does): when it descends into a dying child, it stores
 * the index of the next field in the parent's rc word (the parent is dead, so its count is free)
 * and the grandparent's address in the field it just read (whose value it has taken). A child in
 * the last field is entered after freeing the parent, so lists and right spines use no stack
 * at all; leaves (no scanned fields) are freed on the spot. Dropping a 10-million-cell list or
 * a 10-million-deep spine therefore uses constant C stack (tests/test_rc.c "free_*_small_stack").
 *
 * Invariants: an object handed to hrc_free_dead has no references left; each of its scanned
 * fields still owns the reference it holds; arrays hold at most UINT32_MAX items, so a field
 * index always fits the rc word.
 */
#include "rc_internal.h"

/* Release a dying parent's reference to child c; true when c died too. */
static inline bool release_child(hrc_obj_t *c) {
#if HRC_DEBUG
  hrc_debug_check(c, HRC_OP_DROP);
#endif
  uint32_t rc = hrc_rc_load(c);
  if ((int32_t)rc > 0) {
    hrc_rc_store(c, rc - 1);
    return false;
  }
  if (rc == HRC_RC_UNIQUE) return true;
  return hrc_shared_release(c);
}

/* Account for and release the block of a dead object whose fields are all handled. */
static void free_block(hrc_obj_t *o) {
  hrc_stats_on_free(o);
  hrc_block_release(o);
}

/* Free dead object o and everything that dies with it; constant C stack. */
void hrc_free_dead(hrc_obj_t *o) {
  hrc_thread_ensure();
  hrc_obj_t *parent = NULL;
  size_t i = 0;
  while (o != NULL) {
    size_t n;
    hrc_obj_t **slots = hrc_slots(o, &n);
    hrc_obj_t *next = NULL; /* a child to enter after o is freed */
    bool descended = false;
    while (i < n) {
      hrc_obj_t *c = slots[i++];
      if (hrc_is_scalar(c) || !release_child(c)) continue;
      if (c->scan == 0) {
        free_block(c);
      } else if (i == n) {
        next = c;
      } else {
        hrc_rc_store(o, (uint32_t)i); /* resume point */
        slots[i - 1] = parent;        /* link to the grandparent */
        parent = o;
        o = c;
        i = 0;
        descended = true;
        break;
      }
    }
    if (descended) continue;
    free_block(o);
    if (next != NULL) {
      o = next;
      i = 0;
    } else if (parent != NULL) {
      o = parent;
      i = hrc_rc_load(o);
      size_t pn;
      hrc_obj_t **pslots = hrc_slots(o, &pn);
      parent = pslots[i - 1];
    } else {
      o = NULL;
    }
  }
}

/* Drop the fields of a unique object that is becoming a reuse token. */
void hrc_drop_fields_cold(hrc_obj_t *o) {
  size_t n;
  hrc_obj_t **slots = hrc_slots(o, &n);
  for (size_t i = 0; i < n; i++) {
    hrc_obj_t *c = slots[i];
    if (!hrc_is_scalar(c) && release_child(c)) hrc_free_dead(c);
  }
}

/* dup every scanned field (the shared branch of drop specialisation, generic form). */
void hrc_dup_fields(hrc_obj_t *o) {
  size_t n;
  hrc_obj_t **slots = hrc_slots(o, &n);
  for (size_t i = 0; i < n; i++) hrc_dup(slots[i]);
}

/* Free a block whose fields were taken over or already dropped (free_cell, unused tokens). */
void hrc_free_block_cold(hrc_obj_t *o, hrc_op_t op) {
#if HRC_DEBUG
  hrc_debug_check(o, op);
#else
  (void)op;
#endif
  hrc_thread_ensure();
  if (op == HRC_OP_FREE_TOKEN) HRC_STAT_ADD(tokens_freed, 1);
  free_block(o);
}
