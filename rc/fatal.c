/* fatal.c: the one-line fatal errors every misuse ends in, and the names they use.
 *
 * A fatal error prints "hrc: <message>" on one line to stderr and aborts: tests look for
 * exactly one such line (tests/common.h, expect_fatal).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "rc_internal.h"

/* Print "hrc: <message>" on one line and abort. */
void hrc_fatal(const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  fprintf(stderr, "hrc: %s\n", line);
  fflush(stderr);
  abort();
}

/* No memory for a runtime record (a thread's cache or defer state, a defer record chunk):
 * nothing to panic with, so one line that says so. Objects panic instead (rc/oom.c). */
void hrc_out_of_memory(size_t size) {
  hrc_fatal("out of memory allocating %zu bytes for the runtime's own records", size);
}

const char *hrc_op_name(hrc_op_t op) {
  switch (op) {
  case HRC_OP_DUP:
    return "dup";
  case HRC_OP_DROP:
    return "drop";
  case HRC_OP_DECREF:
    return "decref";
  case HRC_OP_DROP_REUSE:
    return "drop_reuse";
  case HRC_OP_FREE_CELL:
    return "free_cell";
  case HRC_OP_REUSE_CELL:
    return "reuse_cell";
  case HRC_OP_IS_UNIQUE:
    return "is_unique";
  case HRC_OP_SHARE:
    return "share";
  case HRC_OP_ALLOC_AT:
    return "alloc_at";
  case HRC_OP_FREE_TOKEN:
    return "reuse_free";
  }
  return "operation";
}
