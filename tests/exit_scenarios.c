/* exit_scenarios.c: how a process ends, each scenario in a fresh process, in every mode.
 *
 * Some endings cannot be tested inside Criterion's workers: the main thread calling
 * hrc_thread_exit (Go's Goexit in main), a heap that is really full when nothing recovers, a
 * process that might hang. So this program is its own driver: without arguments it runs each
 * scenario as `exit_scenarios run NAME` (a fresh process: hrc and bdwgc start there from
 * nothing, marker threads included), waits at most TIMEOUT_S seconds (a hang is killed and
 * reported), and checks the exit status and what the scenario wrote to stderr. It prints TAP.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hrc.h"

#define TIMEOUT_S 30

/* ---- scenarios (run in the child) ---- */

/* A deferred call that writes its captured text to stderr. */
static hrc_obj_t *say(hrc_closure_t *self) {
  const char *text;
  memcpy(&text, hrc_closure_scalars(self), sizeof text);
  hrc_drop(&self->header);
  fprintf(stderr, "%s\n", text);
  return NULL;
}

static hrc_closure_t *saying(const char *text) {
  hrc_closure_t *c = hrc_closure_alloc((hrc_code_t)say, 0, sizeof text);
  memcpy(hrc_closure_scalars(c), &text, sizeof text);
  return c;
}

/* Go: main calls runtime.Goexit: its deferred calls run, then "fatal error: no goroutines
 * (main called runtime.Goexit) - deadlock!" and status 2. */
static void main_thread_exit(void) {
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  hrc_defer_open(&fr, 0, saying("deferred ran"));
  hrc_thread_exit();
}

static void *slow_worker(void *arg) {
  (void)arg;
  struct timespec ts = {0, 300 * 1000 * 1000};
  nanosleep(&ts, NULL);
  hrc_drop(hrc_alloc(32, 1, 0));
  fprintf(stderr, "worker done\n");
  return NULL;
}

/* Go: the other goroutines go on running after main's Goexit; the fatal error comes when
 * none is left. */
static void main_thread_exit_waits_for_threads(void) {
  pthread_t t;
  if (hrc_thread_create(&t, NULL, slow_worker, NULL) != 0) abort();
  hrc_thread_exit();
}

/* A deferred call that ends its thread (Go's `defer runtime.Goexit()`). */
static hrc_obj_t *exits(hrc_closure_t *self) {
  hrc_drop(&self->header);
  hrc_thread_exit();
}

/* Go's GoexitInPanic on the main goroutine: the exit run by a deferred call during a panic
 * abandons the panic (nothing printed for it), and main's exit is the fatal error. */
static void thread_exit_in_a_panic_on_main(void) {
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  hrc_defer_open(&fr, 0, hrc_closure_alloc((hrc_code_t)exits, 0, 0));
  hrc_panic_str("hello");
}

static void *panic_then_exit(void *arg) {
  (void)arg;
  thread_exit_in_a_panic_on_main(); /* same code, on another thread: that thread just ends */
  return NULL;
}

/* Go's GoexitInPanic (crash_test.go): a goroutine's deferred Goexit ends it quietly during a
 * panic; main's Goexit then ends the program with the fatal error. */
static void thread_exit_in_a_panic_on_a_thread(void) {
  pthread_t t;
  if (hrc_thread_create(&t, NULL, panic_then_exit, NULL) != 0) abort();
  hrc_thread_join(t, NULL);
  hrc_thread_exit();
}

/* Keep cons cells in arrays of 250 (in a static table bdwgc scans) until memory runs out. */
static hrc_array_t *kept[1 << 16];

