/* roots.c: what the embedding calls cost (hrc_roots.h): ns per scoped-slot declare+undeclare,
 * per range declare+undeclare, per handle new+release, and a full collection's pause with
 * 1,000,000 declared ranges against none. CPU time (clock_gettime of the process), medians of
 * 5 runs. Usage: roots-MODE [millions of pairs, default 10] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hrc.h"

static double cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median5(double v[5]) {
  qsort(v, 5, sizeof v[0], by_value);
  return v[2];
}

static __attribute__((noinline)) void slot_pairs(long n) {
  hrc_obj_t *slot = NULL;
  for (long i = 0; i < n; i++) {
    hrc_slot_declare(&slot);
    hrc_slot_undeclare(&slot);
  }
}

static void range_pairs(long n) {
  hrc_obj_t *slot = NULL;
  for (long i = 0; i < n; i++) hrc_root_undeclare(hrc_root_declare(&slot, sizeof slot));
}

static void handle_pairs(long n) {
  hrc_obj_t *v = hrc_alloc(sizeof(hrc_obj_t) + 16, 1, 2);
  ((hrc_obj_t **)(v + 1))[0] = hrc_box_int(1);
  ((hrc_obj_t **)(v + 1))[1] = hrc_box_int(2);
  for (long i = 0; i < n; i++) hrc_handle_release(hrc_handle_new(v));
  hrc_drop(v);
}

/* ns per call of fn(n), median of 5. */
static double per_pair(void (*fn)(long), long n) {
  double t[5];
  for (int r = 0; r < 5; r++) {
    double t0 = cpu_ns();
    fn(n);
    t[r] = (cpu_ns() - t0) / (double)n;
  }
  return median5(t);
}

/* ms of a full collection, median of 5. */
static double collection_ms(void) {
  double t[5];
  for (int r = 0; r < 5; r++) {
    double t0 = cpu_ns();
    hrc_collect();
    t[r] = (cpu_ns() - t0) / 1e6;
  }
  return median5(t);
}

int main(int argc, char **argv) {
  long n = (argc > 1 ? atol(argv[1]) : 10) * 1000000L;
  hrc_thread_attach();
  printf("%s: slot declare+undeclare %.2f ns\n", hrc_variant(), per_pair(slot_pairs, n));
  printf("%s: range declare+undeclare %.2f ns\n", hrc_variant(), per_pair(range_pairs, n / 10));
  printf("%s: handle new+release %.2f ns\n", hrc_variant(), per_pair(handle_pairs, n / 10));
  double none = collection_ms();
  enum { RANGES = 1000000 };
  hrc_obj_t **words = calloc(RANGES, sizeof *words);
  hrc_root_t *rs = malloc(RANGES * sizeof *rs);
  for (long i = 0; i < RANGES; i++) rs[i] = hrc_root_declare(&words[i], sizeof words[i]);
  double many = collection_ms();
  for (long i = 0; i < RANGES; i++) hrc_root_undeclare(rs[i]);
  printf("%s: full collection %.2f ms with no declared range, %.2f ms with 1,000,000\n",
         hrc_variant(), none, many);
  free(words);
  free(rs);
  return 0;
}
