/* hrc_object.h: the object header, the reference-count states, boxed scalars, dup and drop.
 *
 * Every heap object starts with an 8-byte header (hrc_obj_t). Its scanned fields (values that
 * may be references) come first, right after the header; scalar payload follows them. So
 * freeing, sharing and tracing walk an object with no type information beyond the header.
 *
 * A value (hrc_obj_t *) is either a reference to an object (8-byte aligned, low bit 0) or a
 * boxed scalar (low bit 1): a small integer or a closure's code pointer. dup/drop leave boxed
 * scalars alone. NULL is not a value: hrc_dup/hrc_drop of NULL is undefined, and the debug build
 * stops it with a clear line (use hrc_xdup/hrc_xdrop for nullable slots).
 *
 * Reference-count states (the 32-bit rc word; state table pinned by tests/test_rc.c and
 * tests/test_share.c):
 *
 *   rc                       state       references      who may touch it
 *   0                        local       1 (unique)      owning thread, plain loads/stores
 *   1 .. 0x7FFFFFFE          local       rc + 1          owning thread, plain loads/stores
 *   0x7FFFFFFF               local       2^31            next dup makes it sticky
 *   0x80000000 .. BFFFFFFF   shared      rc - 2^31 + 1   any thread, compare-and-swap
 *   0xC0000000               sticky      not counted     a local count that overflowed: its
 *                                                        graph is still local (hrc_share
 *                                                        walks on through it)
 *   0xC0000001 .. FFFFFFFE   sticky      not counted     never freed by RC (the tracer may);
 *                                                        0xC0000001: sticky and shared
 *   0xFFFFFFFF               immortal    not counted     static constants, never freed
 *
 * Fast paths are one predictable branch: dup increments while rc < 0x7FFFFFFF (one unsigned
 * compare); drop decrements while rc, read as signed, is > 0. Everything else (last reference,
 * shared, sticky, immortal, overflow) goes out of line: hrc_dup_cold, hrc_drop_slow (rc/refcount.c,
 * rc/free.c).
 *
 * Memory ordering: local counts are only touched by the owning thread, so the fast path uses
 * relaxed loads and stores (plain moves on x86-64; atomic only so that a read racing with
 * another thread's update of a *shared* count is not a data race). Shared counts change with a
 * compare-and-swap loop: release on decrement, and an acquire read of the count before the
 * last reference frees, so every thread's writes to the object happen before its memory is
 * reused. A CAS loop
 * rather than fetch_add keeps "sticky" absorbing: once a count is sticky no thread changes it.
 * Handing a graph to another thread after hrc_share needs the usual release/acquire edge
 * (a mutex, a channel, pthread_create); the runtime does not add one.
 */
#ifndef HRC_OBJECT_H
#define HRC_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hrc_config.h"

typedef struct hrc_obj_s {
  uint32_t rc;   /* reference-count state, see the table above */
  uint8_t tag;   /* constructor tag: 0..HRC_TAG_MAX_CTOR for compilers, the rest for hrc */
  uint8_t scan;  /* number of scanned fields after the header; HRC_SCAN_ARRAY for arrays */
  uint8_t flags; /* HRC_FLAG_* */
  uint8_t words; /* object size in 8-byte words including the header; 0 when larger */
} hrc_obj_t;

_Static_assert(sizeof(hrc_obj_t) == 8, "hrc: the object header is 8 bytes");

#define HRC_RC_UNIQUE        0x00000000u
#define HRC_RC_LOCAL_MAX     0x7FFFFFFFu
#define HRC_RC_SHARED        0x80000000u /* shared, one reference */
#define HRC_RC_STICKY        0xC0000000u /* first sticky value: a local count that overflowed */
#define HRC_RC_STICKY_SHARED 0xC0000001u /* sticky, and its graph is marked shared */
#define HRC_RC_IMMORTAL      0xFFFFFFFFu

#define HRC_TAG_MAX_CTOR 239u /* compilers' constructor tags are 0..239 */
#define HRC_TAG_CLOSURE  240u
#define HRC_TAG_BYTES    241u
#define HRC_TAG_ARRAY    242u
#define HRC_TAG_SCALARS  243u
#define HRC_TAG_ERROR    245u /* a runtime error value, as panics carry it (hrc_defer.h) */

#define HRC_SCAN_MAX   254u /* most scanned fields of an ordinary object */
#define HRC_SCAN_ARRAY 255u /* the word after the header counts the scanned items */

#define HRC_SMALL_WORDS_MAX 255u /* objects up to 255 words record their size in the header */

#define HRC_FLAG_ACYCLIC 0x01u /* compiler's promise: no cycle passes through this object */
#define HRC_FLAG_ATOMIC  0x02u /* block from pointer-free memory (gc, hybrid): never reused */
#define HRC_FLAG_SUSPECT 0x04u /* hybrid: already counted as a possible cycle root */

