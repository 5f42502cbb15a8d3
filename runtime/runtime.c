/* runtime.c: the one file that knows both rc and defer. When the library loads it wires the
 * defer layer into rc's hooks: a registering thread gets its defer state (made up front, so
 * that a panic never needs memory), an ending or detaching thread gives it back (refusing
 * while frames are entered), and an allocation that finds no memory panics with the
 * out-of-memory value. rc calls nothing above it; defer calls into rc only.
 *
 * It also defines the variant symbol every program refers to (hrc_config.h): so this file is
 * part of every program that uses hrc, static linking included, and its constructor runs.
 */
#include "defer_internal.h"
#include "rc_internal.h"

/* This library's variant: programs compiled for it refer to this symbol. */
const char HRC_VARIANT_SYMBOL = 1;

static void thread_enter(void) { hrc_defer_thread_enter(); }

static void thread_leave(bool detaching) { hrc_defer_thread_exit(detaching); }

static void out_of_memory(void) { hrc_panic(hrc_out_of_memory_value()); }

/* Before main, and before any thread registers. */
__attribute__((constructor)) static void wire_layers(void) {
  hrc_set_thread_hooks((hrc_thread_hooks_t){thread_enter, thread_leave});
  hrc_set_out_of_memory_hook(out_of_memory);
}
