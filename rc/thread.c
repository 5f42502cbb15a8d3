/* thread.c: per-thread registration with the runtime.
 *
 * A thread registers itself the first time it allocates or frees (hrc_thread_ensure): its
 * counters join the stats registry and a pthread key destructor is armed, which at thread exit
 * folds its counters into the totals and returns its cached blocks (checked builds: its
 * quarantined blocks) to the heap.
 * The first registration in the process also reads the environment (rc/options.c) and starts
 * the heap, and each registration makes the thread known to the heap (heap/heap.h: bdwgc must
 * know every thread whose stack may hold references).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cache_internal.h"
#include "options_internal.h"
#include "rc_internal.h"

HRC_API HRC_THREAD_LOCAL bool hrc_thread_registered;
static int64_t attached; /* threads registered now: each owns root records (cache, defer state) */

/* Threads other than the main one that may still run hrc code: those hrc_thread_create made
 * (from creation to their end) and foreign threads while registered. A main thread that
 * called hrc_thread_exit waits for this to reach 0 (hrc_thread_main_exit). */
static int64_t others;
static pthread_mutex_t others_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t others_done = PTHREAD_COND_INITIALIZER;
static HRC_THREAD_LOCAL bool counted_as_other; /* this thread is in `others` */

/* One more thread that may run hrc code. */
static void others_add(void) {
  pthread_mutex_lock(&others_lock);
  others++;
  pthread_mutex_unlock(&others_lock);
}

/* One less; the last one wakes a waiting main thread. */
static void others_remove(void) {
  pthread_mutex_lock(&others_lock);
  if (--others == 0) pthread_cond_broadcast(&others_done);
  pthread_mutex_unlock(&others_lock);
}

/* Whether this is the process's main thread (its thread id is the process id). */
static bool is_main_thread(void) { return (pid_t)syscall(SYS_gettid) == getpid(); }
static pthread_key_t exit_key;
static pthread_once_t process_once = PTHREAD_ONCE_INIT;

static hrc_thread_hooks_t hooks; /* runtime/runtime.c */

void hrc_set_thread_hooks(hrc_thread_hooks_t h) { hooks = h; }

/* Release what this thread holds: at its end (detaching false) or at hrc_thread_detach. */
static void release_thread(bool detaching) {
  if (hooks.leave != NULL) hooks.leave(detaching);
  hrc_free_pending_all();
  if (counted_as_other) {
    counted_as_other = false;
    others_remove();
  }
  hrc_stats_thread_exit();
#if HRC_DEBUG
  hrc_debug_thread_exit();
#else
  hrc_cache_thread_exit();
#endif
  hrc_heap_thread_exit();
  hrc_thread_registered = false;
  __atomic_sub_fetch(&attached, 1, __ATOMIC_RELAXED);
}

/* Runs at thread exit (pthread key destructor). */
static void thread_exit(void *unused) {
  (void)unused;
  release_thread(false);
}

size_t hrc_attached_threads(void) { return (size_t)__atomic_load_n(&attached, __ATOMIC_RELAXED); }

/* Once per process: the exit key, the environment and the heap. */
static void process_init(void) {
  if (pthread_key_create(&exit_key, thread_exit) != 0) hrc_fatal("cannot create a thread key");
  hrc_heap_settings_t settings = {
      .show_warnings = hrc_option(HRC_OPTION_GC_WARNINGS) != 0,
      .keep_interior_pointers = hrc_option(HRC_OPTION_GC_INTERIOR_POINTERS) != 0,
      .candidate_threshold = hrc_option(HRC_OPTION_GC_CANDIDATES),
      .growth_factor = hrc_option(HRC_OPTION_GC_GROWTH),
      .growth_min = hrc_option(HRC_OPTION_GC_GROWTH_MIN) != 0 ? hrc_option(HRC_OPTION_GC_GROWTH_MIN)
                                                              : hrc_growth_min_default(),
      .before_mark = HRC_HEAP_TRACED && HRC_COUNTING ? hrc_cache_clear_all : NULL,
  };
  hrc_heap_process_init(&settings);
  hrc_stats_process_init();
  hrc_limit_process_init();
}