static void fill_the_heap(void) {
  for (size_t n = 0;; n++) {
    if (n % 250 == 0) {
      if (n / 250 >= sizeof kept / sizeof kept[0]) {
        fprintf(stderr, "the heap limit was not enforced\n");
        exit(1);
      }
      kept[n / 250] = hrc_array_alloc(250);
    }
    hrc_obj_t *c = hrc_alloc(24, 1, 2);
    hrc_fields(c)[0] = hrc_box_int((intptr_t)n);
    hrc_fields(c)[1] = hrc_box_int(0);
    kept[n / 250]->items[n % 250] = c;
  }
}

/* A full heap and nothing to recover: "panic: runtime error: out of memory", status 2, on a
 * thread that never entered a frame (panicking must need no memory the limit refuses). */
static void out_of_memory_on_main(void) {
  setenv("HRC_HEAP_LIMIT", "64M", 1);
  fill_the_heap();
}

static void *fill_on_thread(void *arg) {
  (void)arg;
  fill_the_heap();
  return NULL;
}

static void out_of_memory_on_a_thread(void) {
  setenv("HRC_HEAP_LIMIT", "64M", 1);
  hrc_drop(hrc_alloc(32, 1, 0)); /* start hrc on main first */
  pthread_t t;
  if (hrc_thread_create(&t, NULL, fill_on_thread, NULL) != 0) abort();
  hrc_thread_join(t, NULL);
}

static void *detach_in_frame(void *arg) {
  (void)arg;
  hrc_thread_attach();
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  hrc_thread_detach();
  return NULL;
}

/* hrc_thread_detach while a frame is entered: refused with one line, in every build. */
static void detach_with_a_frame_entered(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, detach_in_frame, NULL) != 0) abort();
  pthread_join(t, NULL);
}

/* A function that enters a frame and returns without leaving it (a compiler's bug). */
static __attribute__((noinline)) void leaks_a_frame(void) {
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  hrc_defer_open(&fr, 0, saying("stale"));
  __asm__ volatile("" ::"r"(&fr) : "memory");
}

/* Something that overwrites the stack where the leaked frame was. */
static __attribute__((noinline)) void scribbles(void) {
  volatile char junk[512];
  memset((char *)junk, 'x', sizeof junk);
}

/* A panic meets the frame that was never left: one line naming it, in every build. */
static void panic_meets_a_frame_never_left(void) {
  leaks_a_frame();
  scribbles();
  hrc_panic_str("boom");
}

/* The next frame entered meets it: one line naming it (checked builds). */
static void frame_enter_meets_a_frame_never_left(void) {
  leaks_a_frame();
  scribbles();
  hrc_frame_t fr;
  hrc_frame_enter(&fr);
  hrc_frame_leave(&fr);
}

/* ---- the driver ---- */

typedef struct scenario_s {
  const char *name;
  void (*run)(void);
  int status;         /* expected exit status, or -signal */
  const char *want;   /* stderr must contain these lines' text, in order ('|' separates) */
  const char *refuse; /* and must not contain this (NULL: no such check) */
  bool checked_only;
} scenario_t;

static const scenario_t scenarios[] = {
    {"main_thread_exit", main_thread_exit, 2,
     "deferred ran|fatal error: no threads left to run (the main thread called hrc_thread_exit)",
     NULL, false},
    {"main_thread_exit_waits_for_threads", main_thread_exit_waits_for_threads, 2,
     "worker done|fatal error: no threads left", NULL, false},
    {"thread_exit_in_a_panic_on_main", thread_exit_in_a_panic_on_main, 2,
     "fatal error: no threads left", "panic", false},
    {"thread_exit_in_a_panic_on_a_thread", thread_exit_in_a_panic_on_a_thread, 2,
     "fatal error: no threads left", "panic", false},
    {"out_of_memory_on_main", out_of_memory_on_main, 2, "panic: runtime error: out of memory",
     "hrc:", false},
    {"out_of_memory_on_a_thread", out_of_memory_on_a_thread, 2,
     "panic: runtime error: out of memory", "hrc:", false},
    {"detach_with_a_frame_entered", detach_with_a_frame_entered, -SIGABRT,
     "hrc: hrc_thread_detach with defer frame", NULL, false},
    {"panic_meets_a_frame_never_left", panic_meets_a_frame_never_left, -SIGABRT,
     "was never left", "stale", false},
    {"frame_enter_meets_a_frame_never_left", frame_enter_meets_a_frame_never_left, -SIGABRT,
     "was never left", NULL, true},
};
#define NSCENARIOS (sizeof scenarios / sizeof scenarios[0])

