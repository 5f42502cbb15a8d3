/* thread_scenarios.h: the multi-threaded scenarios, written once and run twice: as Criterion
 * tests (test_share.c) and by a plain TAP driver under ThreadSanitizer (tsan_threads.c), since
 * Criterion cannot start under TSan (Snaipe/Criterion issue 274). Each scenario returns NULL
 * when it holds, or a message saying what went wrong.
 */
#ifndef HRC_TESTS_THREAD_SCENARIOS_H
#define HRC_TESTS_THREAD_SCENARIOS_H

#include <pthread.h>
#include <stdint.h>

#include "hrc.h"

typedef struct ts_cons_s {
  hrc_obj_t header;
  hrc_obj_t *head, *tail;
} ts_cons_t;

/* A list 0..n-1 as cons cells (tag 1). */
static inline hrc_obj_t *ts_range(long n) {
  hrc_obj_t *xs = hrc_box_int(0);
  for (long i = n - 1; i >= 0; i--) {
    ts_cons_t *c = (ts_cons_t *)hrc_alloc(sizeof(ts_cons_t), 1, 2);
    c->head = hrc_box_int(i);
    c->tail = xs;
    xs = &c->header;
  }
  return xs;
}

typedef struct ts_worker_s {
  hrc_obj_t *root; /* one reference owned by the worker */
  long rounds;
  long sum;
} ts_worker_t;

/* Walk the shared list `rounds` times, dup'ing and dropping each cell, then drop the root. */
static inline void *ts_walker(void *arg) {
  ts_worker_t *w = arg;
  w->sum = 0;
  for (long r = 0; r < w->rounds; r++) {
    hrc_obj_t *xs = hrc_dup(w->root);
    while (!hrc_is_scalar(xs)) {
      hrc_obj_t *next = hrc_dup(((ts_cons_t *)xs)->tail);
      w->sum += hrc_unbox_int(((ts_cons_t *)xs)->head);
      hrc_drop(xs);
      xs = next;
    }
  }
  hrc_drop(w->root);
  return NULL;
}

/* n threads share one list, walk it concurrently and each drop their reference; the last
 * drop, whichever thread makes it, frees every cell exactly once. */
static inline const char *ts_threads_drop_shared_list(int nthreads, int trials) {
  int64_t live_before = hrc_live_objects();
  for (int trial = 0; trial < trials; trial++) {
    hrc_obj_t *xs = ts_range(1000);
    hrc_share(xs);
    ts_worker_t w[8];
    pthread_t t[8];
    for (int i = 0; i < nthreads; i++) {
      w[i] = (ts_worker_t){i == 0 ? xs : hrc_dup(xs), 50, 0};
    }
    for (int i = 0; i < nthreads; i++)
      if (hrc_thread_create(&t[i], NULL, ts_walker, &w[i]) != 0) return "pthread_create failed";
    for (int i = 0; i < nthreads; i++) hrc_thread_join(t[i], NULL);
    for (int i = 0; i < nthreads; i++)
      if (w[i].sum != 50L * 999 * 1000 / 2) return "a thread read a wrong value";
    if (hrc_live_objects() != live_before) return "cells leaked or freed twice";
  }
  return NULL;
}

/* Drop a unique graph handed over by another thread. */
static inline void *ts_drop_it(void *arg) {
  hrc_drop(arg);
  return NULL;
}

/* A unique graph moves to another thread, which frees it (cross-thread free, no sharing). */
static inline const char *ts_unique_graph_moves_to_another_thread(void) {
  int64_t live_before = hrc_live_objects();
  hrc_obj_t *xs = ts_range(10000);
  pthread_t t;
  if (hrc_thread_create(&t, NULL, ts_drop_it, xs) != 0) return "pthread_create failed";
  hrc_thread_join(t, NULL);
  return hrc_live_objects() == live_before ? NULL : "the other thread did not free the list";
}

/* Build and drop private lists while reading a shared one (blocks recycle per thread). */
static inline void *ts_builder(void *arg) {
  ts_worker_t *w = arg;
  w->sum = 0;
  for (long r = 0; r < w->rounds; r++) {
    hrc_obj_t *mine = ts_range(200);
    w->sum +=
        hrc_unbox_int(((ts_cons_t *)mine)->head) + hrc_unbox_int(((ts_cons_t *)w->root)->head);
    hrc_drop(mine);
  }
  hrc_drop(w->root);
  return NULL;
}

/* Threads allocate and free their own objects while sharing a read-only one. */
static inline const char *ts_private_work_beside_shared_data(void) {
  int64_t live_before = hrc_live_objects();
  hrc_obj_t *shared = ts_range(100);
  hrc_share(shared);
  ts_worker_t w[2] = {{hrc_dup(shared), 500, 0}, {shared, 500, 0}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    if (hrc_thread_create(&t[i], NULL, ts_builder, &w[i]) != 0) return "pthread_create failed";
  for (int i = 0; i < 2; i++) hrc_thread_join(t[i], NULL);
  if (w[0].sum != 0 || w[1].sum != 0) return "a thread read a wrong value";
  return hrc_live_objects() == live_before ? NULL : "objects leaked";
}

#endif
