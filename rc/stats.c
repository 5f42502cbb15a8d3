/* stats.c: counters per thread, totals over threads, and the report.
 *
 * Each thread counts into its own hrc_tls_stats with plain increments. A registry (a list under
 * a mutex) holds the live threads' counters; a thread that ends adds its counters to `retired`.
 * A report sums both. Within one thread the peak of live bytes is exact. Over several threads
 * the peak is estimated: a thread folds its live bytes into a global figure when it reaches a
 * new peak of its own or has freed FOLD_BYTES since the last fold, and the report takes the
 * largest global figure seen (or the largest per-thread peak, if larger).
 *
 * With HRC_WITH_STATS=0 this file keeps only the API, which reports that stats are off.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "options_internal.h"
#include "rc_internal.h"

/* The heap's figures in a report (zeros without a tracer). */
static void add_collector(hrc_stats_report_t *r) {
  hrc_heap_stats_t h;
  hrc_heap_stats(&h);
  r->collections = h.collections;
  r->policy_collections = h.by_cause[HRC_GC_EVIDENCE];
  r->gc_pause_ns = h.pause_ns;
  r->gc_max_pause_ns = h.max_pause_ns;
  r->gc_p99_pause_ns = h.p99_pause_ns;
  r->heap_bytes = h.heap_bytes;
  r->gc_reclaimed_bytes = h.reclaimed_bytes;
  r->gc_left_bytes = h.left_bytes;
  r->gc_in_use_after = h.in_use_after;
  for (int c = 0; c < HRC_GC_CAUSES; c++) {
    r->gc_by_cause[c] = h.by_cause[c];
    r->gc_found_by_cause[c] = h.found_by_cause[c];
  }
}

static bool stats_wanted(void) { return hrc_option(HRC_OPTION_STATS) != 0; }

#if HRC_WITH_STATS

#define FOLD_BYTES (64 * 1024)

/* Where threads not registered yet count (nothing should; the report leaves it out). */
static hrc_stats_t unregistered;

HRC_THREAD_LOCAL hrc_stats_t *hrc_tls_stats = &unregistered;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static hrc_stats_t *threads; /* live registered threads' records */
static hrc_stats_t retired;  /* sums of ended threads */
static int64_t global_live;  /* folded live bytes (atomic) */
static int64_t global_peak;  /* largest folded or per-thread live bytes seen (atomic) */

/* Raise the global peak to at least v. */
static void raise_peak(int64_t v) {
  int64_t cur = __atomic_load_n(&global_peak, __ATOMIC_RELAXED);
  while (v > cur && !__atomic_compare_exchange_n(&global_peak, &cur, v, true, __ATOMIC_RELAXED,
                                                 __ATOMIC_RELAXED)) {
  }
}

/* Fold this thread's unfolded live-byte change into the global figure. */
static void fold(hrc_stats_t *s) {
  int64_t delta = s->live_bytes - s->flushed_bytes;
  s->flushed_bytes = s->live_bytes;
  int64_t now = __atomic_add_fetch(&global_live, delta, __ATOMIC_RELAXED);
  raise_peak(now);
}

/* (The record is read after hrc_obj_size: held across the call it cost a saved register and
 * 5 instructions per free on binary-trees.) */
void hrc_stats_on_alloc(const hrc_obj_t *o) {
  int64_t size = (int64_t)hrc_obj_size(o);
  hrc_stats_t *s = hrc_tls_stats;
  s->allocs++;
  s->alloc_bytes += size;
  s->live_by_tag[o->tag]++;
  s->live_bytes += size;
  if (s->live_bytes > s->peak_bytes) hrc_stats_peak_cold();
}

void hrc_stats_on_free(const hrc_obj_t *o) {
  int64_t size = (int64_t)hrc_obj_size(o);
  hrc_stats_t *s = hrc_tls_stats;
  s->frees++;
  s->freed_bytes += size;
  s->live_by_tag[o->tag]--;
  s->live_bytes -= size;
  if (s->flushed_bytes - s->live_bytes >= FOLD_BYTES) fold(s);
}

/* A new per-thread peak of live bytes: record it, and fold when enough has changed. */
void hrc_stats_peak_cold(void) {
  hrc_stats_t *s = hrc_tls_stats;
  s->peak_bytes = s->live_bytes;
  if (s->live_bytes - s->flushed_bytes >= FOLD_BYTES) fold(s);
}

void hrc_stats_reuse_cold(hrc_obj_t *tok, size_t size, unsigned tag) {
  hrc_stats_t *s = hrc_tls_stats;
  uint8_t words = hrc_size_words(size);
  int64_t old_size = (int64_t)hrc_obj_size(tok);
  int64_t new_size = words ? (int64_t)words * 8 : (int64_t)hrc_large_size_in(tok);
  s->reuses++;
  s->live_by_tag[tok->tag]--;
  s->live_by_tag[tag]++;
  s->live_bytes += new_size - old_size;
}

