/* threads.c: a shared immutable tree read by 2 threads while each builds and drops its own
 * trees. The main thread builds a binary tree of depth 18 and shares it (hrc_share: its counts
 * become atomic); each worker, per iteration, takes and gives back a reference to it (atomic
 * dup/drop), walks it, and builds, walks and drops a private tree of depth 16 (thread-local
 * counts, its own caches). Lowered like binarytrees.c. Usage: threads [iterations] (default 40
 * per thread). The check is the total node count walked.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_report.h"
#include "hrc.h"

enum { NODE = 1, SHARED_DEPTH = 18, OWN_DEPTH = 16, WORKERS = 2 };
#define LEAF hrc_box_int(0)

typedef struct node_s {
  hrc_obj_t header;
  hrc_obj_t *left, *right;
} node_t;

/* fun make(d) */
static hrc_obj_t *make(int d) {
  if (d == 0) return LEAF;
  node_t *n = (node_t *)hrc_alloc_acyclic(sizeof(node_t), NODE, 2);
  n->left = make(d - 1);
  n->right = make(d - 1);
  return &n->header;
}

/* fun check(^t) */
static long check(hrc_obj_t *t) {
  if (hrc_is_scalar(t)) return 1;
  return 1 + check(((node_t *)t)->left) + check(((node_t *)t)->right);
}

typedef struct work_s {
  hrc_obj_t *shared;
  int iterations;
  long sum;
} work_t;

static void *worker(void *arg) {
  work_t *w = arg;
  for (int i = 0; i < w->iterations; i++) {
    hrc_obj_t *s = hrc_dup(w->shared);
    w->sum += check(s);
    hrc_drop(s);
    hrc_obj_t *t = make(OWN_DEPTH);
    w->sum += check(t);
    hrc_drop(t);
  }
  hrc_drop(w->shared); /* the reference the main thread handed over */
  return NULL;
}

int main(int argc, char **argv) {
  int iterations = argc > 1 ? atoi(argv[1]) : 40;
  bench_start();
  hrc_obj_t *shared = make(SHARED_DEPTH);
  hrc_share(shared);
  pthread_t threads[WORKERS];
  work_t work[WORKERS];
  for (int i = 0; i < WORKERS; i++) {
    work[i] = (work_t){hrc_dup(shared), iterations, 0};
    if (hrc_thread_create(&threads[i], NULL, worker, &work[i]) != 0) {
      fprintf(stderr, "threads: cannot create a thread\n");
      return 1;
    }
  }
  long total = 0;
  for (int i = 0; i < WORKERS; i++) {
    hrc_thread_join(threads[i], NULL);
    total += work[i].sum;
  }
  hrc_drop(shared);
  printf("%ld\n", total);
  bench_report("threads", iterations, total, total);
  return 0;
}
