/* test_misuse.c: what a program gets when memory runs out or hrc is misused, in every mode.
 *
 * Out of memory (a heap limit, or a request no heap can satisfy) is a panic with the
 * out-of-memory value that a deferred call can recover, after which the program goes on and
 * allocates again; unrecovered it prints one panic line and exits with status 2. The limit
 * comes from hrc_set_heap_limit or HRC_HEAP_LIMIT (a bad value is one fatal line). A panic
 * on a thread hrc was never told about works like any panic; recover outside a deferred call
 * returns nil as in Go, and a token no deferred call was given is one fatal line. The counting
 * misuses (double drop, dup after free, foreign pointers) are in test_checks.c: only checked
 * builds can see them.
 * This suite has no .init: the tests that set HRC_HEAP_LIMIT must make the first hrc call.
 */
#include "common.h"

/* What a filling loop builds: cells in arrays of CHUNK, the arrays in a static table that
 * bdwgc scans. Not one long list: a conservative collector may find a stale word pointing
 * into a list and keep its whole tail (bdwgc alone does that to a 300,000-cell list). */
#define CHUNK  250 /* 2024-byte arrays: bdwgc's small objects go up to 2048 bytes */
#define CHUNKS 8192
static hrc_array_t *chunks[CHUNKS];
static volatile size_t nchunks;
static hrc_obj_t *caught; /* what the deferred recover took */

static hrc_obj_t *catch_code(hrc_closure_t *self) {
  hrc_recover_t tok = hrc_recover_token(self);
  hrc_drop(&self->header);
  caught = hrc_recover(tok);
  return NULL;
}

/* Allocate and keep cell number n (its array first: a cell whose array could not be had would
 * be lost to the panic, as any value a frame discarded by a landing owned). */
static void keep_cell(size_t n) {
  if (n % CHUNK == 0) {
    cr_assert(nchunks < CHUNKS, "the heap limit was not enforced");
    chunks[nchunks] = hrc_array_alloc(CHUNK);
    nchunks = nchunks + 1;
  }
  chunks[nchunks - 1]->items[n % CHUNK] = mk_cons(hrc_box_int((intptr_t)n), hrc_box_int(0));
}

/* Allocate and keep cons cells until an allocation panics; a deferred recover catches it.
 * Returns the cells built. */
static size_t fill_until_panic(void) {
  hrc_frame_t fr;
  hrc_landing_t land;
  volatile size_t n = 0;
  caught = NULL;
  hrc_frame_enter(&fr);
  if (HRC_FRAME_LANDING(&fr, &land)) goto out;
  hrc_defer_open(&fr, 0, hrc_closure_alloc((hrc_code_t)catch_code, 0, 0));
  for (;;) {
    keep_cell(n);
    n = n + 1;
  }
out:
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  return n;
}

/* Give up what was kept (gc: leave it to the collector). */
static __attribute__((noinline)) void drop_kept(void) {
  for (size_t i = 0; i < nchunks; i++) {
    hrc_drop(&chunks[i]->header);
    chunks[i] = NULL;
  }
  nchunks = 0;
}

/* Overwrite a stretch of stack, so that no stale copy of a pointer keeps an object alive. */
static __attribute__((noinline)) void scrub_stack(void) {
  volatile char junk[16384];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = 0;
}

/* drop_kept, then a collection. */
static void give_back(void) {
  drop_kept();
  scrub_stack();
  hrc_collect();
}

static bool is_out_of_memory(hrc_obj_t *v) {
  const char *text = hrc_value_text(v);
  if (v == NULL || !hrc_is_out_of_memory(v) || text == NULL) return false;
  const hrc_bytes_t *message = (const hrc_bytes_t *)((hrc_error_t *)v)->message;
  return strcmp(text, "runtime error: out of memory") == 0 && message->len == strlen(text);
}

/* Fill the heap up to `limit`, recover, check how far it went, give it back, and show the
 * program can allocate as much again. */
