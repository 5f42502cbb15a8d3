/* debug.c: the checked build (meson -Dchecks=true): every RC operation is checked, freed
 * blocks are poisoned and quarantined.
 *
 * Each block carries a 16-byte prefix before its object: the requested size, and a cookie that
 * is the object's address xor LIVE_MAGIC while it lives and xor DEAD_MAGIC once freed. So a
 * check can tell, and name in one line:
 *   - a pointer hrc never allocated (no cookie),
 *   - a freed object (dead cookie; rc word HRC_RC_FREED, fields filled with 0xDB),
 *   - a reuse token used as an object (rc word HRC_RC_TOKEN),
 *   - a decrement that would underflow, and unique-only operations on shared objects.
 * Freed blocks wait in a per-thread FIFO (HRC_QUARANTINE blocks, default 65536, 0 = none)
 * before the allocator may hand them out again, so a late access still finds the poison.
 * Under AddressSanitizer the poisoned fields are also marked unaddressable, which catches
 * accesses the checks do not see (generated code reading a field of a freed object).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "heap_internal.h"
#include "rc_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define HRC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HRC_ASAN 1
#endif
#endif
#ifdef HRC_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define LIVE_MAGIC  ((uintptr_t)0x4852434c49564521u) /* "HRCLIVE!" */
#define DEAD_MAGIC  ((uintptr_t)0x4852434445414421u) /* "HRCDEAD!" */
#define POISON_BYTE 0xDB

HRC_HIDDEN void hrc_debug_on_alloc(hrc_obj_t *o, size_t size);
HRC_HIDDEN void hrc_debug_release(hrc_obj_t *o);
HRC_HIDDEN size_t hrc_debug_requested(const hrc_obj_t *o);

/* The prefix words {requested size, cookie} before an object. */
static uintptr_t *prefix_of(const hrc_obj_t *o) { return (uintptr_t *)((uintptr_t)o - 16); }

/* The block (as the heap knows it) of an object. */
static void *block_of(hrc_obj_t *o) { return (char *)o - 16; }

void hrc_debug_on_alloc(hrc_obj_t *o, size_t size) {
  prefix_of(o)[0] = size;
  prefix_of(o)[1] = (uintptr_t)o ^ LIVE_MAGIC;
}

size_t hrc_debug_requested(const hrc_obj_t *o) { return prefix_of(o)[0]; }

/* ---- quarantine ---- */

typedef struct quarantine_s {
  hrc_obj_t **ring;
  size_t cap, head, len;
  bool ready;
} quarantine_t;

static HRC_TLS quarantine_t quarantine;

/* Blocks a thread keeps poisoned before reuse: HRC_QUARANTINE, default 65536. */
static size_t quarantine_capacity(void) {
  const char *s = getenv("HRC_QUARANTINE");
  if (s == NULL || *s == '\0') return 65536;
  return (size_t)strtoull(s, NULL, 10);
}

/* Hand a quarantined block back to the heap. */
static void evict(hrc_obj_t *o) {
  size_t size = prefix_of(o)[0];
  UNPOISON(o, size);
  hrc_heap_free(block_of(o));
}

/* Keep a poisoned block out of circulation for a while; evict the oldest when full. */
static void quarantine_push(hrc_obj_t *o) {
  quarantine_t *q = &quarantine;
  if (!q->ready) {
    q->cap = quarantine_capacity();
    /* Root memory: in the tracing modes the collector must not reclaim quarantined blocks. */
    q->ring = q->cap ? hrc_heap_alloc_root(q->cap * sizeof *q->ring) : NULL;
    if (q->ring == NULL) q->cap = 0;
    q->ready = true;
  }
  if (q->cap == 0) {
    evict(o);
    return;
  }
  if (q->len == q->cap) {
    evict(q->ring[q->head]);
    q->ring[q->head] = o;
    q->head = (q->head + 1) % q->cap;
    return;
  }
  q->ring[(q->head + q->len) % q->cap] = o;
  q->len++;
}

/* Give every quarantined block back to the heap (out of memory: reuse beats detection). */
void hrc_debug_quarantine_flush(void) {
  quarantine_t *q = &quarantine;
  for (size_t i = 0; i < q->len; i++) evict(q->ring[(q->head + i) % q->cap]);
  q->head = q->len = 0;
}

void hrc_debug_thread_exit(void) {
  quarantine_t *q = &quarantine;
  hrc_debug_quarantine_flush();
  if (q->ring != NULL) hrc_heap_free_root(q->ring);
  *q = (quarantine_t){0};
}

/* ---- poisoning ---- */

/* Fill everything after the header with the poison byte. */
static void poison_fields(hrc_obj_t *o) {
  size_t size = prefix_of(o)[0];
  if (size > sizeof(hrc_obj_t)) memset(o + 1, POISON_BYTE, size - sizeof(hrc_obj_t));
}

