/* mutator.h: the fuzzing harness's entry (mutator.c), shared by the libFuzzer target and the
 * deterministic driver. */
#ifndef HRC_FUZZ_MUTATOR_H
#define HRC_FUZZ_MUTATOR_H

#include <stddef.h>
#include <stdint.h>

#include "hrc.h"

/* Run one input as a mutator program against the shadow model; aborts with one line naming
 * the failed check. */
int hrc_fuzz_run(const uint8_t *data, size_t size);
/* Named in that line: the driver sets it to the seed or file being run. */
extern const char *hrc_fuzz_label;
/* gc, hybrid: fail when an object survives the final collections (default; false: count it). */
extern bool hrc_fuzz_strict_gc;
/* Objects that survived final collections so far. */
extern int64_t hrc_fuzz_survivors;

#endif
