/* bench_report_plain.h: what every benchmark program shares, hrc or not (C and C++): the clock,
 * the peak resident set, and the `result` line for baselines that do not use hrc (mode=baseline,
 * runtime counters 0), so the runner parses one format. bench_report.h adds the hrc line. */
#ifndef HRC_BENCH_REPORT_PLAIN_H
#define HRC_BENCH_REPORT_PLAIN_H

#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

static double bench_t0;

static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Peak resident set of this process image in KiB: VmHWM, which exec resets (getrusage's
 * ru_maxrss does not, so a child of a large runner would report the runner's size). */
static inline long bench_peak_rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f != NULL && fgets(line, sizeof line, f) != NULL)
    if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
  if (f != NULL) fclose(f);
  return kb;
}

/* User CPU seconds of this process so far. */
static inline double bench_user_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6;
}

/* What bench_report.h adds to the start (the heap trace); nothing for the baselines. */
#ifndef BENCH_ON_START
#define BENCH_ON_START() ((void)0)
#endif

static inline void bench_start(void) {
  bench_t0 = bench_now();
  BENCH_ON_START();
}

static inline void bench_report_plain(const char *name, long size, long check) {
  printf("result name=%s mode=baseline size=%ld check=%ld wall_s=%.3f user_s=%.3f "
         "peak_rss_kb=%ld collections=0 gc_pause_ms=0.0 gc_max_pause_ms=0.00 gc_p99_pause_ms=0.00 rc_max_drop_ms=0.000 allocs=0 rc_frees=0 reuses=0 live=0 "
         "gc_reclaimed_kb=0 objects=%ld\n",
         name, size, check, bench_now() - bench_t0, bench_user_s(), bench_peak_rss_kb(), size);
}

#endif
