/* common.h: shared helpers of the hrc test suites.
 *
 * The test object types are what a compiler would emit: a cons cell (tag CONS_TAG, two scanned
 * fields) and a three-field node. expect_fatal runs a misuse in a forked child and checks that
 * it ends the way the docs promise: abort after exactly one stderr line that contains the
 * expected words (so a sanitizer report or a segfault does not pass).
 */
#ifndef HRC_TESTS_COMMON_H
#define HRC_TESTS_COMMON_H

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "hrc.h"

#define CONS_TAG 1u
#define NODE_TAG 2u

typedef struct cons_s {
  hrc_obj_t header;
  hrc_obj_t *head;
  hrc_obj_t *tail;
} cons_t;

typedef struct node_s {
  hrc_obj_t header;
  hrc_obj_t *left;
  hrc_obj_t *mid;
  hrc_obj_t *right;
} node_t;

/* Live objects when the test started (set by each suite's .init), and the change since. */
static int64_t suite_live0;
static inline void remember_live(void) { suite_live0 = hrc_live_objects(); }
static inline int64_t live_delta(void) { return hrc_live_objects() - suite_live0; }

/* A fresh cons cell owning head and tail. */
static inline hrc_obj_t *mk_cons(hrc_obj_t *head, hrc_obj_t *tail) {
  cons_t *c = (cons_t *)hrc_alloc(sizeof(cons_t), CONS_TAG, 2);
  c->head = head;
  c->tail = tail;
  return &c->header;
}

/* A fresh node owning its three fields. */
static inline hrc_obj_t *mk_node(hrc_obj_t *l, hrc_obj_t *m, hrc_obj_t *r) {
  node_t *n = (node_t *)hrc_alloc(sizeof(node_t), NODE_TAG, 3);
  n->left = l;
  n->mid = m;
  n->right = r;
  return &n->header;
}

static inline cons_t *as_cons(hrc_obj_t *o) { return (cons_t *)o; }
static inline node_t *as_node(hrc_obj_t *o) { return (node_t *)o; }

/* Run fn(arg) in a forked child, its stderr (and stdout too when `stdout_too`) captured into
 * out; returns the child's wait status. A child that returns from fn prints "no error". */
static inline int run_in_child(void (*fn)(void *), void *arg, bool stdout_too, char *out,
                               size_t size) {
  int fds[2];
  cr_assert(eq(int, pipe(fds), 0));
  fflush(NULL);
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    if (stdout_too) dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    setvbuf(stdout, NULL, _IONBF, 0);
    fn(arg);
    fprintf(stderr, "no error\n");
    _exit(0);
  }
  close(fds[1]);
  size_t len = 0;
  ssize_t got;
  while (len < size - 1 && (got = read(fds[0], out + len, size - 1 - len)) > 0) len += (size_t)got;
  out[len] = '\0';
  close(fds[0]);
  int status;
  waitpid(pid, &status, 0);
  return status;
}

/* Run fn(arg) in a forked child; it must abort after printing one line containing `want`. */
static inline void expect_fatal(void (*fn)(void *), void *arg, const char *want) {
  char out[4096];
  int status = run_in_child(fn, arg, false, out, sizeof out);
  bool aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
  cr_assert(aborted, "child should abort, status %d, stderr: %s", status, out);
  cr_assert(strncmp(out, "hrc: ", 5) == 0, "stderr should start with 'hrc: ': %s", out);
  char *nl = strchr(out, '\n');
  cr_assert(nl != NULL && nl[1] == '\0', "stderr should be one line: %s", out);
  cr_assert(strstr(out, want) != NULL, "stderr should contain '%s': %s", want, out);
}

/* Run fn(arg) on a thread with a small stack, to show it does not recurse on the C stack. */
static inline void run_on_small_stack(void *(*fn)(void *), void *arg, size_t stack_bytes) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, stack_bytes);
  pthread_t t;
  cr_assert(eq(int, hrc_thread_create(&t, &attr, fn, arg), 0));
  hrc_thread_join(t, NULL);
  pthread_attr_destroy(&attr);
}

#endif
