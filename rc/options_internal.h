/* options_internal.h: the environment variables hrc reads (rc/options.c has the table). */
#ifndef HRC_OPTIONS_INTERNAL_H
#define HRC_OPTIONS_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "hrc.h"

typedef enum hrc_option_e {
  HRC_OPTION_STATS,
  HRC_OPTION_HEAP_LIMIT,
  HRC_OPTION_QUARANTINE,
  HRC_OPTION_QUARANTINE_BYTES,
  HRC_OPTION_CACHE_BYTES,
  HRC_OPTION_GC_CANDIDATES,
  HRC_OPTION_GC_GROWTH,
  HRC_OPTION_GC_GROWTH_MIN,
  HRC_OPTION_GC_WARNINGS,
  HRC_OPTION_GC_INTERIOR_POINTERS,
  HRC_OPTION_COUNT
} hrc_option_t;

/* The option's value: from the environment (validated: a bad value is one fatal line) or its
 * default. Read once, on the first call. */
__attribute__((visibility("hidden"))) uint64_t hrc_option(hrc_option_t which);
/* What HRC_GC_GROWTH_MIN=0 (its default) stands for: an eighth of physical memory, at least
 * 256 MiB. */
__attribute__((visibility("hidden"))) uint64_t hrc_growth_min_default(void);
/* Every option and its value, one per line (the stats report). */
__attribute__((visibility("hidden"))) void hrc_options_print(FILE *out);

#endif
