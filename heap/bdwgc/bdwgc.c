/* bdwgc.c: the heap of the gc and hybrid modes (heap.h's contract): bdwgc, the whole heap of gc
 * mode and the tracing backstop of hybrid. The only file of the library that names bdwgc.
 *
 * Facts this file is built on (measured with Debian's libgc 8.2.2; docs/backstop.md):
 *  - bdwgc does not scan __thread storage, so every runtime root lives in uncollectable
 *    memory (hrc_heap_alloc_root: the per-thread cache records, defer records, the checked
 *    build's quarantine);
 *  - interior pointers are switched off before GC_INIT: small objects lose bdwgc's extra byte
 *    (a 16-byte request would take 32) and its thread-local allocation works again. Generated
 *    code holds pointers to object starts; the checked build's objects start 16 bytes into
 *    their blocks, which is registered as a displacement;
 *  - threads must be known to bdwgc: hrc_thread_create uses GC_pthread_create, and a thread
 *    created elsewhere is registered on its first hrc call (or by hrc_thread_attach) and
 *    unregistered by its exit hook;
 *  - bdwgc is conservative: a block given back must not be reachable from a stale word. So a
 *    list of free blocks is unlinked before the collector gets it, and blocks of its size
 *    classes are cleared and left to the next collection instead of GC_free'd (hrc_heap_free).
 * Objects the tracer reclaims run no finalizer. A survivor referenced from a reclaimed cycle
 * keeps a count that is too high, never reaches zero, and is reclaimed by the tracer in turn
 * when it becomes unreachable: sound, only later (docs/backstop.md).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bdwgc_internal.h"

#include <gc/gc_mark.h> /* gc.h comes with heap_inline.h */

/* ---- the process and its threads ---- */

static int64_t collections, pause_ns, max_pause_ns, started_ns;
uint64_t hrc_bdwgc_epoch;                  /* collections so far (heap_inline.h) */
static HRC_THREAD_LOCAL int attached_here; /* 1 when hrc registered this thread with bdwgc */

/* Collections by cause, and what each one's sweeps found. A collection's sweeps run lazily
 * until the next one starts (its window); what they reclaim in it, less the blocks RC left to
 * the collector before it (already garbage when it marked), is the garbage it found. */
static int64_t by_cause[HRC_GC_CAUSES], found_by_cause[HRC_GC_CAUSES];
static int last_cause = -1;         /* the cause of the collection whose window is open */
static uint64_t reclaimed_at_start; /* bdwgc's reclaimed bytes when it started */
static uint64_t left_window;   /* bytes left to the collector before it, since the one before */
static uint64_t left_at_start; /* bytes left so far, when it started */
static size_t in_use_after;    /* heap in use when the last collection ended */
static size_t heap_limit;      /* hrc_heap_set_limit's, 0 for none */
static HRC_THREAD_LOCAL int asked_cause; /* 1 + the cause this thread's collection is for */

/* Pauses by length: bucket i holds those under 2^((i+1)/4) ns, so a percentile read from it is
 * within a factor 2^(1/4) (19%). */
#define PAUSE_BUCKETS 160
static int64_t pauses[PAUSE_BUCKETS];

static void count_pause(int64_t ns) {
  int i = 0;
  for (double edge = 1.189207115; i < PAUSE_BUCKETS - 1 && (double)ns >= edge; i++)
    edge *= 1.189207115; /* 2^(1/4) */
  __atomic_add_fetch(&pauses[i], 1, __ATOMIC_RELAXED);
}

