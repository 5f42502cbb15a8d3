/* hrc_closure.h: closures as ordinary RC objects.
 *
 * Layout: header, then the code pointer boxed as a scalar (so that scanning skips it), then the
 * captured values (scanned), then optional captured scalar bytes. scan = 1 + captured count, so
 * freeing, sharing and tracing need nothing closure-specific.
 *
 * Calling convention (Koka's): code receives its closure *owned* as the first argument. An owned
 * call (hrc_call*) hands the caller's reference over; a borrowed call (hrc_call*_borrowed) dups
 * first and the caller keeps its own. Inside, code either reads the environment and then drops
 * self, or unpacks it with hrc_closure_unpack / hrc_closure_unpack_reuse: when self is unique
 * the captured values move out and the block is freed or kept as a reuse token, otherwise the
 * values are dup'ed and self's count goes down. Code pointers are stored shifted left by one,
 * which holds every user-space address on x86-64 and AArch64.
 */
#ifndef HRC_CLOSURE_H
#define HRC_CLOSURE_H

#include <stddef.h>

#include "hrc_alloc.h"

typedef void (*hrc_code_t)(void);

typedef struct hrc_closure_s {
  hrc_obj_t header; /* tag HRC_TAG_CLOSURE, scan = 1 + captured count */
  hrc_obj_t *code;  /* boxed code pointer */
  hrc_obj_t *env[]; /* captured values, then captured scalar bytes */
} hrc_closure_t;

/* Uniform code types: closure owned, arguments and results as values. */
typedef hrc_obj_t *(*hrc_fun0_t)(hrc_closure_t *self);
typedef hrc_obj_t *(*hrc_fun1_t)(hrc_closure_t *self, hrc_obj_t *a);
typedef hrc_obj_t *(*hrc_fun2_t)(hrc_closure_t *self, hrc_obj_t *a, hrc_obj_t *b);
typedef hrc_obj_t *(*hrc_fun3_t)(hrc_closure_t *self, hrc_obj_t *a, hrc_obj_t *b, hrc_obj_t *c);

HRC_API HRC_COLD void hrc_closure_too_big(size_t captured);

/* Bytes of a closure capturing n values and scalar_bytes of scalars. */
static inline size_t hrc_closure_size(size_t n, size_t scalar_bytes) {
  return sizeof(hrc_closure_t) + n * sizeof(hrc_obj_t *) + scalar_bytes;
}

/* A closure for code with room for n captured values (filled by the caller before the next
 * runtime call) and scalar_bytes of captured scalars; in a reuse token when tok is not empty. */
static inline hrc_closure_t *hrc_closure_alloc_at(hrc_reuse_t tok, hrc_code_t code, size_t n,
                                                  size_t scalar_bytes) {
  if (HRC_UNLIKELY(n > HRC_SCAN_MAX - 1)) hrc_closure_too_big(n);
  hrc_closure_t *c = (hrc_closure_t *)hrc_alloc_at(tok, hrc_closure_size(n, scalar_bytes),
                                                   HRC_TAG_CLOSURE, (unsigned)(1 + n));
  c->code = (hrc_obj_t *)(((uintptr_t)code << 1) | 1u);
  return c;
}

/* A fresh closure (see hrc_closure_alloc_at). */
static inline hrc_closure_t *hrc_closure_alloc(hrc_code_t code, size_t n, size_t scalar_bytes) {
  return hrc_closure_alloc_at(HRC_NO_REUSE, code, n, scalar_bytes);
}

/* Storage in a C frame for a closure with n captured values and scalar_bytes of scalars
 * (declares the array `name`; pass it to hrc_closure_init_frame). */
#define HRC_CLOSURE_STORAGE(name, n, scalar_bytes)                                                 \
  _Alignas(                                                                                        \
      16) unsigned char name[sizeof(hrc_closure_t) + (n) * sizeof(hrc_obj_t *) + (scalar_bytes)]

/* A closure in the caller's own C frame, for a deferred call that runs before the frame
 * returns (Go's open-coded and stack defers keep their arguments in the frame the same way): c
 * points to storage for hrc_closure_size(n, scalar_bytes) bytes. It is immortal, so it is
 * never counted or freed, and its code (a thunk made for that defer) borrows self and does not
 * drop it. Its captured values must be scalars or references the frame itself keeps alive
 * until the call has run. */
