/* hrc_roots.h: references kept where the collector does not look (docs/embedding.md).
 *
 * In gc and hybrid modes the collector scans the stacks of registered threads, the static data
 * of the program and of the libraries loaded with it, and hrc's own objects and records. It
 * does not scan malloc'd or mmap'd memory, __thread variables, or the stacks of threads it
 * does not know. A host that keeps references there says so, with one of:
 *  - a declared range: memory [start, start + len) the collector scans while it is declared
 *    (an FFI table, an interpreter's stack, an arena);
 *  - a handle: a strong reference a C library can keep anywhere (an integer), made from a
 *    value and released when the library is done with it;
 *  - a scoped slot, for generated code: a local the collector must see between two calls
 *    (the gc.declare shape), declared and undeclared in last-in first-out order.
 * The calls are the same in every mode; rc mode needs no tracing, but declarations are still
 * paired: undeclaring twice, or releasing a handle twice, is one fatal line in every build,
 * and checked builds also check slots (order, and none left declared when a thread ends).
 */
#ifndef HRC_ROOTS_H
#define HRC_ROOTS_H

#include <stddef.h>
#include <stdint.h>

#include "hrc_object.h"

/* A declared range, or a handle: an opaque id, never 0 for a live one. */
typedef struct hrc_root_s {
  uint64_t id;
} hrc_root_t;
typedef struct hrc_handle_s {
  uint64_t id;
} hrc_handle_t;

/* Declare [start, start + len) as holding references (any words in it, object pointers or
 * not); the memory must stay readable until it is undeclared. Ranges may overlap. */
HRC_API hrc_root_t hrc_root_declare(const void *start, size_t len);
/* End a declaration: the collector no longer scans the range. */
HRC_API void hrc_root_undeclare(hrc_root_t root);
/* Ranges declared now, over all threads. */
HRC_API size_t hrc_root_count(void);

/* A handle holding a new reference to v (v is dup'ed; a scalar or NULL is held as is). */
HRC_API hrc_handle_t hrc_handle_new(hrc_obj_t *v);
/* The value a handle holds, borrowed: dup it to keep it past the handle's release. */
HRC_API hrc_obj_t *hrc_handle_get(hrc_handle_t h);
/* Release a handle: its reference is dropped. */
HRC_API void hrc_handle_release(hrc_handle_t h);

/* Whether this thread is registered (hrc_thread_attach, or its first hrc call did it). */
extern HRC_API HRC_THREAD_LOCAL bool hrc_thread_registered;
HRC_API void hrc_thread_attach(void);

#if HRC_DEBUG
HRC_API void hrc_debug_slot_declare(hrc_obj_t **slot);
HRC_API void hrc_debug_slot_undeclare(hrc_obj_t **slot);
#endif

/* Declare a local the collector must see from here to hrc_slot_undeclare: its address escapes
 * (so the compiler keeps the value in memory across every call in between), and the thread is
 * registered (so its stack is scanned). Checked builds also check the pairing. */
static inline void hrc_slot_declare(hrc_obj_t **slot) {
  if (HRC_UNLIKELY(!hrc_thread_registered)) hrc_thread_attach();
#if HRC_DEBUG
  hrc_debug_slot_declare(slot);
#endif
  __asm__ volatile("" : : "r"(slot) : "memory");
}

/* End a slot's declaration (the newest one declared on this thread). */
static inline void hrc_slot_undeclare(hrc_obj_t **slot) {
  __asm__ volatile("" : : "r"(slot) : "memory");
#if HRC_DEBUG
  hrc_debug_slot_undeclare(slot);
#endif
}

#endif