/* The pause length that 99% of pauses do not exceed (a bucket's upper edge). */
static int64_t p99_pause(void) {
  int64_t total = 0, seen = 0;
  for (int i = 0; i < PAUSE_BUCKETS; i++) total += __atomic_load_n(&pauses[i], __ATOMIC_RELAXED);
  if (total == 0) return 0;
  double edge = 1.189207115;
  for (int i = 0; i < PAUSE_BUCKETS; i++, edge *= 1.189207115) {
    seen += __atomic_load_n(&pauses[i], __ATOMIC_RELAXED);
    if (seen * 100 >= total * 99) return (int64_t)edge;
  }
  return (int64_t)edge;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t handed_back; /* bytes left to the collector so far (count_handed_back) */

/* bdwgc's reclaimed bytes so far, with its lock held. */
static uint64_t reclaimed_locked(void) {
  struct GC_prof_stats_s prof;
  GC_get_prof_stats_unsafe(&prof, sizeof prof);
  return (uint64_t)prof.reclaimed_bytes_before_gc + (uint64_t)prof.bytes_reclaimed_since_gc;
}

/* What the open window's sweeps found so far, beyond the blocks left before it. */
static uint64_t found_in_window(uint64_t reclaimed_now) {
  uint64_t reclaimed = reclaimed_now - reclaimed_at_start;
  return reclaimed > left_window ? reclaimed - left_window : 0;
}

/* A collection starts: close the last one's window, open this one's under its cause. */
static void on_start(void) {
  uint64_t reclaimed = reclaimed_locked();
  uint64_t left = __atomic_load_n(&handed_back, __ATOMIC_RELAXED);
  if (last_cause >= 0)
    __atomic_add_fetch(&found_by_cause[last_cause], (int64_t)found_in_window(reclaimed),
                       __ATOMIC_RELAXED);
  /* Nobody asked: bdwgc's trigger (growth: enough allocated since the last collection), or
   * its retry before failing at the limit. */
  bool at_limit = heap_limit != 0 && GC_get_bytes_since_gc() < GC_get_min_bytes_allocd();
  int cause = asked_cause > 0 ? asked_cause - 1 : at_limit ? HRC_GC_LIMIT : HRC_GC_GROWTH;
  __atomic_store_n(&last_cause, cause, __ATOMIC_RELAXED);
  __atomic_add_fetch(&by_cause[cause], 1, __ATOMIC_RELAXED);
  reclaimed_at_start = reclaimed;
  left_window = left - left_at_start;
  left_at_start = left;
  __atomic_store_n(&started_ns, now_ns(), __ATOMIC_RELAXED);
}

/* bdwgc's collection events (called with its lock held): count, time and attribute them. */
static void on_collection_event(GC_EventType event) {
  if (event == GC_EVENT_START) {
    on_start();
  } else if (event == GC_EVENT_END) {
    int64_t took = now_ns() - __atomic_load_n(&started_ns, __ATOMIC_RELAXED);
    __atomic_store_n(&in_use_after, GC_get_heap_size() - GC_get_free_bytes(), __ATOMIC_RELAXED);
    __atomic_add_fetch(&collections, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&hrc_bdwgc_epoch, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&pause_ns, took, __ATOMIC_RELAXED);
    count_pause(took);
    if (took > __atomic_load_n(&max_pause_ns, __ATOMIC_RELAXED))
      __atomic_store_n(&max_pause_ns, took, __ATOMIC_RELAXED);
    hrc_policy_on_collection(in_use_after, left_at_start);
    GC_set_min_bytes_allocd(hrc_policy_growth_bytes(in_use_after));
  }
}

/* The pusher of other roots that was set before hrc's (bdwgc's own, or a host's). */
static GC_push_other_roots_proc earlier_pusher;

/* Scan a declared range now: eagerly, since a range pushed whole takes a mark stack entry,
 * and GC_push_all aborts when the stack is full (a million declared ranges would be). */
static void push_range(void *lo, void *hi) { GC_push_all_eager(lo, hi); }

/* rc's work at the start of each collection (hrc_heap_settings_t.before_mark), or NULL. */
static void (*before_mark)(void);

/* bdwgc's hook for roots it does not know (called with the world stopped, as marking starts:
 * the roots are pushed before anything is traced). */
static void push_declared_roots(void) {
  if (before_mark != NULL) before_mark();
  if (earlier_pusher != NULL) earlier_pusher();
  hrc_heap_roots_each(push_range);
}

/* bdwgc's warnings, shown only with HRC_GC_WARNINGS=1: hrc reports what matters (out of
 * memory) in its own single line. */
static void quiet_warning(char *msg, GC_word arg) { (void)msg, (void)arg; }

void hrc_heap_process_init(const hrc_heap_settings_t *settings) {
  if (!GC_is_init_called() && !settings->keep_interior_pointers) GC_set_all_interior_pointers(0);
  GC_INIT();
  if (!settings->show_warnings) GC_set_warn_proc(quiet_warning);
#if HRC_DEBUG
  GC_register_displacement(16);
#endif
  GC_allow_register_threads();
  GC_set_on_collection_event(on_collection_event);
  before_mark = settings->before_mark;
  earlier_pusher = GC_get_push_other_roots();
  GC_set_push_other_roots(push_declared_roots);
  if (HRC_COUNTING) {
    /* hybrid: RC frees garbage eagerly, so the heap mostly grows with live data, and a
     * collection then marks it all to reclaim little: bdwgc grows the heap by its own size
     * when it must grow (its default divisor 3: by a third) unless GC_FREE_SPACE_DIVISOR says
     * otherwise; its own trigger waits for the policy's growth figure (hrc_heap_set_growth),
     * and it collects once before failing at the heap limit (its retry). Measurements:
     * docs/backstop.md. */
    const char *divisor = getenv("GC_FREE_SPACE_DIVISOR");
    if (divisor == NULL || *divisor == '\0') GC_set_free_space_divisor(1);
    GC_set_max_retries(1);
  }
  hrc_policy_init(settings);
  if (HRC_COUNTING) hrc_heap_set_growth((unsigned)settings->growth_factor, settings->growth_min);
}

/* Under bdwgc's lock: the allocation that starts bdwgc's own collection, from the policy. */
static void *set_growth_locked(void *unused) {
  (void)unused;
  GC_set_min_bytes_allocd(hrc_policy_growth_bytes(in_use_after));
  return NULL;
}

/* Hybrid: bdwgc's own trigger is the policy's safety net: it collects (instead of growing the
 * heap) once the bytes allocated since the last collection reach what the policy says. */
void hrc_heap_set_growth(unsigned factor, size_t min_bytes) {
  hrc_policy_set_growth(factor, min_bytes);
  GC_call_with_alloc_lock(set_growth_locked, NULL);
}

bool hrc_heap_thread_enter(void) {
  if (GC_thread_is_registered()) return true;
  struct GC_stack_base sb;
  if (GC_get_stack_base(&sb) != GC_SUCCESS) return false;
  if (GC_register_my_thread(&sb) == GC_SUCCESS) attached_here = 1;
  return true;
}

bool hrc_heap_thread_known(void) { return GC_thread_is_registered() != 0; }

void hrc_heap_thread_exit(void) {
  if (attached_here) {
    attached_here = 0;
    GC_unregister_my_thread();
  }
}

/* bdwgc registers the thread before start runs. */
int hrc_heap_thread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                           void *arg) {
  return GC_pthread_create(thread, attr, start, arg);
}