/* Run scenario s in a fresh process; its stderr into out. Returns the wait status, or -1
 * when it did not end within TIMEOUT_S (then it is killed). */
static int run_child(const scenario_t *s, char *out, size_t size) {
  int fds[2];
  if (pipe(fds) != 0) return -2;
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    dup2(fds[1], 2);
    close(fds[0]);
    execl("/proc/self/exe", "exit_scenarios", "run", s->name, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  size_t len = 0;
  time_t deadline = time(NULL) + TIMEOUT_S;
  bool hung = false;
  for (;;) {
    struct pollfd p = {fds[0], POLLIN, 0};
    int left = (int)(deadline - time(NULL));
    if (left <= 0 || poll(&p, 1, left * 1000) == 0) {
      hung = true;
      break;
    }
    ssize_t got = read(fds[0], out + len, size - 1 - len);
    if (got <= 0 || (len += (size_t)got) == size - 1) break;
  }
  out[len] = '\0';
  close(fds[0]);
  int status;
  if (hung) kill(-pid, SIGKILL); /* the whole group: a hung process may have threads */
  while (!hung) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (time(NULL) > deadline) {
      hung = true;
      kill(-pid, SIGKILL);
      break;
    }
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  waitpid(pid, &status, 0);
  return -1;
}

/* Whether every '|'-separated part of want occurs in text, in order. */
static bool contains_in_order(const char *text, const char *want) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", want);
  const char *at = text;
  for (char *part = strtok(buf, "|"); part != NULL; part = strtok(NULL, "|")) {
    const char *hit = strstr(at, part);
    if (hit == NULL) return false;
    at = hit + strlen(part);
  }
  return true;
}

/* Check one scenario; prints its TAP line. */
static bool check(unsigned i, const scenario_t *s) {
  if (s->checked_only && !HRC_DEBUG) {
    printf("ok %u - %s # SKIP checked builds only\n", i, s->name);
    return true;
  }
  char out[8192];
  int status = run_child(s, out, sizeof out);
  const char *why = NULL;
  if (status == -1) why = "did not end (killed after the timeout)";
  else if (s->status >= 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == s->status))
    why = "wrong exit status";
  else if (s->status < 0 && !(WIFSIGNALED(status) && WTERMSIG(status) == -s->status))
    why = "wrong signal";
  else if (!contains_in_order(out, s->want)) why = "stderr lacks the expected text";
  else if (s->refuse != NULL && strstr(out, s->refuse) != NULL) why = "stderr has unexpected text";
  if (why == NULL) {
    printf("ok %u - %s\n", i, s->name);
    return true;
  }
  printf("not ok %u - %s: %s\n", i, s->name, why);
  printf("# status %d (exited %d, signal %d), stderr:\n", status,
         WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n"))
    printf("#   %s\n", line);
  return false;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "run") == 0) {
    for (size_t i = 0; i < NSCENARIOS; i++) {
      if (strcmp(argv[2], scenarios[i].name) == 0) {
        scenarios[i].run();
        fprintf(stderr, "returned\n");
        return 0;
      }
    }
    fprintf(stderr, "no scenario %s\n", argv[2]);
    return 127;
  }
  printf("1..%zu\n", NSCENARIOS);
  bool ok = true;
  for (size_t i = 0; i < NSCENARIOS; i++) ok &= check((unsigned)i + 1, &scenarios[i]);
  return ok ? 0 : 1;
}