static inline hrc_closure_t *hrc_closure_init_frame(void *storage, hrc_code_t code, size_t n,
                                                    size_t scalar_bytes) {
  hrc_closure_t *c = (hrc_closure_t *)storage;
  c->header = (hrc_obj_t){.rc = HRC_RC_IMMORTAL,
                          .tag = HRC_TAG_CLOSURE,
                          .scan = (uint8_t)(1 + n),
                          .words = hrc_size_words(hrc_closure_size(n, scalar_bytes))};
  c->code = (hrc_obj_t *)(((uintptr_t)code << 1) | 1u);
  return c;
}

/* A closure with nothing captured, in static storage: a capture-less fn or a top-level function
 * used as a value (Koka's static functions), shared by every use instead of allocated at each.
 * It is immortal: dup and drop leave it alone, and its code need not drop self. Call once,
 * before any thread can use it; c must be 16-byte aligned, as HRC_CLOSURE_STORAGE is. */
static inline hrc_closure_t *hrc_closure_init_static(hrc_closure_t *c, hrc_code_t code) {
  return hrc_closure_init_frame(c, code, 0, 0);
}

/* The closure's code, to be cast to its real type before the call. */
static inline hrc_code_t hrc_closure_code(const hrc_closure_t *c) {
  return (hrc_code_t)((uintptr_t)c->code >> 1);
}

/* Number of captured values. */
static inline size_t hrc_closure_arity_env(const hrc_closure_t *c) {
  return (size_t)c->header.scan - 1;
}

/* The captured scalar bytes, after the captured values. */
static inline void *hrc_closure_scalars(hrc_closure_t *c) {
  return (void *)&c->env[hrc_closure_arity_env(c)];
}

/* Owned calls: the closure reference moves into the callee. */
static inline hrc_obj_t *hrc_call0(hrc_closure_t *c) {
  return ((hrc_fun0_t)hrc_closure_code(c))(c);
}
static inline hrc_obj_t *hrc_call1(hrc_closure_t *c, hrc_obj_t *a) {
  return ((hrc_fun1_t)hrc_closure_code(c))(c, a);
}
static inline hrc_obj_t *hrc_call2(hrc_closure_t *c, hrc_obj_t *a, hrc_obj_t *b) {
  return ((hrc_fun2_t)hrc_closure_code(c))(c, a, b);
}
static inline hrc_obj_t *hrc_call3(hrc_closure_t *c, hrc_obj_t *a, hrc_obj_t *b, hrc_obj_t *d) {
  return ((hrc_fun3_t)hrc_closure_code(c))(c, a, b, d);
}

/* Borrowed calls: the caller keeps its reference (one dup per call). */
static inline hrc_obj_t *hrc_call0_borrowed(hrc_closure_t *c) {
  return hrc_call0((hrc_closure_t *)hrc_obj_dup(&c->header));
}
static inline hrc_obj_t *hrc_call1_borrowed(hrc_closure_t *c, hrc_obj_t *a) {
  return hrc_call1((hrc_closure_t *)hrc_obj_dup(&c->header), a);
}
static inline hrc_obj_t *hrc_call2_borrowed(hrc_closure_t *c, hrc_obj_t *a, hrc_obj_t *b) {
  return hrc_call2((hrc_closure_t *)hrc_obj_dup(&c->header), a, b);
}
static inline hrc_obj_t *hrc_call3_borrowed(hrc_closure_t *c, hrc_obj_t *a, hrc_obj_t *b,
                                            hrc_obj_t *d) {
  return hrc_call3((hrc_closure_t *)hrc_obj_dup(&c->header), a, b, d);
}

/* Callee side: take the captured values (owned) into out[] and give up self, keeping its block
 * as a reuse token when self was unique. Loops over the environment, so it lives in rc/. */
HRC_API hrc_reuse_t hrc_closure_unpack_reuse(hrc_closure_t *self, hrc_obj_t **out);

/* Callee side: as hrc_closure_unpack_reuse, freeing the block instead of keeping it. */
HRC_API void hrc_closure_unpack(hrc_closure_t *self, hrc_obj_t **out);

#endif