static void fill_recover_and_go_on(size_t limit) {
  int64_t live0 = hrc_live_objects();
  size_t cells = fill_until_panic();
  cr_assert(is_out_of_memory(caught), "the panic value is the out-of-memory error");
  size_t in_use = hrc_heap_in_use();
  cr_assert(in_use <= limit + (512u << 10), "heap %zu bytes at the panic, limit %zu", in_use, limit);
  cr_assert(cells * sizeof(cons_t) >= limit / 4, "only %zu cells fit under %zu bytes", cells, limit);
  give_back();
  size_t again = fill_until_panic();
  cr_assert(is_out_of_memory(caught));
  cr_assert(again * 10 >= cells * 9, "after giving the cells back, %zu cells fit (first %zu)", again,
            cells);
  give_back();
  if (HRC_COUNTING) cr_assert(eq(i64, hrc_live_objects() - live0, 0), "nothing left behind");
}

Test(limit, reaching_the_heap_limit_is_a_recoverable_panic, .timeout = 120) {
  size_t limit = 16u << 20;
  hrc_set_heap_limit(limit);
  cr_assert(eq(sz, hrc_heap_limit(), limit));
  fill_recover_and_go_on(limit);
}

Test(limit, heap_limit_from_the_environment, .timeout = 120) {
  cr_assert(eq(int, setenv("HRC_HEAP_LIMIT", "12M", 1), 0));
  cr_assert(eq(sz, hrc_heap_limit(), 12u << 20), "HRC_HEAP_LIMIT read at the first hrc call");
  fill_recover_and_go_on(12u << 20);
}

/* rc counts a cache-class block by its header's size: a large block reused for a cons and
 * then cached and freed as a cons must not leave its difference in the count. 100,000 of
 * them would leave 30 MB behind; rc's caches hold under a megabyte. (Release rc only: checked
 * builds quarantine the blocks, and hybrid's caches hold a cons-class list of 6 MiB worth of
 * cons cells, here each in a 352-byte block.) */
Test(limit, the_heap_count_follows_reuse_at_another_size) {
#if !defined(HRC_MODE_RC) || HRC_DEBUG
  cr_skip_test("the count is rc's own (release builds)");
#endif
  hrc_collect();
  size_t before = hrc_heap_in_use();
  for (int i = 0; i < 100000; i++) {
    hrc_array_t *big = hrc_array_alloc(40); /* 42 words: larger than any cache class */
    for (size_t k = 0; k < 40; k++) big->items[k] = hrc_box_int(0);
    hrc_reuse_t tok = hrc_drop_reuse(&big->header);
    cons_t *c = (cons_t *)hrc_alloc_at(tok, sizeof(cons_t), CONS_TAG, 2);
    c->head = hrc_box_int(i);
    c->tail = hrc_box_int(0);
    hrc_drop(&c->header);
  }
  hrc_collect();
  size_t after = hrc_heap_in_use();
  cr_assert(after < before + (4u << 20), "heap count %zu bytes before, %zu after", before, after);
}

static void bad_limit(void *arg) {
  (void)arg;
  setenv("HRC_HEAP_LIMIT", "12Q", 1);
  hrc_drop(mk_cons(hrc_box_int(1), hrc_box_int(2)));
}

Test(limit, a_bad_heap_limit_value_is_one_line) {
  expect_fatal(bad_limit, NULL, "HRC_HEAP_LIMIT=12Q is not a size");
}

static hrc_obj_t *huge_in_frame(void) {
  hrc_frame_t fr;
  hrc_landing_t land;
  caught = NULL;
  hrc_frame_enter(&fr);
  if (HRC_FRAME_LANDING(&fr, &land)) goto out;
  hrc_defer_open(&fr, 0, hrc_closure_alloc((hrc_code_t)catch_code, 0, 0));
  hrc_bytes_alloc(SIZE_MAX / 2);
  cr_assert(false, "an impossible allocation returned");
out:
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  return caught;
}