/* Static initializer of an immortal object's header: never counted, never freed. Its fields
 * must be boxed scalars or other immortal objects. Example in docs/lowering.md. */
#define HRC_IMMORTAL_HEADER(tag_, scan_, words_)                                                   \
  { .rc = HRC_RC_IMMORTAL, .tag = (tag_), .scan = (scan_), .flags = 0, .words = (words_) }

/* ---- boxed scalars ------------------------------------------------------------------------ */

#define HRC_BOX_INT_MAX ((intptr_t)(INTPTR_MAX >> 1))
#define HRC_BOX_INT_MIN ((intptr_t)(INTPTR_MIN >> 1))

/* True for boxed scalars, which dup and drop skip. */
static inline bool hrc_is_scalar(const hrc_obj_t *v) { return ((uintptr_t)v & 1u) != 0; }

/* Box a small integer (HRC_BOX_INT_MIN..HRC_BOX_INT_MAX) as a value. */
static inline hrc_obj_t *hrc_box_int(intptr_t i) { return (hrc_obj_t *)(((uintptr_t)i << 1) | 1u); }

/* The integer a boxed value holds (arithmetic shift keeps the sign). */
static inline intptr_t hrc_unbox_int(const hrc_obj_t *v) { return (intptr_t)(uintptr_t)v >> 1; }

/* Whether i fits a boxed integer; larger ones need a heap object. */
static inline bool hrc_int_fits_box(intptr_t i) {
  return i >= HRC_BOX_INT_MIN && i <= HRC_BOX_INT_MAX;
}

/* ---- slow paths (rc/refcount.c) and debug checks (rc/debug.c) ------------------------------ */

typedef enum hrc_op_e {
  HRC_OP_DUP,
  HRC_OP_DROP,
  HRC_OP_DECREF,
  HRC_OP_DROP_REUSE,
  HRC_OP_FREE_CELL,
  HRC_OP_REUSE_CELL,
  HRC_OP_IS_UNIQUE,
  HRC_OP_SHARE,
  HRC_OP_ALLOC_AT,
  HRC_OP_FREE_TOKEN,
} hrc_op_t;

/* Objects not flagged acyclic whose count a decrement left above zero, each counted once in
 * its life (Bacon and Rajan's "buffered" bit: HRC_FLAG_SUSPECT), so a closure called a million
 * times through borrowed calls is one candidate, not a million: evidence of possible cyclic
 * garbage, which paces the backstop's collections (heap/bdwgc/policy.c). Only hybrid counts;
 * rc defines it in every mode (rc/refcount.c). */
extern HRC_API HRC_THREAD_LOCAL uint64_t hrc_tls_cycle_candidates;

HRC_API HRC_COLD void hrc_dup_cold(hrc_obj_t *o, uint32_t n);
HRC_API HRC_NOINLINE void hrc_drop_slow(hrc_obj_t *o);
/* Checked builds check every operation (rc/debug.c); HRC_CHECK vanishes in release builds,
 * so the fast paths read the same in both. The checker exists only in checked libraries. */
#if HRC_DEBUG
HRC_API HRC_COLD void hrc_debug_check(const hrc_obj_t *o, hrc_op_t op);
#define HRC_CHECK(o, op) hrc_debug_check((o), (op))
#else
#define HRC_CHECK(o, op) ((void)0)
#endif
HRC_API void hrc_share(hrc_obj_t *v);

/* ---- the rc word --------------------------------------------------------------------------- */

/* Relaxed load: plain on x86-64, and not a data race when another thread updates a shared count. */
static inline uint32_t hrc_rc_load(const hrc_obj_t *o) {
  return __atomic_load_n(&o->rc, __ATOMIC_RELAXED);
}

/* Store to a local count, which only the owning thread touches. */
static inline void hrc_rc_store(hrc_obj_t *o, uint32_t rc) {
  __atomic_store_n(&o->rc, rc, __ATOMIC_RELAXED);
}

/* ---- dup and drop ------------------------------------------------------------------------- */

/* Add a reference to a heap object (not a scalar); returns it for use in expressions. */
static inline hrc_obj_t *hrc_obj_dup(hrc_obj_t *o) {
#if !HRC_COUNTING
  return o;
#endif
  HRC_CHECK(o, HRC_OP_DUP);
  uint32_t rc = hrc_rc_load(o);
  if (HRC_LIKELY(rc < HRC_RC_LOCAL_MAX)) hrc_rc_store(o, rc + 1);
  else hrc_dup_cold(o, 1);
  return o;
}

