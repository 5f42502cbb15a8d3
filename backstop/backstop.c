/* backstop.c: bdwgc as the tracing backstop of the hybrid mode and the whole heap of gc mode.
 *
 * Facts this file is built on (measured with Debian's libgc 8.2.2; docs/backstop.md):
 *  - bdwgc does not scan __thread storage, so every runtime root lives in uncollectable
 *    memory (the per-thread cache records: rc/cache.c; the checked build's quarantine);
 *  - interior pointers are switched off before GC_INIT: small objects lose bdwgc's extra byte
 *    (a 16-byte request would take 32) and its thread-local allocation works again. Generated
 *    code holds pointers to object starts; the checked build's objects start 16 bytes into
 *    their blocks, which is registered as a displacement;
 *  - threads must be known to bdwgc: hrc_thread_create uses GC_pthread_create, and a thread
 *    created elsewhere is registered on its first hrc call (or by hrc_thread_attach) and
 *    unregistered by its exit hook.
 * Objects the tracer reclaims run no finalizer. A survivor referenced from a reclaimed cycle
 * keeps a count that is too high, never reaches zero, and is reclaimed by the tracer in turn
 * when it becomes unreachable: sound, only later (docs/backstop.md).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "backstop_internal.h"
#include "options_internal.h"
#include "rc_internal.h"

#define GC_THREADS 1
#include <gc/gc.h>

static int64_t collections, pause_ns, max_pause_ns, started_ns;
uint64_t hrc_collection_epoch;
static HRC_THREAD_LOCAL int attached_here; /* 1 when hrc registered this thread with bdwgc */

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* bdwgc's collection events (called with its lock held): count and time the pauses. */
static void on_collection_event(GC_EventType event) {
  if (event == GC_EVENT_START) {
    __atomic_store_n(&started_ns, now_ns(), __ATOMIC_RELAXED);
  } else if (event == GC_EVENT_END) {
    int64_t took = now_ns() - __atomic_load_n(&started_ns, __ATOMIC_RELAXED);
    __atomic_add_fetch(&collections, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&hrc_collection_epoch, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&pause_ns, took, __ATOMIC_RELAXED);
    if (took > __atomic_load_n(&max_pause_ns, __ATOMIC_RELAXED))
      __atomic_store_n(&max_pause_ns, took, __ATOMIC_RELAXED);
  }
}

/* bdwgc's warnings, shown only with HRC_GC_WARNINGS=1: hrc reports what matters (out of
 * memory) in its own single line. */
static void quiet_warning(char *msg, GC_word arg) { (void)msg, (void)arg; }

void hrc_backstop_init(void) {
  /* HRC_GC_INTERIOR_POINTERS=1 keeps bdwgc's default, for measuring what turning it off buys. */
  bool keep_interior = hrc_option(HRC_OPTION_GC_INTERIOR_POINTERS) != 0;
  if (!GC_is_init_called() && !keep_interior) GC_set_all_interior_pointers(0);
  GC_INIT();
  if (hrc_option(HRC_OPTION_GC_WARNINGS) == 0) GC_set_warn_proc(quiet_warning);
#if HRC_DEBUG
  GC_register_displacement(16);
#endif
  GC_allow_register_threads();
  GC_set_on_collection_event(on_collection_event);
#if defined(HRC_MODE_HYBRID)
  /* RC frees garbage eagerly, so the heap mostly grows with live data, and a collection then
   * marks it all to reclaim little: let it grow by its own size between collections (bdwgc's
   * default divisor 3 lets it grow by a third) unless GC_FREE_SPACE_DIVISOR says otherwise.
   * Release builds, hybrid, quick sizes: deriv 9 0.234 s -> 0.172 s (10 -> 4 collections),
   * closures 0.33 -> 0.27 s, binary-trees 18 7 -> 3 collections at the same time and RSS,
   * cyclic 20000 2.1 -> 2.6 MB peak RSS (gc mode: 2.1 MB). */
  const char *divisor = getenv("GC_FREE_SPACE_DIVISOR");
  if (divisor == NULL || *divisor == '\0') GC_set_free_space_divisor(1);
#endif
  hrc_policy_init();
}

void hrc_backstop_thread_enter(void) {
  if (GC_thread_is_registered()) return;
  struct GC_stack_base sb;
  if (GC_get_stack_base(&sb) != GC_SUCCESS) hrc_fatal("cannot find this thread's stack for bdwgc");
  if (GC_register_my_thread(&sb) == GC_SUCCESS) attached_here = 1;
}

void hrc_backstop_thread_exit(void) {
  if (attached_here) {
    attached_here = 0;
    GC_unregister_my_thread();
  }
}

void hrc_backstop_stats(hrc_backstop_stats_t *s) {
  s->collections = __atomic_load_n(&collections, __ATOMIC_RELAXED);
  s->pause_ns = __atomic_load_n(&pause_ns, __ATOMIC_RELAXED);
  s->max_pause_ns = __atomic_load_n(&max_pause_ns, __ATOMIC_RELAXED);
  s->heap_bytes = (int64_t)GC_get_heap_size();
  struct GC_prof_stats_s prof;
  GC_get_prof_stats(&prof, sizeof prof);
  s->reclaimed_bytes = (int64_t)(prof.reclaimed_bytes_before_gc + prof.bytes_reclaimed_since_gc);
}

/* A full collection now. */
void hrc_collect(void) {
  hrc_thread_attach();
  GC_gcollect();
}

/* A thread bdwgc registers before start runs (hrc_thread_create, rc/thread.c). */
int hrc_backstop_thread_create(pthread_t *thread, const pthread_attr_t *attr,
                               void *(*start)(void *), void *arg) {
  return GC_pthread_create(thread, attr, start, arg);
}

int hrc_thread_join(pthread_t thread, void **result) { return GC_pthread_join(thread, result); }
