/* bench_report.h: the line every hrc workload ends with (bench_report_plain.h has the shared
 * clock and RSS and the baselines' line), so runners can parse one format:
 *   result name=N mode=M size=S check=C wall_s=W user_s=U peak_rss_kb=R collections=K
 *          gc_pause_ms=P gc_max_pause_ms=Q gc_p99_pause_ms=Y rc_max_drop_ms=D allocs=A
 *          rc_frees=F reuses=X live=L gc_reclaimed_kb=G objects=O
 */
#ifndef HRC_BENCH_REPORT_H
#define HRC_BENCH_REPORT_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hrc.h"

static inline void bench_trace_start(void);
#define BENCH_ON_START() bench_trace_start()
#include "bench_report_plain.h"

/* The heap over time: with HRC_BENCH_TRACE=FILE, a thread samples every 2 ms, from
 * bench_start() to bench_report(), the time, the resident set, the heap in use and the
 * collections so far, one line each ("t_s rss_kb heap_kb collections"), into FILE. */
static pthread_t bench_tracer;
static FILE *bench_trace_file;
static volatile int bench_trace_stop;

static inline void *bench_trace_loop(void *arg) {
  (void)arg;
  long page_kb = sysconf(_SC_PAGESIZE) / 1024;
  while (!bench_trace_stop) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
      if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
      fclose(f);
    }
    hrc_stats_report_t s;
    hrc_stats_get(&s);
    fprintf(bench_trace_file, "%.4f %ld %zu %lld\n", bench_now() - bench_t0, resident * page_kb,
            hrc_heap_in_use() / 1024, (long long)s.collections);
    usleep(2000);
  }
  return NULL;
}

static inline void bench_trace_start(void) {
  const char *path = getenv("HRC_BENCH_TRACE");
  if (path == NULL || *path == '\0') return;
  bench_trace_file = fopen(path, "w");
  if (bench_trace_file == NULL) {
    fprintf(stderr, "bench: cannot write %s\n", path);
    exit(1);
  }
  (void)hrc_heap_in_use(); /* the runtime starts on this (the main) thread */
  if (hrc_thread_create(&bench_tracer, NULL, bench_trace_loop, NULL) != 0) {
    fprintf(stderr, "bench: cannot start the trace thread\n");
    exit(1);
  }
}

static inline void bench_trace_end(void) {
  if (bench_trace_file == NULL) return;
  bench_trace_stop = 1;
  hrc_thread_join(bench_tracer, NULL);
  fclose(bench_trace_file);
  bench_trace_file = NULL;
}


static inline void bench_report(const char *name, long size, long check, long objects) {
  double wall = bench_now() - bench_t0;
  bench_trace_end();
  hrc_stats_report_t s;
  hrc_stats_get(&s);
  printf("result name=%s mode=%s size=%ld check=%ld wall_s=%.3f user_s=%.3f peak_rss_kb=%ld "
         "collections=%lld gc_pause_ms=%.1f gc_max_pause_ms=%.2f gc_p99_pause_ms=%.2f "
         "rc_max_drop_ms=%.3f allocs=%lld rc_frees=%lld reuses=%lld live=%lld gc_reclaimed_kb=%lld "
         "objects=%ld\n",
         name, HRC_MODE_NAME, size, check, wall, bench_user_s(), bench_peak_rss_kb(),
         (long long)s.collections, s.gc_pause_ns / 1e6, s.gc_max_pause_ns / 1e6,
         s.gc_p99_pause_ns / 1e6, s.rc_max_drop_ns / 1e6, (long long)s.allocs,
         (long long)s.frees, (long long)s.reuses, (long long)s.live_objects,
         (long long)(s.gc_reclaimed_bytes / 1024), objects);
}

/* Run fn(arg) on a registered thread with a 1 GiB stack (reserved, touched only as used): the
 * workloads whose functional recursion goes half a million calls deep (Koka's benchmarks are
 * run with `ulimit -s unlimited` for the same reason). */
static inline void *bench_on_big_stack(void *(*fn)(void *), void *arg) {
  pthread_attr_t attr;
  pthread_t t;
  void *result = NULL;
  if (pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, (size_t)1 << 30) != 0 ||
      hrc_thread_create(&t, &attr, fn, arg) != 0 || hrc_thread_join(t, &result) != 0) {
    fprintf(stderr, "bench: cannot start a thread with a 1 GiB stack\n");
    exit(1);
  }
  pthread_attr_destroy(&attr);
  return result;
}

#endif
