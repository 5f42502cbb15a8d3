/* driver.c: the harness without libFuzzer, for CI: runs every file given (a corpus directory
 * or single inputs), then `--seeds N` pseudo-random inputs from seed `--first` (default 1),
 * each 16..`--len` bytes (default 2048). An object that survives the final collections fails
 * the run; `--lenient-gc` only counts such objects (mutator.c). The same seed is the same input on every machine.
 * Prints one line with the counts; a failed check aborts naming the seed or file. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mutator.h"

static char label[4096];

/* Run the input in file path. */
static void run_file(const char *path, size_t *inputs, size_t *bytes) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "fuzz_driver: cannot open %s\n", path);
    exit(2);
  }
  static uint8_t buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  snprintf(label, sizeof label, "file %s", path);
  hrc_fuzz_label = label;
  hrc_fuzz_run(buf, n);
  ++*inputs;
  *bytes += n;
}

/* Every regular file in dir, or path itself. */
static void run_path(const char *path, size_t *inputs, size_t *bytes) {
  DIR *d = opendir(path);
  if (d == NULL) {
    run_file(path, inputs, bytes);
    return;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", path, e->d_name);
    run_file(p, inputs, bytes);
  }
  closedir(d);
}

int main(int argc, char **argv) {
  unsigned long long seeds = 0, first = 1, len = 2048;
  size_t inputs = 0, bytes = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc) seeds = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--first") == 0 && i + 1 < argc) first = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--len") == 0 && i + 1 < argc) len = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--lenient-gc") == 0) hrc_fuzz_strict_gc = false;
    else run_path(argv[i], &inputs, &bytes);
  }
  if (len < 16) len = 16;
  static uint8_t buf[1 << 16];
  if (len > sizeof buf) len = sizeof buf;
  for (unsigned long long s = first; s < first + seeds; s++) {
    uint64_t x = s * 0x9E3779B97F4A7C15ull + 1;
    size_t n = 16 + (size_t)(x % (len - 15));
    for (size_t i = 0; i < n; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      buf[i] = (uint8_t)(x >> 24);
    }
    snprintf(label, sizeof label, "seed %llu", s);
    hrc_fuzz_label = label;
    hrc_fuzz_run(buf, n);
    inputs++;
    bytes += n;
  }
  printf("fuzz_driver %s: %zu inputs, %zu bytes, no failure; %lld objects survived final "
         "collections\n",
         hrc_variant(), inputs, bytes, (long long)hrc_fuzz_survivors);
  return 0;
}