typedef struct join_s {
  pthread_t thread;
  void **result;
  int err;
} join_t;

static void *join_inactive(void *arg) {
  join_t *j = arg;
  j->err = GC_pthread_join(j->thread, j->result);
  return NULL;
}

/* The joining thread waits in bdwgc's inactive state (GC_do_blocking): a collection while it
 * waits scans its stack as it was when it began to wait instead of stopping it with a signal.
 * A program whose main thread waits for its workers (Perc's driver runs main on a thread with
 * a large stack) paid a signal round trip per collection: perc's cyclic, 488 collections at
 * 20,000 rounds, 92 ms of pauses against 22 ms for the same program on one thread. */
int hrc_heap_thread_join(pthread_t thread, void **result) {
  join_t j = {thread, result, 0};
  GC_do_blocking(join_inactive, &j);
  return j.err;
}

void hrc_heap_thread_end(void) { GC_pthread_exit(NULL); }

/* ---- blocks ---- */

/* Bytes handed back to the collector: the process's total (handed_back, above), and this
 * thread's part not yet added to it (added every HRC_CACHE_TRIM_BYTES and whenever a list is
 * handed back). */
HRC_THREAD_LOCAL uint64_t hrc_bdwgc_left_here;

/* Add this thread's part to the total; the policy may want a collection for it. */
void hrc_bdwgc_left_flush(void) {
  uint64_t all = __atomic_add_fetch(&handed_back, hrc_bdwgc_left_here, __ATOMIC_RELAXED);
  hrc_bdwgc_left_here = 0;
  hrc_policy_on_left(all);
}

/* Count bytes handed back; `now`: add this thread's part to the total at once. */
static void count_handed_back(size_t bytes, bool now) {
  hrc_bdwgc_left_here += bytes;
  if (now || hrc_bdwgc_left_here >= HRC_CACHE_TRIM_BYTES) hrc_bdwgc_left_flush();
}

uint64_t hrc_bdwgc_handed_back(void) { return __atomic_load_n(&handed_back, __ATOMIC_RELAXED); }

/* Up to this many bytes bdwgc keeps objects in size classes, on free lists linked through
 * their first words (its HBLKSIZE / 2). */
#define HRC_GC_SMALL_BYTES 2048u

/* GC_free links a block into its size's free list, through the block's first word. One stale
 * word pointing into that list (conservative scanning) marks the whole rest of it, and while
 * its blocks wait for bdwgc's lazy sweep they then survive as live (seen: docs/backstop.md).
 * So blocks of bdwgc's size classes are cleared and left to the collector, each garbage on its
 * own, like the caches' trimmed lists; only large blocks (whole heap blocks, listed outside
 * the objects) are freed at once. */
void hrc_heap_free(void *p) {
  size_t size = GC_size(p);
  if (size > HRC_GC_SMALL_BYTES) {
    GC_free(p);
    return;
  }
  memset(p, 0, size);
  count_handed_back(size, false);
}

