/* hrc_stats.h: runtime statistics, one X-macro list of counters.
 *
 * Counters are per thread (no atomics on any path) and folded into global totals when a thread
 * ends or a report is made. With HRC_WITH_STATS=0 (meson -Dstats=false) every counting site
 * compiles to nothing and hrc_stats_get() reports that stats are off. With HRC_STATS=1 in the
 * environment, the report is printed to stderr when the program exits.
 */
#ifndef HRC_STATS_H
#define HRC_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "hrc_object.h"

/* X(name, description): event counters, summed over threads. */
#define HRC_STATS_COUNTERS(X)                                                                      \
  X(allocs, "allocations")                                                                         \
  X(alloc_bytes, "bytes allocated")                                                                \
  X(frees, "frees by rc")                                                                          \
  X(freed_bytes, "bytes freed by rc")                                                              \
  X(reuses, "in-place reuses")                                                                     \
  X(tokens_freed, "reuse tokens freed unused")                                                     \
  X(shared_marked, "objects marked shared")                                                        \
  X(sticky, "counts made sticky")                                                                  \
  X(defers_run, "deferred calls run")                                                              \
  X(defer_records, "heap defer records")                                                           \
  X(panics, "panics")                                                                              \
  X(recovers, "panics recovered")                                                                  \
  X(out_of_memory, "allocations that ran out of memory (panics)")

/* Why the tracer ran a collection (gc, hybrid; heap/bdwgc/policy.c). */
typedef enum hrc_gc_cause_e {
  HRC_GC_EVIDENCE, /* hybrid: possible cycle roots passed the policy's threshold */
  HRC_GC_GARBAGE,  /* hybrid: blocks left to the collector reached the heap in use */
  HRC_GC_GROWTH,   /* the heap grew: hybrid's safety net (HRC_GC_GROWTH), gc's bdwgc trigger */
  HRC_GC_EXPLICIT, /* hrc_collect */
  HRC_GC_LIMIT,    /* the heap limit was reached (hybrid; gc's count it as growth) */
  HRC_GC_CAUSES
} hrc_gc_cause_t;

/* Per-thread counters, in a record each registered thread owns (so the library's static TLS
 * holds one pointer, not the 2 KiB of counters: a library using hrc can be dlopen'ed). live_*
 * may go negative in one thread when another thread frees what it allocated; their sums over
 * threads are exact. */
typedef struct hrc_stats_s {
#define HRC_STATS_FIELD(name, desc) int64_t name;
  HRC_STATS_COUNTERS(HRC_STATS_FIELD)
#undef HRC_STATS_FIELD
  int64_t live_bytes;     /* bytes of live objects, this thread's net */
  int64_t flushed_bytes;  /* part of live_bytes already folded into the global figure */
  int64_t peak_bytes;     /* largest live_bytes this thread has seen */
  int64_t max_drop_ticks; /* the longest single drop's cascade, in the clock's ticks (rc/free.c) */
  int64_t live_by_tag[256];
  struct hrc_stats_s *next, *prev; /* the registry of live threads' records (rc/stats.c) */
} hrc_stats_t;

/* A report: totals over all threads, past and present. */
typedef struct hrc_stats_report_s {
#define HRC_STATS_FIELD(name, desc) int64_t name;
  HRC_STATS_COUNTERS(HRC_STATS_FIELD)
#undef HRC_STATS_FIELD
  int64_t live_objects;
  int64_t live_bytes;
  int64_t peak_live_bytes;    /* exact in one thread; estimated over several */
  int64_t collections;        /* bdwgc collections (gc, hybrid) */
  int64_t policy_collections; /* of which started by the cycle-candidate count (hybrid) */
  int64_t gc_pause_ns;        /* their total pause */
  int64_t gc_max_pause_ns;    /* the longest one */
  int64_t gc_p99_pause_ns;    /* 99% of them were at most this long (to within 19%) */
  int64_t rc_max_drop_ns;     /* the longest single drop: the cascade of frees one reference's
                                 release set off (RC's pause; stats builds) */
  int64_t heap_bytes;         /* bdwgc heap size now (gc, hybrid) */
  int64_t gc_reclaimed_bytes; /* reclaimed by the tracer's sweeps: garbage it found and blocks
                                 RC left to it (bdwgc's approximate count) */
  int64_t gc_left_bytes;      /* of those, blocks RC freed and left to the collector (hybrid:
                                 caches' overflow, pointer-free blocks, bdwgc's size classes) */
  int64_t gc_in_use_after;    /* heap in use when the last collection ended: live data as the
                                 heap knows it (an upper bound: lazily swept garbage counts) */
  int64_t gc_by_cause[HRC_GC_CAUSES];       /* collections by cause */
  int64_t gc_found_by_cause[HRC_GC_CAUSES]; /* garbage their sweeps found, beyond what RC left
                                               to the collector, by the collection's cause */
  int64_t live_by_tag[256];
} hrc_stats_report_t;

/* Fill *r with the current totals; false (and zeros) when stats are compiled out. */
HRC_API bool hrc_stats_get(hrc_stats_report_t *r);
/* Print the report to stderr now. */
HRC_API void hrc_stats_print(void);
/* Live objects now, summed over threads; -1 when stats are compiled out. */
HRC_API int64_t hrc_live_objects(void);

#if HRC_WITH_STATS
/* This thread's record; before registration, a shared record the report ignores. */
extern HRC_API HRC_THREAD_LOCAL hrc_stats_t *hrc_tls_stats;
#define HRC_STAT_ADD(name, n) (hrc_tls_stats->name += (n))
#else
#define HRC_STAT_ADD(name, n) ((void)0)
#endif

#endif
