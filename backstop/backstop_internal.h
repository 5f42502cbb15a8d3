/* backstop_internal.h: what rc/ calls in the tracing modes (gc, hybrid); backstop/backstop.c. */
#ifndef HRC_BACKSTOP_INTERNAL_H
#define HRC_BACKSTOP_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "hrc.h"

#define HRC_BACKSTOP_HIDDEN __attribute__((visibility("hidden")))

/* Once per process, before the first allocation: configure and start bdwgc. */
HRC_BACKSTOP_HIDDEN void hrc_backstop_init(void);
/* This thread's first use: register it with bdwgc if nobody has (foreign threads). */
HRC_BACKSTOP_HIDDEN void hrc_backstop_thread_enter(void);
/* This thread's exit hook: unregister it if hrc registered it. */
HRC_BACKSTOP_HIDDEN void hrc_backstop_thread_exit(void);

/* pthread_create through bdwgc, which registers the thread before start runs. */
HRC_BACKSTOP_HIDDEN int hrc_backstop_thread_create(pthread_t *thread, const pthread_attr_t *attr,
                                                   void *(*start)(void *), void *arg);

/* The collection policy (backstop/policy.c). */
HRC_BACKSTOP_HIDDEN void hrc_policy_init(void);
HRC_BACKSTOP_HIDDEN void hrc_policy_check(void);
HRC_BACKSTOP_HIDDEN int64_t hrc_policy_collections(void);

/* Collector figures for the stats report. */
typedef struct hrc_backstop_stats_s {
  int64_t collections;
  int64_t pause_ns;
  int64_t max_pause_ns;
  int64_t heap_bytes;
  int64_t reclaimed_bytes; /* bytes the collector's sweeps have reclaimed so far */
} hrc_backstop_stats_t;
HRC_BACKSTOP_HIDDEN void hrc_backstop_stats(hrc_backstop_stats_t *s);

#endif