/* The size is bdwgc's to know. */
void hrc_heap_free_sized(void *p, size_t size) {
  (void)size;
  hrc_heap_free(p);
}

void hrc_bdwgc_handed_back_now(size_t bytes) { count_handed_back(bytes, true); }

HRC_THREAD_LOCAL uint32_t hrc_bdwgc_seed = 0x9E3779B9u;

/* Whether p lies in bdwgc's heap (its block headers). */
bool hrc_heap_owns(const void *p) { return GC_is_heap_ptr(p) != 0; }

/* ---- root memory: uncollectable and scanned (bdwgc clears it anyway) ---- */

void *hrc_heap_alloc_root(size_t size) { return GC_malloc_uncollectable(size); }

void *hrc_heap_alloc_root_uncleared(size_t size) { return GC_malloc_uncollectable(size); }

void hrc_heap_free_root(void *p) { GC_free(p); }

/* ---- collection ---- */

/* An explicit collection (hrc_collect, out of memory) also returns free heap blocks to the
 * system: bdwgc unmaps a block once it has stayed free through more than one collection
 * (GC_gcollect_and_unmap; plain collections wait for 6), so blocks freed since the last one,
 * say a 100 MB array RC just freed, need a second pass, run when at least a megabyte is free.
 * The first pass is a plain GC_gcollect: with GC_gcollect_and_unmap alone the fuzzer's
 * strict check (tests/fuzz: nothing unrooted survives hrc_collect) failed 2 runs in 10. */
void hrc_heap_collect(void) {
  asked_cause = 1 + HRC_GC_EXPLICIT;
  GC_gcollect();
  if (GC_get_free_bytes() >= ((size_t)1 << 20)) GC_gcollect_and_unmap();
  asked_cause = 0;
}

void hrc_bdwgc_collect(hrc_gc_cause_t cause) {
  asked_cause = 1 + (int)cause;
  GC_gcollect();
  asked_cause = 0;
}

/* Under bdwgc's lock, as its counters want. */
static void *found_locked(void *out) {
  *(uint64_t *)out = found_in_window(reclaimed_locked());
  return NULL;
}

uint64_t hrc_bdwgc_found_so_far(void) {
  uint64_t found = 0;
  GC_call_with_alloc_lock(found_locked, &found);
  return found;
}

void hrc_heap_set_divisor(unsigned d) { GC_set_free_space_divisor(d == 0 ? 1 : d); }

size_t hrc_bdwgc_allocated_since(void) { return GC_get_bytes_since_gc(); }

size_t hrc_bdwgc_in_use(void) { return GC_get_heap_size() - GC_get_free_bytes(); }

/* ---- the limit and the figures ---- */

/* bdwgc collects before it would grow past the limit; free space between collections counts. */
void hrc_heap_set_limit(size_t bytes) {
  __atomic_store_n(&heap_limit, bytes, __ATOMIC_RELAXED);
  GC_set_max_heap_size(bytes);
}

/* The heap less its free bytes (unmapped memory is in neither). */
size_t hrc_heap_bytes(void) { return GC_get_heap_size() - GC_get_free_bytes(); }

/* Under bdwgc's lock: the figures, the open window's finds included. */
static void *stats_locked(void *out) {
  hrc_heap_stats_t *s = out;
  uint64_t reclaimed = reclaimed_locked();
  s->reclaimed_bytes = (int64_t)reclaimed;
  for (int c = 0; c < HRC_GC_CAUSES; c++) {
    s->by_cause[c] = by_cause[c];
    s->found_by_cause[c] = found_by_cause[c];
  }
  if (last_cause >= 0) s->found_by_cause[last_cause] += (int64_t)found_in_window(reclaimed);
  s->in_use_after = (int64_t)in_use_after;
  return NULL;
}

void hrc_heap_stats(hrc_heap_stats_t *s) {
  memset(s, 0, sizeof *s);
  s->collections = __atomic_load_n(&collections, __ATOMIC_RELAXED);
  s->pause_ns = __atomic_load_n(&pause_ns, __ATOMIC_RELAXED);
  s->max_pause_ns = __atomic_load_n(&max_pause_ns, __ATOMIC_RELAXED);
  s->p99_pause_ns = p99_pause();
  if (s->p99_pause_ns > s->max_pause_ns) s->p99_pause_ns = s->max_pause_ns; /* a bucket's edge */
  s->heap_bytes = (int64_t)GC_get_heap_size();
  s->left_bytes = (int64_t)hrc_bdwgc_handed_back();
  GC_call_with_alloc_lock(stats_locked, s);
}