Test(limit, an_impossible_allocation_panics_with_out_of_memory) {
  cr_assert(is_out_of_memory(huge_in_frame()));
  hrc_obj_t *c = mk_cons(hrc_box_int(1), hrc_box_int(2)); /* and the heap still works */
  cr_assert(eq(i64, hrc_unbox_int(as_cons(c)->head), 1));
  hrc_drop(c);
}

static void huge_unrecovered(void *arg) {
  (void)arg;
  hrc_bytes_alloc(SIZE_MAX / 2);
}

/* Run fn in a child: it must exit with status 2 after printing exactly `want`. */
static void expect_panic_exit(void (*fn)(void *), void *arg, const char *want) {
  char out[4096];
  int status = run_in_child(fn, arg, true, out, sizeof out);
  bool exited_2 = WIFEXITED(status) && WEXITSTATUS(status) == 2;
  cr_assert(exited_2, "status %d, output:\n%s", status, out);
  cr_assert(eq(str, out, (char *)want));
}

Test(limit, unrecovered_out_of_memory_is_one_panic_line) {
  expect_panic_exit(huge_unrecovered, NULL, "panic: runtime error: out of memory\n");
}

/* ---- threads hrc was never told about ---- */

static void *foreign_panic(void *arg) {
  (void)arg;
  hrc_panic_str("boom on a foreign thread");
}

static void panic_on_foreign_thread(void *arg) {
  (void)arg;
  pthread_t t;
  pthread_create(&t, NULL, foreign_panic, NULL); /* not hrc_thread_create, never attached */
  pthread_join(t, NULL);
}

Test(foreign, a_panic_on_a_thread_never_attached_is_an_ordinary_panic) {
  expect_panic_exit(panic_on_foreign_thread, NULL, "panic: boom on a foreign thread\n");
}

static void *foreign_recover(void *arg) {
  hrc_frame_t fr;
  hrc_landing_t land;
  hrc_frame_enter(&fr);
  if (HRC_FRAME_LANDING(&fr, &land)) goto out;
  hrc_defer_open(&fr, 0, hrc_closure_alloc((hrc_code_t)catch_code, 0, 0));
  hrc_panic_str("caught on a foreign thread");
out:
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  *(bool *)arg = caught != NULL && strcmp(hrc_value_text(caught), "caught on a foreign thread") == 0;
  hrc_xdrop(caught);
  caught = NULL;
  return NULL;
}

Test(foreign, a_thread_never_attached_recovers_its_panic) {
  bool ok = false;
  pthread_t t;
  cr_assert(eq(int, pthread_create(&t, NULL, foreign_recover, &ok), 0));
  pthread_join(t, NULL);
  cr_assert(ok, "the foreign thread recovered its own panic");
}

/* ---- recover where it cannot recover ---- */

static hrc_obj_t *outside_value;

/* A function a deferred call calls: recover there is not called by the deferred call itself,
 * so Go's recover returns nil and the panic goes on. */
static void helper_recovers(void) { outside_value = hrc_recover(HRC_NO_RECOVER); }

static hrc_obj_t *deferred_calls_helper(hrc_closure_t *self) {
  hrc_drop(&self->header);
  helper_recovers();
  return NULL;
}

Test(recover, outside_a_deferred_call_it_returns_nil_and_the_panic_goes_on) {
  cr_assert(eq(ptr, hrc_recover(HRC_NO_RECOVER), NULL), "no panic, no deferred call");
  hrc_frame_t fr;
  hrc_landing_t land;
  caught = NULL;
  outside_value = (hrc_obj_t *)1;
  hrc_frame_enter(&fr);
  if (HRC_FRAME_LANDING(&fr, &land)) goto out;
  hrc_defer_open(&fr, 0, hrc_closure_alloc((hrc_code_t)catch_code, 0, 0));
  hrc_defer_open(&fr, 1, hrc_closure_alloc((hrc_code_t)deferred_calls_helper, 0, 0));
  hrc_panic_str("still panicking");
out:
  hrc_defer_run_slot(&fr, 1);
  hrc_defer_run_slot(&fr, 0);
  hrc_frame_leave(&fr);
  cr_assert(eq(ptr, outside_value, NULL), "the helper's recover returned nil");
  cr_assert(caught != NULL && strcmp(hrc_value_text(caught), "still panicking") == 0,
            "the deferred recover below took the panic");
  hrc_drop(caught);
}