void hrc_stats_thread_enter(void) {
  hrc_stats_t *self = calloc(1, sizeof *self);
  if (self == NULL) hrc_out_of_memory(sizeof *self);
  pthread_mutex_lock(&registry_lock);
  self->next = threads;
  if (threads != NULL) threads->prev = self;
  threads = self;
  pthread_mutex_unlock(&registry_lock);
  hrc_tls_stats = self;
}

/* The drop clock's ticks and the monotonic clock when the process started, to convert one to
 * the other at a report. */
static uint64_t ticks0;
static int64_t ns0;

static int64_t monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t ticks_to_ns(int64_t ticks) {
  double ns = (double)(monotonic_ns() - ns0), t = (double)(hrc_ticks() - ticks0);
  return t > 0 ? (int64_t)((double)ticks * ns / t) : 0;
}

/* Add every counter of `from` into `into`. */
static void add_counters(hrc_stats_t *into, const hrc_stats_t *from) {
#define HRC_STATS_SUM(name, desc) into->name += from->name;
  HRC_STATS_COUNTERS(HRC_STATS_SUM)
#undef HRC_STATS_SUM
  into->live_bytes += from->live_bytes;
  if (from->peak_bytes > into->peak_bytes) into->peak_bytes = from->peak_bytes;
  if (from->max_drop_ticks > into->max_drop_ticks) into->max_drop_ticks = from->max_drop_ticks;
  for (int t = 0; t < 256; t++) into->live_by_tag[t] += from->live_by_tag[t];
}

void hrc_stats_thread_exit(void) {
  hrc_stats_t *s = hrc_tls_stats;
  if (s == &unregistered) return;
  fold(s);
  pthread_mutex_lock(&registry_lock);
  if (s->prev != NULL) s->prev->next = s->next;
  else threads = s->next;
  if (s->next != NULL) s->next->prev = s->prev;
  add_counters(&retired, s);
  pthread_mutex_unlock(&registry_lock);
  hrc_tls_stats = &unregistered;
  free(s);
}

bool hrc_stats_get(hrc_stats_report_t *r) {
  hrc_free_pending_all(); /* this thread's bounded drops finish: their objects are dead */
  hrc_stats_t sum = {0};
  pthread_mutex_lock(&registry_lock);
  add_counters(&sum, &retired);
  for (hrc_stats_t *e = threads; e != NULL; e = e->next) add_counters(&sum, e);
  pthread_mutex_unlock(&registry_lock);
  memset(r, 0, sizeof *r);
#define HRC_STATS_COPY(name, desc) r->name = sum.name;
  HRC_STATS_COUNTERS(HRC_STATS_COPY)
#undef HRC_STATS_COPY
  r->live_bytes = sum.live_bytes;
  r->rc_max_drop_ns = ticks_to_ns(sum.max_drop_ticks);
  for (int t = 0; t < 256; t++) {
    r->live_by_tag[t] = sum.live_by_tag[t];
    r->live_objects += sum.live_by_tag[t];
  }
  int64_t peak = __atomic_load_n(&global_peak, __ATOMIC_RELAXED);
  if (sum.peak_bytes > peak) peak = sum.peak_bytes;
  if (sum.live_bytes > peak) peak = sum.live_bytes;
  r->peak_live_bytes = peak;
  add_collector(r);
  return true;
}

#else /* !HRC_WITH_STATS */

void hrc_stats_peak_cold(void) {}

void hrc_stats_reuse_cold(hrc_obj_t *tok, size_t size, unsigned tag) {
  (void)tok, (void)size, (void)tag;
}
void hrc_stats_thread_enter(void) {}
void hrc_stats_thread_exit(void) {}

bool hrc_stats_get(hrc_stats_report_t *r) {
  memset(r, 0, sizeof *r);
  add_collector(r);
  return false;
}

#endif

int64_t hrc_live_objects(void) {
  hrc_stats_report_t r;
  return hrc_stats_get(&r) ? r.live_objects : -1;
}

/* Name a tag for the report. */
static const char *tag_name(int tag, char *buf, size_t len) {
  switch (tag) {
  case HRC_TAG_CLOSURE:
    return "closure";
  case HRC_TAG_BYTES:
    return "bytes";
  case HRC_TAG_ARRAY:
    return "array";
  case HRC_TAG_SCALARS:
    return "scalars";
  case HRC_TAG_ERROR:
    return "runtime error";
  default:
    snprintf(buf, len, "tag %d", tag);
    return buf;
  }
}

