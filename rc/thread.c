/* thread.c: per-thread registration with the runtime.
 *
 * A thread registers itself the first time it allocates or frees (hrc_thread_ensure): its
 * counters join the stats registry and a pthread key destructor is armed, which at thread exit
 * folds its counters into the totals and returns its cached blocks (checked builds: its
 * quarantined blocks) to the heap.
 * The first registration in the process also reads the environment (HRC_STATS).
 * In the tracing modes the first registration also starts bdwgc, and a thread bdwgc does not
 * know yet is registered with it (backstop/backstop.c).
 */
#include <pthread.h>

#include "cache_internal.h"
#include "defer_internal.h"
#include "rc_internal.h"
#if HRC_TRACING
#include "backstop_internal.h"
#endif

HRC_TLS bool hrc_thread_registered;
static int64_t attached; /* threads registered now: each owns root records (cache, defer state) */
static pthread_key_t exit_key;
static pthread_once_t process_once = PTHREAD_ONCE_INIT;

/* Runs at thread exit (pthread key destructor): release what the thread holds. */
static void thread_exit(void *unused) {
  (void)unused;
  hrc_defer_thread_exit();
  hrc_stats_thread_exit();
#if HRC_DEBUG
  hrc_debug_thread_exit();
#else
  hrc_cache_thread_exit();
#endif
#if defined(HRC_MODE_RC)
  hrc_heap_thread_exit();
#endif
#if HRC_TRACING
  hrc_backstop_thread_exit();
#endif
  hrc_thread_registered = false;
  __atomic_sub_fetch(&attached, 1, __ATOMIC_RELAXED);
}

size_t hrc_attached_threads(void) { return (size_t)__atomic_load_n(&attached, __ATOMIC_RELAXED); }

/* Once per process: the exit key and the environment. */
static void process_init(void) {
  if (pthread_key_create(&exit_key, thread_exit) != 0) hrc_fatal("cannot create a thread key");
#if HRC_TRACING
  hrc_backstop_init();
#endif
  hrc_stats_process_init();
  hrc_limit_process_init();
}

/* First use in this thread: join the registry and arm the exit hook. */
void hrc_thread_register(void) {
  pthread_once(&process_once, process_init);
#if HRC_TRACING
  hrc_backstop_thread_enter();
#endif
  hrc_thread_registered = true;
  __atomic_add_fetch(&attached, 1, __ATOMIC_RELAXED);
#if !HRC_DEBUG
  hrc_cache_thread_enter();
#endif
  hrc_stats_thread_enter();
  pthread_setspecific(exit_key, (void *)&hrc_thread_registered);
}

void hrc_thread_attach(void) { hrc_thread_ensure(); }

/* Release this thread's runtime state now (a foreign thread about to stop using hrc). */
void hrc_thread_detach(void) {
  if (!hrc_thread_registered) return;
  pthread_setspecific(exit_key, NULL);
  thread_exit(NULL);
}

#if !HRC_TRACING
/* Nothing to collect without a tracer, nor to pace. */
void hrc_collect(void) {}
void hrc_gc_set_candidate_threshold(uint64_t n) { (void)n; }
void hrc_gc_set_divisor(unsigned divisor) { (void)divisor; }

int hrc_thread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                      void *arg) {
  hrc_thread_attach();
  return pthread_create(thread, attr, start, arg);
}

int hrc_thread_join(pthread_t thread, void **result) { return pthread_join(thread, result); }
#endif
