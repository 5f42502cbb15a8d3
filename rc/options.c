/* options.c: the environment variables hrc reads, in one table, through one parser.
 *
 * Each option has a name, a default, a range and a line saying what it does; its value is read
 * once, on first use, and a value that is not a number in range stops the program with one line
 * naming the variable, the value and what it takes. Size options take a number of bytes or a
 * number followed by K, M or G (powers of 1024). The stats report lists every option's value
 * (hrc_options_print). bdwgc's own variables (GC_FREE_SPACE_DIVISOR, GC_MARKERS...) are bdwgc's:
 * hrc only notices whether GC_FREE_SPACE_DIVISOR is set (heap/bdwgc/bdwgc.c).
 * Invariant: values[i] is valid once `once` has run; nothing writes it after.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options_internal.h"

typedef struct option_s {
  const char *name;
  uint64_t initial, min, max;
  bool size;        /* accepts K, M, G */
  const char *what; /* for the error line and the report */
} option_t;

/* The table. Keep it in hrc_option_t's order; README.md lists the same variables. */
static const option_t options[HRC_OPTION_COUNT] = {
    [HRC_OPTION_STATS] = {"HRC_STATS", 0, 0, 1, false, "print statistics at exit"},
    [HRC_OPTION_HEAP_LIMIT] = {"HRC_HEAP_LIMIT", 0, 0, UINT64_MAX, true,
                               "heap limit in bytes, 0 for none"},
    [HRC_OPTION_QUARANTINE] = {"HRC_QUARANTINE", 65536, 0, UINT32_MAX, false,
                               "freed blocks a thread's quarantine holds (checked builds)"},
    [HRC_OPTION_QUARANTINE_BYTES] = {"HRC_QUARANTINE_BYTES", (uint64_t)8 << 20, 0, UINT64_MAX, true,
                                     "bytes a thread's quarantine holds (checked builds)"},
    [HRC_OPTION_CACHE_BYTES] = {"HRC_CACHE_BYTES", HRC_CACHE_CLASS_BYTES, 0, (uint64_t)1 << 30,
                                true, "bytes of free blocks a thread keeps per size for reuse"},
    [HRC_OPTION_GC_CANDIDATES] = {"HRC_GC_CANDIDATES", 4096, 4096, (uint64_t)1 << 26, false,
                                  "possible cycle roots that start a collection (hybrid)"},
    [HRC_OPTION_GC_GROWTH] = {"HRC_GC_GROWTH", 4, 0, 1024, false,
                              "heap growth over the last collection's that starts one (hybrid; "
                              "0: bdwgc's own trigger)"},
    [HRC_OPTION_GC_GROWTH_MIN] = {"HRC_GC_GROWTH_MIN", 0, 0, UINT64_MAX, true,
                                  "allocation below which growth starts no collection (hybrid; "
                                  "0: an eighth of physical memory, at least 256M)"},
    [HRC_OPTION_GC_WARNINGS] = {"HRC_GC_WARNINGS", 0, 0, 1, false, "show bdwgc's warnings"},
    [HRC_OPTION_GC_INTERIOR_POINTERS] = {"HRC_GC_INTERIOR_POINTERS", 0, 0, 1, false,
                                         "keep bdwgc's interior pointers (for measuring)"},
};

static uint64_t values[HRC_OPTION_COUNT];
static bool from_environment[HRC_OPTION_COUNT];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* The number s spells, with a K/M/G suffix for size options; false when it is not one. */
static bool parse(const option_t *o, const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long n = strtoull(s, &end, 10);
  unsigned shift = 0;
  if (o->size) {
    switch (*end) {
    case 'k':
    case 'K':
      shift = 10, end++;
      break;
    case 'm':
    case 'M':
      shift = 20, end++;
      break;
    case 'g':
    case 'G':
      shift = 30, end++;
      break;
    default:
      break;
    }
  }
  if (end == s || *end != '\0' || errno != 0 || *s == '-' || n > (UINT64_MAX >> shift))
    return false;
  *out = (uint64_t)n << shift;
  return true;
}

/* Read one option from the environment, or take its default. */
static void read_option(int i) {
  const option_t *o = &options[i];
  values[i] = o->initial;
  const char *s = getenv(o->name);
  if (s == NULL || *s == '\0') return;
  uint64_t v;
  if (!parse(o, s, &v))
    hrc_fatal("%s=%s is not a %s (%s)", o->name, s,
              o->size ? "size (bytes, or a number followed by K, M or G)" : "number", o->what);
  if (v < o->min || v > o->max)
    hrc_fatal("%s=%s is out of range (%llu..%llu: %s)", o->name, s, (unsigned long long)o->min,
              (unsigned long long)o->max, o->what);
  values[i] = v;
  from_environment[i] = true;
}

static void read_all(void) {
  for (int i = 0; i < HRC_OPTION_COUNT; i++) read_option(i);
}

/* HRC_GC_GROWTH_MIN's 0: hybrid's safety net is for garbage no count saw (a lowering's
 * missing drop); set lower, it costs a large acyclic program a collection that finds nothing
 * (rbtree-ck at 4.2M keys: 1.12x rc's CPU time with 256 MiB, 1.06x without; docs/backstop.md). */
uint64_t hrc_growth_min_default(void) {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  uint64_t eighth = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page / 8 : 0;
  return eighth > ((uint64_t)256 << 20) ? eighth : (uint64_t)256 << 20;
}

uint64_t hrc_option(hrc_option_t which) {
  pthread_once(&once, read_all);
  return values[which];
}

void hrc_options_print(FILE *out) {
  pthread_once(&once, read_all);
  for (int i = 0; i < HRC_OPTION_COUNT; i++)
    fprintf(out, "    %-26s %llu%s\n", options[i].name, (unsigned long long)values[i],
            from_environment[i] ? " (set)" : "");
}
