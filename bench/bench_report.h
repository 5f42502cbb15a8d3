/* bench_report.h: the line every workload ends with, so runners can parse one format:
 *   result name=N mode=M size=S check=C wall_s=W user_s=U peak_rss_kb=R collections=K
 *          gc_pause_ms=P allocs=A rc_frees=F reuses=X live=L gc_reclaimed_kb=G objects=O
 */
#ifndef HRC_BENCH_REPORT_H
#define HRC_BENCH_REPORT_H

#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

#include "hrc.h"

static double bench_t0;

static double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void bench_start(void) { bench_t0 = bench_now(); }

static void bench_report(const char *name, long size, long check, long objects) {
  double wall = bench_now() - bench_t0;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  hrc_stats_report_t s;
  hrc_stats_get(&s);
  printf("result name=%s mode=%s size=%ld check=%ld wall_s=%.3f user_s=%.3f peak_rss_kb=%ld "
         "collections=%lld gc_pause_ms=%.1f allocs=%lld rc_frees=%lld reuses=%lld live=%lld "
         "gc_reclaimed_kb=%lld objects=%ld\n",
         name, HRC_MODE_NAME, size, check, wall, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6,
         ru.ru_maxrss, (long long)s.collections, s.gc_pause_ns / 1e6, (long long)s.allocs,
         (long long)s.frees, (long long)s.reuses, (long long)s.live_objects,
         (long long)(s.gc_reclaimed_bytes / 1024), objects);
}

#endif