/* The tracer's part of the report: collections and what they found, by cause. */
static void print_collector(const hrc_stats_report_t *r) {
  static const char *const causes[HRC_GC_CAUSES] = {"evidence", "garbage", "growth", "explicit",
                                                    "limit"};
  fprintf(stderr, "  %-28s %lld (", "collections", (long long)r->collections);
  for (int c = 0; c < HRC_GC_CAUSES; c++)
    fprintf(stderr, "%s%s %lld", c ? ", " : "", causes[c], (long long)r->gc_by_cause[c]);
  int64_t found = 0;
  for (int c = 0; c < HRC_GC_CAUSES; c++) found += r->gc_found_by_cause[c];
  fprintf(stderr, ")\n  %-28s %lld bytes (", "garbage the tracer found", (long long)found);
  for (int c = 0; c < HRC_GC_CAUSES; c++)
    fprintf(stderr, "%s%s %lld", c ? ", " : "", causes[c], (long long)r->gc_found_by_cause[c]);
  fprintf(stderr, ")\n");
  fprintf(stderr, "  %-28s %.1f total, %.2f longest, %.2f p99\n", "collection pauses (ms)",
          r->gc_pause_ns / 1e6, r->gc_max_pause_ns / 1e6, r->gc_p99_pause_ns / 1e6);
  fprintf(stderr, "  %-28s %lld\n", "bdwgc heap bytes", (long long)r->heap_bytes);
  fprintf(stderr, "  %-28s %lld\n", "in use after last collection", (long long)r->gc_in_use_after);
  fprintf(stderr, "  %-28s %lld\n", "bytes rc left to the tracer", (long long)r->gc_left_bytes);
  fprintf(stderr, "  %-28s %lld\n", "bytes reclaimed by tracer", (long long)r->gc_reclaimed_bytes);
}

void hrc_stats_print(void) {
  (void)hrc_option(HRC_OPTION_STATS); /* a bad variable stops here, before any report line */
  hrc_stats_report_t r;
  if (!hrc_stats_get(&r)) {
    fprintf(stderr, "hrc: stats are compiled out of this build (meson -Dstats=true)\n");
    return;
  }
  fprintf(stderr, "hrc stats (%s, %s)\n", hrc_variant(), hrc_version());
  fprintf(stderr, "  options\n");
  hrc_options_print(stderr);
#define HRC_STATS_LINE(name, desc) fprintf(stderr, "  %-28s %lld\n", desc, (long long)r.name);
  HRC_STATS_COUNTERS(HRC_STATS_LINE)
#undef HRC_STATS_LINE
  /* A traced heap reclaims what RC did not free without telling RC: there, RC's figures are
   * what it did not free (live, or reclaimed by the tracer), and live data is the heap's. */
  const char *kept = HRC_HEAP_TRACED ? "not freed by rc" : "live";
  fprintf(stderr, "  objects %-20s %lld\n", kept, (long long)r.live_objects);
  fprintf(stderr, "  bytes %-22s %lld\n", kept, (long long)r.live_bytes);
  fprintf(stderr, "  peak bytes %-17s %lld\n", kept, (long long)r.peak_live_bytes);
  fprintf(stderr, "  %-28s %zu\n", "cached bytes (this thread)", hrc_cache_bytes());
  if (HRC_COUNTING) fprintf(stderr, "  %-28s %.3f\n", "longest drop (ms)", r.rc_max_drop_ns / 1e6);
  if (HRC_HEAP_TRACED) print_collector(&r);
  for (int t = 0; t < 256; t++) {
    char buf[16];
    if (r.live_by_tag[t] != 0)
      fprintf(stderr, "    %s %-*s %lld\n", HRC_HEAP_TRACED ? "not freed by rc," : "live",
              HRC_HEAP_TRACED ? 11 : 23, tag_name(t, buf, sizeof buf), (long long)r.live_by_tag[t]);
  }
}

#if HRC_WITH_STATS
/* At exit: the report, and in rc mode what reference counting could not free. */
static void report_at_exit(void) {
  fflush(stdout);
  hrc_stats_print();
  int64_t live = hrc_live_objects();
  if (live > 0 && !HRC_HEAP_TRACED)
    fprintf(stderr, "  leaked at exit: %lld objects (rc mode frees no cycles; or a missing drop)\n",
            (long long)live);
}
#endif

void hrc_stats_process_init(void) {
#if HRC_WITH_STATS
  ticks0 = hrc_ticks();
  ns0 = monotonic_ns();
#endif
  if (!stats_wanted()) return;
#if HRC_WITH_STATS
  atexit(report_at_exit);
#else
  fprintf(stderr,
          "hrc: HRC_STATS is set but stats are compiled out of this build (meson -Dstats=true)\n");
#endif
}
