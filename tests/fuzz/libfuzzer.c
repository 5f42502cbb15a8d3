/* libfuzzer.c: the harness as a libFuzzer target (scripts/fuzz builds it with clang).
 * The final-collection check only counts here: under libFuzzer, words no object should be
 * found through stay where bdwgc scans them: libFuzzer's tables of recently compared values
 * (trace-cmp; the check failed after 64 inputs) and, without those, a word 7 KB below the top
 * of the worker thread's stack (after 2,015 inputs; the same input passes in the deterministic
 * driver, where CI keeps the check strict): stale words that conservative scanning takes for
 * references. The other checks stay fatal. */
#include "mutator.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  hrc_fuzz_strict_gc = false;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return hrc_fuzz_run(data, size); }
