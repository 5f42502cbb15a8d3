/* soak.c: thread churn and a soak under load, in any mode; no Criterion (its own process).
 *
 *   soak SECONDS [CHURN_THREADS]
 * 1. Churn: CHURN_THREADS (default 10,000) threads in batches of 100. Each enters a defer
 *    frame, defers calls three ways (open-coded, a heap record per loop round, inline heap
 *    records), fills its reuse caches by building and freeing lists, dups and drops a shared
 *    graph, and ends: half return through their frames, half through hrc_thread_exit with the
 *    defers still pending (they run). Afterwards: every deferred call ran, as many threads
 *    are attached as before, and (rc, hybrid) no object is left but the shared graph.
 * 2. Soak: 4 threads for SECONDS share one graph: each round dups a random subtree, builds a
 *    small tree over it, drops both, and now and then panics and recovers. RSS is sampled
 *    every 100 ms; after a warm-up of a fifth of the run it may not grow beyond 10% + 8 MB.
 * 3. Pipeline: a producer thread builds lists of 100 cells, shares them and hands them through
 *    a queue of 64 to a consumer thread, which drops them: 50,000 lists. The consumer frees
 *    what the producer allocates and never allocates itself; its freed blocks must come back
 *    to the producer (the caches' pool), so RSS may not grow by more than 32 MB.
 * Prints its measurements; any failed check is one line "soak: ..." and exit status 1.
 * The documented long run: build/tests/soak-hybrid 60 (CI runs 3 seconds per mode).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hrc.h"

#define NODE_TAG 2u

typedef struct node_s {
  hrc_obj_t header;
  hrc_obj_t *left, *right;
  intptr_t value;
} node_t;

static int failures;
static void check(bool ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "soak: %s (%s)\n", what, hrc_variant());
    failures++;
  }
}

static hrc_obj_t *node(hrc_obj_t *l, hrc_obj_t *r, intptr_t v) {
  node_t *n = (node_t *)hrc_alloc(sizeof(node_t), NODE_TAG, 2);
  n->left = l;
  n->right = r;
  n->value = v;
  return &n->header;
}

static hrc_obj_t *tree(int depth, intptr_t v) {
  if (depth == 0) return hrc_box_int(v);
  return node(tree(depth - 1, 2 * v), tree(depth - 1, 2 * v + 1), v);
}

static hrc_obj_t *shared; /* the graph every thread reads; static, so bdwgc sees it */
static atomic_long deferred_ran;

static hrc_obj_t *count_call(hrc_closure_t *self) {
  atomic_fetch_add(&deferred_ran, 1);
  hrc_drop(&self->header); /* owned call; immortal in-record closures ignore it */
  return NULL;
}

/* ---- churn ---- */

static void *churn_thread(void *arg) {
  intptr_t i = (intptr_t)arg;
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  for (int k = 0; k < 3; k++) hrc_defer_heap(&fr, hrc_closure_alloc((hrc_code_t)count_call, 0, 0));
  for (int k = 0; k < 2; k++) hrc_defer_heap_closure(&fr, (hrc_code_t)count_call, 0, 0);
  hrc_obj_t *xs = hrc_box_int(0); /* fill the caches: a list built and freed */
  for (int k = 0; k < 200; k++) xs = node(hrc_box_int(k), xs, k);
  hrc_drop(xs);
  hrc_obj_t *mine = hrc_dup(((node_t *)shared)->left);
  hrc_drop(tree(4, i)); /* and reuse the freed blocks */
  hrc_drop(mine);
  if (i % 2 == 0) hrc_thread_exit(); /* defers pending: the exit runs them */
  hrc_frame_exit(&fr);
  return NULL;
}

static void churn(long total) {
  long before_ran = atomic_load(&deferred_ran);
  size_t attached0 = hrc_attached_threads();
  int64_t live0 = hrc_live_objects();
  for (long done = 0; done < total; done += 100) {
    pthread_t t[100];
    int n = total - done < 100 ? (int)(total - done) : 100;
    for (int k = 0; k < n; k++)
      if (hrc_thread_create(&t[k], NULL, churn_thread, (void *)(intptr_t)(done + k)) != 0) {
        fprintf(stderr, "soak: cannot create thread %ld\n", done + k);
        exit(1);
      }
    for (int k = 0; k < n; k++) hrc_thread_join(t[k], NULL);
  }
  long ran = atomic_load(&deferred_ran) - before_ran;
  printf("churn: %ld threads, %ld deferred calls ran, %zu threads attached (before %zu), "
         "live objects %+lld\n",
         total, ran, hrc_attached_threads(), attached0, (long long)(hrc_live_objects() - live0));
  check(ran == 5 * total, "not every deferred call of the churned threads ran");
  check(hrc_attached_threads() == attached0, "threads stay attached after they ended");
  if (HRC_COUNTING) check(hrc_live_objects() == live0, "objects outlive the churned threads");
}

/* ---- soak ---- */

static atomic_bool stop;
static atomic_long rounds;

static hrc_obj_t *recover_call(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  hrc_drop(&self->header);
  hrc_xdrop(hrc_recover(tok));
  return NULL;
}

/* A round that panics halfway and recovers. */
static void panicky_round(void) {
  hrc_frame_t fr;
  hrc_landing_t land;
  hrc_frame_enter(&fr);
  if (HRC_FRAME_LANDING(&fr, &land)) goto out;
  hrc_defer_open(&fr, 0, hrc_closure_alloc((hrc_code_t)recover_call, 0, 0));
  hrc_panic_str("soak");
out:
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
}

