/* libfuzzer.c: the harness as a libFuzzer target (scripts/fuzz builds it with clang). */
#include "mutator.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return hrc_fuzz_run(data, size); }
