/* rc_internal.h: what the rc module's files share, hidden from users of the library.
 *
 * rc sits on the heap contract (heap/heap.h) and calls nothing above it: what the defer layer
 * does at thread registration, thread end and out of memory reaches rc as hooks (below).
 *
 * Blocks and objects: in release builds an object *is* its block. In checked builds
 * (HRC_DEBUG) each block starts with a 16-byte prefix {requested size, cookie} before the
 * object, so that a pointer hrc never allocated, a freed block and a reuse token can each be
 * told apart and named in the error line (rc/debug.c).
 */
#ifndef HRC_RC_INTERNAL_H
#define HRC_RC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "heap.h"
#include "hrc.h"

/* rc words that only checked builds write; all lie in the sticky band, which release code
 * never frees or counts. */
#define HRC_RC_FREED      0xDEADDEADu
#define HRC_RC_TOKEN      0xDEAD7043u /* a token whose fields were dropped (hrc_drop_reuse) */
#define HRC_RC_TOKEN_CELL 0xDEAD7044u /* a token whose fields moved out (hrc_reuse_cell) */

/* ---- blocks (block_internal.h allocates and releases them) ---- */

/* Bytes of an object, as allocation and freeing account them. */
HRC_HIDDEN size_t hrc_obj_size(const hrc_obj_t *o);
/* Bytes a large object (no size in its header) built in token tok will account for. */
HRC_HIDDEN size_t hrc_large_size_in(const hrc_obj_t *tok);
/* The heap's usable size of an object's block. */
HRC_HIDDEN size_t hrc_block_usable(const hrc_obj_t *o);

/* Allocate and initialise an object (rc/block.c); `atomic` asks for pointer-free memory. */
HRC_HIDDEN hrc_obj_t *hrc_alloc_object(size_t size, unsigned tag, unsigned scan, bool atomic);

/* ---- freeing (rc/free.c) ---- */

/* Give up one reference to a non-local object (shared, sticky, immortal); true if it died. */
HRC_HIDDEN bool hrc_shared_release(hrc_obj_t *o);

/* Hybrid's evidence (hrc_object.h, heap/bdwgc/policy.c): a decrement by a dying parent left
 * a local count above zero. Counted like the generated code's drops: once per object, objects
 * flagged acyclic never. A cascade reaching into a cycle (a dropped head pointing into a ring)
 * is such a decrement, and the drop of the head alone is not. */
static inline void hrc_note_suspect(hrc_obj_t *o) {
  if (!(HRC_COUNTING && HRC_HEAP_TRACED)) return;
  if (!(o->flags & (HRC_FLAG_ACYCLIC | HRC_FLAG_SUSPECT))) {
    o->flags |= HRC_FLAG_SUSPECT; /* a local count: only this thread writes the header */
    hrc_tls_cycle_candidates++;
  }
}

/* Bounded drops (rc/free.c): dead objects waiting for their walk, and the calls that walk them. */
typedef struct pending_s pending_t;
extern HRC_HIDDEN HRC_THREAD_LOCAL pending_t *hrc_tls_pending;
HRC_HIDDEN void hrc_free_pending_some(void);
HRC_HIDDEN void hrc_free_pending_all(void);

/* The scanned slots of any object, arrays included; *n receives their count. */
static inline hrc_obj_t **hrc_slots(hrc_obj_t *o, size_t *n) {
  if (HRC_UNLIKELY(o->scan == HRC_SCAN_ARRAY)) {
    hrc_array_t *a = (hrc_array_t *)o;
    *n = a->len;
    return a->items;
  }
  *n = o->scan;
  return hrc_fields(o);
}

/* ---- threads (rc/thread.c) ---- */

/* hrc_thread_registered is public (hrc_roots.h: scoped slots register their thread). */
HRC_HIDDEN HRC_COLD void hrc_thread_register(void);

/* Make sure this thread is registered (stats folding, exit hooks); one TLS load after that. */
static inline void hrc_thread_ensure(void) {
  if (HRC_UNLIKELY(!hrc_thread_registered)) hrc_thread_register();
}
/* The main thread's hrc_thread_exit, after its deferred calls: wait for the other threads,
 * then end the process with Go's fatal error and status 2 (rc/thread.c). */
HRC_HIDDEN HRC_NORETURN void hrc_thread_main_exit(void);
/* Whether the calling thread is the process's main thread. */
HRC_HIDDEN bool hrc_thread_is_main(void);
/* Called once per process from the first registration: reads the environment. */
HRC_HIDDEN void hrc_stats_process_init(void);
/* This thread's exit: fold its counters into the totals. */
HRC_HIDDEN void hrc_stats_thread_exit(void);
/* Register this thread's counters so reports include them while it runs. */
HRC_HIDDEN void hrc_stats_thread_enter(void);
/* This thread's exit: release its quarantined blocks (checked builds). */
HRC_HIDDEN void hrc_debug_thread_exit(void);
/* Release this thread's quarantined blocks now (checked builds, out of memory). */
HRC_HIDDEN void hrc_debug_quarantine_flush(void);

/* ---- hooks: what the layers above rc do at thread registration, thread end and out of
 * memory, set once by runtime/runtime.c when the library loads, so that rc calls nothing
 * above it ---- */

typedef struct hrc_thread_hooks_s {
  void (*enter)(void);           /* a thread registers */
  void (*leave)(bool detaching); /* it ends, or detaches; may refuse with a fatal line */
} hrc_thread_hooks_t;
HRC_HIDDEN void hrc_set_thread_hooks(hrc_thread_hooks_t hooks);
/* What a failed object allocation does once reserves and a collection did not help: panic
 * with hrc_out_of_memory_value() (the runtime's hook); without a hook, one fatal line. */
HRC_HIDDEN void hrc_set_out_of_memory_hook(void (*panic)(void));

/* ---- the heap limit (rc/limit.c) ---- */

/* Once per process: HRC_HEAP_LIMIT. */
HRC_HIDDEN void hrc_limit_process_init(void);
/* An object's block could not be allocated: release reserves, collect, retry, else panic
 * (rc/oom.c). */
HRC_HIDDEN HRC_COLD hrc_obj_t *hrc_block_alloc_failed(size_t size, bool atomic);

/* ---- stats (rc/stats.c); nothing at all when compiled out ---- */

#if HRC_WITH_STATS
HRC_HIDDEN void hrc_stats_on_alloc(const hrc_obj_t *o);
HRC_HIDDEN void hrc_stats_on_free(const hrc_obj_t *o);

/* A cheap clock for timing drops: the time-stamp counter where the CPU has one (a few cycles;
 * rc/stats.c converts its ticks to nanoseconds against the monotonic clock), else that clock. */
static inline uint64_t hrc_ticks(void) {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_ia32_rdtsc();
#else
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

/* One drop's cascade of frees took `ticks`: keep this thread's longest. */
static inline void hrc_stats_on_drop(uint64_t ticks) {
  if ((int64_t)ticks > hrc_tls_stats->max_drop_ticks)
    hrc_tls_stats->max_drop_ticks = (int64_t)ticks;
}
#else
static inline void hrc_stats_on_alloc(const hrc_obj_t *o) { (void)o; }
static inline void hrc_stats_on_free(const hrc_obj_t *o) { (void)o; }
#endif

/* ---- errors ---- */

/* Name of an operation for error lines. */
HRC_HIDDEN const char *hrc_op_name(hrc_op_t op);
/* Out of memory for a runtime record: one clear line, then abort. */
HRC_HIDDEN HRC_NORETURN void hrc_out_of_memory(size_t size);

#endif