static void *soak_thread(void *arg) {
  uint64_t x = (uintptr_t)arg * 0x9E3779B97F4A7C15u + 1;
  while (!atomic_load(&stop)) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    hrc_obj_t *t = shared; /* walk down a random path, dup'ing what we keep */
    for (int d = 0; d < (int)(x % 8) && !hrc_is_scalar(t); d++)
      t = (x >> d) & 1 ? ((node_t *)t)->left : ((node_t *)t)->right;
    hrc_obj_t *mine = node(hrc_dup(t), tree(6, (intptr_t)x & 1023), 0);
    hrc_drop(mine);
    if (x % 64 == 0) panicky_round();
    atomic_fetch_add(&rounds, 1);
  }
  return NULL;
}

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = 0;
  while (f != NULL && fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0) kb = atol(line + 6);
  if (f != NULL) fclose(f);
  return kb;
}

static void soak(double seconds) {
  size_t attached0 = hrc_attached_threads();
  int64_t live0 = hrc_live_objects();
  pthread_t t[4];
  for (int k = 0; k < 4; k++) hrc_thread_create(&t[k], NULL, soak_thread, (void *)(intptr_t)(k + 1));
  int samples = (int)(seconds * 10), warm = samples / 5;
  long warm_rss = 0, max_rss = 0;
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (int s = 0; s < samples; s++) {
    next.tv_nsec += 100000000;
    if (next.tv_nsec >= 1000000000) next.tv_sec++, next.tv_nsec -= 1000000000;
    /* bdwgc's stop-the-world signals interrupt sleeps: sleep to an absolute time */
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) != 0) {
    }
    long rss = rss_kb();
    if (s == warm) warm_rss = rss;
    if (s >= warm && rss > max_rss) max_rss = rss;
  }
  atomic_store(&stop, true);
  for (int k = 0; k < 4; k++) hrc_thread_join(t[k], NULL);
  printf("soak: %.0f s, 4 threads, %ld rounds, RSS after warm-up %ld KB, max %ld KB, "
         "attached threads %zu (before %zu), defer records %zu bytes\n",
         seconds, atomic_load(&rounds), warm_rss, max_rss, hrc_attached_threads(), attached0,
         hrc_defer_records_bytes());
  check(max_rss <= warm_rss + warm_rss / 10 + 8192, "RSS grew after warm-up");
  check(hrc_attached_threads() == attached0, "soak threads stay attached");
  if (HRC_COUNTING) check(hrc_live_objects() == live0, "objects outlive the soak");
}

/* ---- 3. the pipeline ---- */

#define PIPE_SLOTS 64
static hrc_obj_t *pipe_slots[PIPE_SLOTS];
static long pipe_head, pipe_tail, pipe_lists;
static pthread_mutex_t pipe_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pipe_moved = PTHREAD_COND_INITIALIZER;

/* Hand a list (NULL: the end) to the consumer, waiting while the queue is full. */
static void pipe_put(hrc_obj_t *list) {
  pthread_mutex_lock(&pipe_lock);
  while (pipe_tail - pipe_head == PIPE_SLOTS) pthread_cond_wait(&pipe_moved, &pipe_lock);
  pipe_slots[pipe_tail++ % PIPE_SLOTS] = list;
  pthread_cond_broadcast(&pipe_moved);
  pthread_mutex_unlock(&pipe_lock);
}

static hrc_obj_t *pipe_get(void) {
  pthread_mutex_lock(&pipe_lock);
  while (pipe_tail == pipe_head) pthread_cond_wait(&pipe_moved, &pipe_lock);
  hrc_obj_t *list = pipe_slots[pipe_head++ % PIPE_SLOTS];
  pthread_cond_broadcast(&pipe_moved);
  pthread_mutex_unlock(&pipe_lock);
  return list;
}

static void *producer(void *arg) {
  (void)arg;
  for (long i = 0; i < pipe_lists; i++) {
    hrc_obj_t *list = hrc_box_int(0);
    for (int j = 0; j < 100; j++) list = node(list, hrc_box_int(j), j);
    hrc_share(list);
    pipe_put(list);
  }
  pipe_put(NULL);
  return NULL;
}

static void *consumer(void *arg) {
  (void)arg;
  for (hrc_obj_t *list; (list = pipe_get()) != NULL;) hrc_drop(list);
  return NULL;
}

static void pipeline(long lists) {
  int64_t live0 = hrc_live_objects();
  long rss0 = rss_kb();
  pipe_lists = lists;
  pthread_t p, c;
  hrc_thread_create(&c, NULL, consumer, NULL);
  hrc_thread_create(&p, NULL, producer, NULL);
  hrc_thread_join(p, NULL);
  hrc_thread_join(c, NULL);
  long rss = rss_kb();
  printf("pipeline: %ld lists of 100 cells, RSS %ld KB before, %ld KB after\n", lists, rss0, rss);
  check(rss <= rss0 + 32 * 1024, "RSS grew in the pipeline (freed blocks not reused)");
  if (HRC_COUNTING) check(hrc_live_objects() == live0, "objects outlive the pipeline");
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 60;
  long threads = argc > 2 ? atol(argv[2]) : 10000;
  shared = tree(12, 1);
  hrc_share(shared);
  churn(threads);
  soak(seconds);
  pipeline(50000);
  hrc_drop(shared);
  return failures != 0;
}