static void forged_token(void *arg) {
  (void)arg;
  hrc_recover((hrc_recover_t)123456789);
}

Test(recover, a_token_no_deferred_call_was_given_is_one_line) {
  expect_fatal(forged_token, NULL, "recover with token 123456789");
}

/* ---- unchecked misuses that every build now stops or survives ---- */

/* A `const` immortal constant sits in read-only memory: marking it acyclic writes nothing
 * (it used to write the flags byte and fault). */
static const hrc_obj_t const_immortal = HRC_IMMORTAL_HEADER(3, 0, 1);

Test(misuse, set_acyclic_on_a_const_immortal_object_writes_nothing) {
  hrc_obj_t *volatile hidden = (hrc_obj_t *)&const_immortal; /* no folding the write away */
  hrc_obj_t *o = hidden;
  hrc_set_acyclic(o);
  hrc_drop(o);
  cr_assert(eq(u8, o->flags, 0));
}

static void closure_without_code(void *arg) {
  (void)arg;
  hrc_alloc(8, HRC_TAG_CLOSURE, 0);
}

/* Every environment variable goes through one validated parser (rc/options.c). */
static void bad_quarantine(void *arg) {
  (void)arg;
  setenv("HRC_QUARANTINE", "lots", 1);
  hrc_drop(hrc_alloc(16, 1, 0));
  for (int i = 0; i < 3; i++) hrc_drop(mk_cons(hrc_box_int(i), hrc_box_int(0)));
  hrc_stats_print(); /* every build reads the options for the report */
}

static void candidates_out_of_range(void *arg) {
  (void)arg;
  setenv("HRC_GC_CANDIDATES", "3", 1);
  hrc_stats_print();
}

static void cache_bytes_out_of_range(void *arg) {
  (void)arg;
  setenv("HRC_CACHE_BYTES", "2G", 1);
  hrc_drop(mk_cons(hrc_box_int(1), hrc_box_int(0)));
}

Test(misuse, environment_variables_are_validated) {
  expect_fatal(bad_quarantine, NULL, "HRC_QUARANTINE=lots is not a number");
  expect_fatal(candidates_out_of_range, NULL, "HRC_GC_CANDIDATES=3 is out of range (4096..");
  expect_fatal(cache_bytes_out_of_range, NULL, "HRC_CACHE_BYTES=2G is out of range (0..");
}

/* HRC_CACHE_BYTES bounds what a thread keeps per size, through the library's frees and the
 * inline ones of generated code (hrc_free_cell, hrc_reuse_free) alike: in rc a `freed` list and
 * the `ready` list it became, each at most the bound. A traced heap keeps what overflows on its
 * spill stack until the next collection (cache_internal.h), so there the tiny bound exercises
 * the spill on every 170th free. Must make the first hrc call (the option is read once). */
Test(misuse, cache_bytes_bounds_each_size_class) {
  cr_assert(eq(int, setenv("HRC_CACHE_BYTES", "4K", 1), 0));
  hrc_obj_t *xs = hrc_box_int(0);
  for (int i = 0; i < 2000; i++) xs = mk_cons(hrc_box_int(i), xs);
  hrc_drop(xs); /* 2,000 x 24 bytes through the free walk */
  size_t after_drop = hrc_cache_bytes();
  for (int i = 0; i < 2000; i++) hrc_free_cell(mk_cons(hrc_box_int(i), hrc_box_int(0)));
  for (int i = 0; i < 2000; i++)
    hrc_reuse_free(hrc_drop_reuse(mk_cons(hrc_box_int(i), hrc_box_int(0))));
  size_t after_inline = hrc_cache_bytes();
#if !HRC_DEBUG && HRC_COUNTING && !HRC_TRACING
  bool bounded = after_drop <= 2 * 4096 && after_inline <= 2 * 4096;
  cr_assert(bounded, "caches hold %zu and %zu bytes with HRC_CACHE_BYTES=4K", after_drop,
            after_inline);
  cr_assert(gt(sz, after_inline, 0), "a freed cell waits in the cache");
#else
  (void)after_drop, (void)after_inline;
#endif
  hrc_obj_t *ys = hrc_box_int(0); /* and the blocks serve allocations again */
  for (int i = 0; i < 2000; i++) ys = mk_cons(hrc_box_int(i), ys);
  hrc_drop(ys);
}

