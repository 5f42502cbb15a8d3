/* bench_report.h: the line every hrc workload ends with (bench_report_plain.h has the shared
 * clock and RSS and the baselines' line), so runners can parse one format:
 *   result name=N mode=M size=S check=C wall_s=W user_s=U peak_rss_kb=R collections=K
 *          gc_pause_ms=P allocs=A rc_frees=F reuses=X live=L gc_reclaimed_kb=G objects=O
 */
#ifndef HRC_BENCH_REPORT_H
#define HRC_BENCH_REPORT_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_report_plain.h"
#include "hrc.h"

static inline void bench_report(const char *name, long size, long check, long objects) {
  double wall = bench_now() - bench_t0;
  hrc_stats_report_t s;
  hrc_stats_get(&s);
  printf("result name=%s mode=%s size=%ld check=%ld wall_s=%.3f user_s=%.3f peak_rss_kb=%ld "
         "collections=%lld gc_pause_ms=%.1f allocs=%lld rc_frees=%lld reuses=%lld live=%lld "
         "gc_reclaimed_kb=%lld objects=%ld\n",
         name, HRC_MODE_NAME, size, check, wall, bench_user_s(),
         bench_peak_rss_kb(), (long long)s.collections, s.gc_pause_ns / 1e6, (long long)s.allocs,
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
