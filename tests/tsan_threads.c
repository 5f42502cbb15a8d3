/* tsan_threads.c: the threaded scenarios as a plain TAP program, for the ThreadSanitizer lane
 * (Criterion cannot start under TSan). Any race TSan sees ends the run (halt_on_error=1). */
#include <stdio.h>

#include "thread_scenarios.h"

static const char *two_threads(void) { return ts_threads_drop_shared_list(2, 20); }
static const char *four_threads(void) { return ts_threads_drop_shared_list(4, 10); }

int main(void) {
  struct {
    const char *name;
    const char *(*run)(void);
  } tests[] = {
      {"two threads drop a shared graph from both sides", two_threads},
      {"four threads walk and drop one shared graph", four_threads},
      {"a unique graph moves to another thread", ts_unique_graph_moves_to_another_thread},
      {"threads allocate privately beside shared data", ts_private_work_beside_shared_data},
  };
  int n = (int)(sizeof tests / sizeof tests[0]), failed = 0;
  printf("1..%d\n", n);
  for (int i = 0; i < n; i++) {
    const char *err = tests[i].run();
    printf("%sok %d - %s%s%s\n", err ? "not " : "", i + 1, tests[i].name, err ? ": " : "",
           err ? err : "");
    failed += err != NULL;
  }
  return failed != 0;
}