/* Add n references at once (a value used n more times). */
static inline hrc_obj_t *hrc_obj_dup_n(hrc_obj_t *o, uint32_t n) {
#if !HRC_COUNTING
  (void)n;
  return o;
#endif
  HRC_CHECK(o, HRC_OP_DUP);
  uint32_t rc = hrc_rc_load(o);
  if (HRC_LIKELY(rc < HRC_RC_LOCAL_MAX && n < HRC_RC_LOCAL_MAX - rc)) hrc_rc_store(o, rc + n);
  else hrc_dup_cold(o, n);
  return o;
}

/* Release a reference to a heap object; the last one frees it and releases its fields. */
static inline void hrc_obj_drop(hrc_obj_t *o) {
#if !HRC_COUNTING
  (void)o;
  return;
#endif
  HRC_CHECK(o, HRC_OP_DROP);
  uint32_t rc = hrc_rc_load(o);
  if (HRC_LIKELY((int32_t)rc > 0)) {
    hrc_rc_store(o, rc - 1);
#if defined(HRC_MODE_HYBRID)
    if (!(o->flags & (HRC_FLAG_ACYCLIC | HRC_FLAG_SUSPECT))) {
      o->flags |= HRC_FLAG_SUSPECT; /* a local count: only this thread writes the header */
      hrc_tls_cycle_candidates++;
    }
#endif
  } else {
    hrc_drop_slow(o);
  }
}

/* Add a reference to any value; boxed scalars pass through. */
static inline hrc_obj_t *hrc_dup(hrc_obj_t *v) {
  if (v == NULL) HRC_CHECK(v, HRC_OP_DUP);
  if (!hrc_is_scalar(v)) hrc_obj_dup(v);
  return v;
}

/* Release a reference to any value; boxed scalars pass through. */
static inline void hrc_drop(hrc_obj_t *v) {
  if (v == NULL) HRC_CHECK(v, HRC_OP_DROP);
  if (!hrc_is_scalar(v)) hrc_obj_drop(v);
}

/* dup for slots that may hold NULL. */
static inline hrc_obj_t *hrc_xdup(hrc_obj_t *v) {
  if (v != NULL) hrc_dup(v);
  return v;
}

/* drop for slots that may hold NULL. */
static inline void hrc_xdrop(hrc_obj_t *v) {
  if (v != NULL) hrc_drop(v);
}

/* True when the caller holds the only reference, so the object may be updated or reused in
 * place. Shared objects are never unique here, even with one reference (as in Koka). */
static inline bool hrc_is_unique(const hrc_obj_t *o) {
#if !HRC_COUNTING
  (void)o;
  return false; /* pure tracing: nothing is known to be unique, so nothing is reused */
#endif
  HRC_CHECK(o, HRC_OP_IS_UNIQUE);
  return hrc_rc_load(o) == HRC_RC_UNIQUE;
}

/* True when the count is updated atomically because several threads may hold references. */
static inline bool hrc_is_shared(const hrc_obj_t *o) {
  uint32_t rc = hrc_rc_load(o);
  return rc >= HRC_RC_SHARED && rc < HRC_RC_STICKY;
}

/* True for objects whose count is no longer kept: immortal constants and overflowed counts. */
static inline bool hrc_is_uncounted(const hrc_obj_t *o) { return hrc_rc_load(o) >= HRC_RC_STICKY; }

#define HRC_REFCOUNT_UNCOUNTED UINT64_MAX

/* The number of references the count records (tests and debuggers); UNCOUNTED when sticky. */
static inline uint64_t hrc_refcount(const hrc_obj_t *o) {
  uint32_t rc = hrc_rc_load(o);
  if (rc >= HRC_RC_STICKY) return HRC_REFCOUNT_UNCOUNTED;
  if (rc >= HRC_RC_SHARED) return (uint64_t)(rc - HRC_RC_SHARED) + 1;
  return (uint64_t)rc + 1;
}

/* Mark an object acyclic: the compiler's promise that no cycle can pass through it (true of
 * every immutable constructor of a pure language). Its decrements then never count as
 * evidence of cyclic garbage. Set it right after allocation. */
static inline void hrc_set_acyclic(hrc_obj_t *o) {
  /* Immortal objects are never counted, so the flag means nothing to them, and they may sit
   * in read-only memory (a `const` static): never written (tests/test_misuse.c). */
  if (hrc_rc_load(o) != HRC_RC_IMMORTAL) o->flags |= HRC_FLAG_ACYCLIC;
}

/* ---- field access ------------------------------------------------------------------------- */

/* The i-th scanned field of an ordinary object (not an array). */
static inline hrc_obj_t **hrc_fields(hrc_obj_t *o) { return (hrc_obj_t **)(o + 1); }

/* The scanned field count of an ordinary object. */
static inline unsigned hrc_scan_count(const hrc_obj_t *o) { return o->scan; }

#endif