/* First use in this thread: join the registry and arm the exit hook. */
void hrc_thread_register(void) {
  pthread_once(&process_once, process_init);
  if (!hrc_heap_thread_enter()) hrc_fatal("cannot find this thread's stack for the collector");
  hrc_thread_registered = true;
  __atomic_add_fetch(&attached, 1, __ATOMIC_RELAXED);
#if !HRC_DEBUG
  hrc_cache_thread_enter();
#endif
  hrc_stats_thread_enter();
  if (hooks.enter != NULL) hooks.enter();
  pthread_setspecific(exit_key, (void *)&hrc_thread_registered);
  if (!counted_as_other && !is_main_thread()) { /* a foreign thread: counted while registered */
    counted_as_other = true;
    others_add();
  }
}

void hrc_thread_attach(void) { hrc_thread_ensure(); }

/* Release this thread's runtime state now (a foreign thread about to stop using hrc). The
 * defer layer refuses while a frame is entered or a panic runs (tests/exit_scenarios.c). */
void hrc_thread_detach(void) {
  if (!hrc_thread_registered) return;
  pthread_setspecific(exit_key, NULL);
  release_thread(true);
}

/* What a thread made by hrc_thread_create runs: start(arg), counted in `others` until it
 * ends, however it ends (return, hrc_thread_exit, cancellation). */
typedef struct spawn_s {
  void *(*start)(void *);
  void *arg;
} spawn_t;

/* Cleanup handler: the thread has ended. */
static void spawned_ended(void *unused) {
  (void)unused;
  if (counted_as_other) {
    counted_as_other = false;
    others_remove();
  }
}

static void *spawned(void *p) {
  spawn_t s = *(spawn_t *)p;
  hrc_heap_free(p);
  counted_as_other = true; /* hrc_thread_create counted it */
  void *result;
  pthread_cleanup_push(spawned_ended, NULL);
  result = s.start(s.arg);
  pthread_cleanup_pop(1);
  return result;
}

int hrc_thread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                      void *arg) {
  hrc_thread_attach(); /* bdwgc must be running before it can track a new thread */
  /* From the heap, scanned: arg may be an object only the new thread will hold, and until
   * that thread has copied it the collector sees it through this record, which bdwgc's own
   * start record refers to (as it referred to arg itself before this trampoline). Not root
   * memory: a GC_free'd uncollectable record made the fuzzer's final collections keep an
   * object in 2 of 8 runs (tests/fuzz, hybrid), for a reason not found. */
  spawn_t *s = hrc_heap_alloc(sizeof *s, true);
  if (s == NULL) return EAGAIN;
  *s = (spawn_t){start, arg};
  others_add();
  int err = hrc_heap_thread_create(thread, attr, spawned, s);
  if (err != 0) {
    hrc_heap_free(s);
    others_remove();
  }
  return err;
}

/* The main thread called hrc_thread_exit and its deferred calls have run. Go's rule: the
 * program goes on while other goroutines run, and dies with a fatal error when none is left.
 * So wait for every other thread hrc knows (made by hrc_thread_create, or attached), then
 * end the process with status 2. Never pthread_exit: on a traced heap bdwgc's marker
 * threads would keep a process whose main thread is gone alive forever. */
void hrc_thread_main_exit(void) {
  pthread_mutex_lock(&others_lock);
  while (others > 0) pthread_cond_wait(&others_done, &others_lock);
  pthread_mutex_unlock(&others_lock);
  fflush(NULL);
  fputs("fatal error: no threads left to run (the main thread called hrc_thread_exit)\n", stderr);
  fflush(stderr);
  _exit(2);
}

/* Whether the calling thread is the main one (hrc_thread_exit ends it differently). */
bool hrc_thread_is_main(void) { return is_main_thread(); }

int hrc_thread_join(pthread_t thread, void **result) {
  return hrc_heap_thread_join(thread, result);
}
