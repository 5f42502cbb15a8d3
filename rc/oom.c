/* oom.c: what happens when memory runs out.
 *
 * An allocation that fails (the heap limit, rc/limit.c, or the system out of memory) gives
 * this thread's cached blocks back, runs a full collection and tries once more; then it panics
 * with the out-of-memory value, which a deferred call can recover like any panic (an
 * unrecovered one prints "panic: runtime error: out of memory" and exits with status 2). The
 * value is immortal and each thread's defer state is made when it registers, so panicking
 * needs no memory. Runtime records that cannot be allocated end the process with one line
 * instead (hrc_out_of_memory, rc/fatal.c).
 */
#include "block_internal.h"
#include "rc_internal.h"

/* The panic value of a failed allocation: immortal, so panicking needs no memory. */
static const struct {
  hrc_obj_t header;
  size_t len;
  char data[32];
} oom_text = {HRC_IMMORTAL_HEADER(HRC_TAG_BYTES, 0, 0), sizeof "runtime error: out of memory" - 1,
              "runtime error: out of memory"};
static const hrc_error_t oom_error = {HRC_IMMORTAL_HEADER(HRC_TAG_ERROR, 1, 2),
                                      (hrc_obj_t *)&oom_text};

hrc_obj_t *hrc_out_of_memory_value(void) { return (hrc_obj_t *)&oom_error.header; }

bool hrc_is_out_of_memory(const hrc_obj_t *v) { return v == &oom_error.header; }

static void (*panic_hook)(void); /* runtime/runtime.c: panics with hrc_out_of_memory_value() */

void hrc_set_out_of_memory_hook(void (*panic)(void)) { panic_hook = panic; }

/* An object's block could not be had: free what this thread holds in reserve, collect, try
 * once more, and panic with the out-of-memory value if that fails too. */
hrc_obj_t *hrc_block_alloc_failed(size_t size, bool atomic) {
  hrc_free_pending_all();
#if HRC_DEBUG
  hrc_debug_quarantine_flush();
#else
  hrc_cache_release();
#endif
  hrc_collect();
  hrc_obj_t *o = hrc_block_alloc(size, atomic);
  if (o != NULL) return o;
  HRC_STAT_ADD(out_of_memory, 1);
  if (panic_hook != NULL) panic_hook();
  hrc_fatal("out of memory allocating an object of %zu bytes", size);
}