Test(misuse, a_closure_without_room_for_its_code_is_one_line) {
  expect_fatal(closure_without_code, NULL, "closure with 0 scanned fields");
}

/* ---- the checked build's quarantine and poisoning stay near release memory ---- */

#if HRC_DEBUG && HRC_COUNTING
/* The quarantine is bounded in bytes too (HRC_QUARANTINE_BYTES, default 8 MiB): 10,000 dead
 * 8 KiB arrays (80 MB) are not all held back. It held 65,536 blocks whatever their size. */
Test(misuse, the_quarantine_holds_a_bounded_number_of_bytes) {
  size_t before = hrc_heap_in_use();
  for (int i = 0; i < 10000; i++) hrc_drop(hrc_array_obj(hrc_array_alloc(1000)));
  size_t grew = hrc_heap_in_use() - before;
  cr_assert(lt(sz, grew, (size_t)40 << 20), "the heap grew by %zu bytes", grew);
}

/* Resident memory of this process, in bytes. */
static size_t rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  cr_assert(f != NULL);
  unsigned long pages = 0, resident = 0;
  cr_assert(eq(int, fscanf(f, "%lu %lu", &pages, &resident), 2));
  fclose(f);
  return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* A dead 1 GiB object that was never written is poisoned at its edges only: freeing it does
 * not make it resident (it was written whole: 2 GB of RSS for a 2 GiB object). */
Test(misuse, a_huge_object_dies_without_being_written_whole) {
  hrc_obj_t *big = hrc_alloc((size_t)1 << 30, 1, 0);
  size_t before = rss_bytes();
  hrc_drop(big);
  size_t after = rss_bytes();
  cr_assert(lt(sz, after, before + ((size_t)64 << 20)), "RSS %zu -> %zu", before, after);
}
#endif

#if HRC_DEBUG && defined(HRC_MODE_RC)
/* A 1 TiB block that mimalloc hands out without touching: its free must not touch it either
 * (the checked build was killed writing its poison). */
Test(misuse, a_terabyte_object_can_be_dropped) {
  hrc_obj_t *huge = hrc_alloc((size_t)1 << 40, 1, 0);
  hrc_drop(huge);
}
#endif

#if HRC_COUNTING
/* A C struct on the stack shaped like an object with one reference: its drop must not put
 * the stack into a cache (the next allocation returned the stack address). Release builds
 * check that a dying object lies in the heap; checked builds find it has no block cookie. */
static void drop_stack_struct(void *arg) {
  (void)arg;
  struct {
    uint64_t pad[2];
    hrc_obj_t header;
    hrc_obj_t *f[2];
  } fake = {{0, 0}, {.rc = HRC_RC_UNIQUE, .tag = 1, .scan = 2, .words = 3}, {NULL, NULL}};
  fake.f[0] = fake.f[1] = hrc_box_int(0);
  hrc_drop(&fake.header);
  hrc_obj_t *next = hrc_alloc(24, 1, 2);
  printf("next allocation %s the stack\n", next == &fake.header ? "is" : "is not");
}

Test(misuse, dropping_a_struct_hrc_never_allocated_is_one_line) {
  expect_fatal(drop_stack_struct, NULL, HRC_DEBUG ? "which hrc never allocated" : "not in hrc's heap");
}
#endif