void hrc_debug_release(hrc_obj_t *o) {
  if (prefix_of(o)[1] != ((uintptr_t)o ^ LIVE_MAGIC))
    hrc_fatal("free of %p (tag %u), whose block is not live: heap corrupted", (void *)o, o->tag);
  poison_fields(o);
  hrc_rc_store(o, HRC_RC_FREED);
  prefix_of(o)[1] = (uintptr_t)o ^ DEAD_MAGIC;
  size_t size = prefix_of(o)[0];
  if (size > sizeof(hrc_obj_t)) POISON(o + 1, size - sizeof(hrc_obj_t));
  quarantine_push(o);
}

void hrc_debug_to_token(hrc_obj_t *o) {
  poison_fields(o);
  hrc_rc_store(o, HRC_RC_TOKEN);
}

/* ---- checks ---- */

/* Checks for a freed block: each operation gets its own words. */
static HRC_NORETURN void fail_freed(const hrc_obj_t *o, hrc_op_t op) {
  if (op == HRC_OP_DUP || op == HRC_OP_IS_UNIQUE || op == HRC_OP_SHARE)
    hrc_fatal("%s of dead object %p (tag %u): it was already freed", hrc_op_name(op), (void *)o,
              o->tag);
  hrc_fatal("%s of freed object %p (tag %u): double drop or reference count underflow",
            hrc_op_name(op), (void *)o, o->tag);
}

/* Checks that apply to the rc word of a live block. */
static void check_live_state(const hrc_obj_t *o, hrc_op_t op, uint32_t rc) {
  bool token_op = op == HRC_OP_ALLOC_AT || op == HRC_OP_FREE_TOKEN;
  if (rc == HRC_RC_TOKEN) {
    if (!token_op)
      hrc_fatal("%s of dead object %p (tag %u): its memory is a reuse token", hrc_op_name(op),
                (void *)o, o->tag);
    return;
  }
  if (token_op)
    hrc_fatal("%s of %p (tag %u), which is a live object, not a reuse token", hrc_op_name(op),
              (void *)o, o->tag);
  if ((op == HRC_OP_FREE_CELL || op == HRC_OP_REUSE_CELL) && rc != HRC_RC_UNIQUE)
    hrc_fatal("%s of %p (tag %u), which is not unique: test hrc_is_unique first", hrc_op_name(op),
              (void *)o, o->tag);
  if (op == HRC_OP_DECREF && rc == HRC_RC_UNIQUE)
    hrc_fatal("decref of unique object %p (tag %u): reference count underflow (decref needs a "
              "second reference; test hrc_is_unique first)",
              (void *)o, o->tag);
}

void hrc_debug_check(const hrc_obj_t *o, hrc_op_t op) {
  if (o == NULL)
    hrc_fatal("%s of NULL, which is not a value (hrc_xdup/hrc_xdrop take nullable slots)",
              hrc_op_name(op));
  if (((uintptr_t)o & 7u) != 0)
    hrc_fatal("%s of %p, which is not an object (a boxed scalar or a misaligned pointer)",
              hrc_op_name(op), (const void *)o);
  uint32_t rc = hrc_rc_load(o);
  if (rc == HRC_RC_IMMORTAL) {
    if (op == HRC_OP_FREE_CELL || op == HRC_OP_REUSE_CELL || op == HRC_OP_ALLOC_AT ||
        op == HRC_OP_FREE_TOKEN)
      hrc_fatal("%s of immortal object %p (tag %u)", hrc_op_name(op), (const void *)o, o->tag);
    return;
  }
  uintptr_t cookie = prefix_of(o)[1];
  if (cookie == ((uintptr_t)o ^ DEAD_MAGIC) || rc == HRC_RC_FREED) fail_freed(o, op);
  if (cookie != ((uintptr_t)o ^ LIVE_MAGIC))
    hrc_fatal("%s of %p, which hrc never allocated (or whose header was overwritten)",
              hrc_op_name(op), (const void *)o);
  check_live_state(o, op, rc);
}

void hrc_debug_token(hrc_obj_t *tok, size_t size, unsigned scan) {
  hrc_debug_check(tok, HRC_OP_ALLOC_AT);
  size_t capacity = prefix_of(tok)[0];
  if (size > capacity)
    hrc_fatal("alloc_at of %zu bytes into a reuse token of %zu bytes (old tag %u)", size, capacity,
              tok->tag);
  if (scan > HRC_SCAN_MAX)
    hrc_fatal("alloc_at with %u scanned fields (at most %u)", scan, HRC_SCAN_MAX);
  if (size < sizeof(hrc_obj_t) + (size_t)scan * sizeof(void *))
    hrc_fatal("alloc_at of %zu bytes cannot hold a header and %u scanned fields", size, scan);
}
