/* debug.c: the checked build (meson -Dchecks=true): every RC operation is checked, freed
 * blocks are poisoned and quarantined.
 *
 * Each block carries a 16-byte prefix before its object: the requested size with the owning
 * thread's id in its top 16 bits, and a cookie that is the object's address xor LIVE_MAGIC
 * while it lives and xor DEAD_MAGIC once freed. So a check can tell, and name in one line:
 *   - a pointer hrc never allocated (no cookie),
 *   - a freed object (dead cookie; rc word HRC_RC_FREED, fields filled with 0xDB),
 *   - a reuse token used as an object (rc word HRC_RC_TOKEN, or HRC_RC_TOKEN_CELL for a cell
 *     whose fields moved out, which keeps them for hrc_reuse_same),
 *   - a decrement that would underflow, and unique-only operations on shared objects,
 *   - a local count touched by a thread that does not own it while its owner still runs (a
 *     missing hrc_share; see check_owner for the moves the contract allows).
 * Freed blocks wait in a per-thread FIFO before the allocator may hand them out again, so a
 * late access still finds the poison: at most HRC_QUARANTINE blocks (default 65536, 0 = none)
 * and HRC_QUARANTINE_BYTES bytes (default 8 MiB), so that a program freeing large blocks keeps
 * near its release memory. Blocks larger than POISON_WHOLE have only their first and last
 * page of fields poisoned: a 2 GiB object is not written whole when it dies.
 * Under AddressSanitizer the poisoned fields are also marked unaddressable, which catches
 * accesses the checks do not see (generated code reading a field of a freed object).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "options_internal.h"
#include "rc_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define HRC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HRC_ASAN 1
#endif
#endif
#ifdef HRC_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define LIVE_MAGIC  ((uintptr_t)0x4852434c49564521u) /* "HRCLIVE!" */
#define DEAD_MAGIC  ((uintptr_t)0x4852434445414421u) /* "HRCDEAD!" */
#define POISON_BYTE 0xDB

HRC_HIDDEN void hrc_debug_on_alloc(hrc_obj_t *o, size_t size);
HRC_HIDDEN void hrc_debug_release(hrc_obj_t *o);
HRC_HIDDEN size_t hrc_debug_requested(const hrc_obj_t *o);

/* The prefix words {requested size | owner << OWNER_SHIFT, cookie} before an object. No
 * allocation reaches 2^48 bytes (the address space is smaller), so the size fits below. */
#define OWNER_SHIFT 48
#define SIZE_MASK   (((uintptr_t)1 << OWNER_SHIFT) - 1)

static uintptr_t *prefix_of(const hrc_obj_t *o) { return (uintptr_t *)((uintptr_t)o - 16); }

/* The block (as the heap knows it) of an object. */
static void *block_of(hrc_obj_t *o) { return (char *)o - 16; }

/* The size the block was allocated for. */
static size_t size_of(const hrc_obj_t *o) { return prefix_of(o)[0] & SIZE_MASK; }

/* ---- owners: which thread a local count belongs to ----
 * Each thread that touches objects gets a 16-bit id (1..65535, then they wrap); `alive` says
 * which ids belong to threads still registered. An id is never 0. */

static uint8_t alive[1u << 16];
static uint32_t next_id;
static HRC_THREAD_LOCAL uint16_t my_id_tls;
static HRC_THREAD_LOCAL bool
    adopted_a_move; /* this thread took over a unique object of a running one */

/* This thread's id, given on first use. */
static uint16_t my_id(void) {
  if (HRC_UNLIKELY(my_id_tls == 0)) {
    uint16_t id;
    do id = (uint16_t)__atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
    while (id == 0);
    __atomic_store_n(&alive[id], 1, __ATOMIC_RELAXED);
    my_id_tls = id;
  }
  return my_id_tls;
}

static uint16_t owner_of(const hrc_obj_t *o) { return (uint16_t)(prefix_of(o)[0] >> OWNER_SHIFT); }

/* Make this thread the owner of o's local count. */
static void set_owner(hrc_obj_t *o) {
  prefix_of(o)[0] = size_of(o) | (uintptr_t)my_id() << OWNER_SHIFT;
}

void hrc_debug_on_alloc(hrc_obj_t *o, size_t size) {
  prefix_of(o)[0] = size;
  set_owner(o);
  prefix_of(o)[1] = (uintptr_t)o ^ LIVE_MAGIC;
}

size_t hrc_debug_requested(const hrc_obj_t *o) { return size_of(o); }

/* ---- quarantine ---- */

/* ---- poisoning ----
 * The fields (everything after the header) of a dead block are filled with POISON_BYTE and,
 * under ASan, marked unaddressable. Up to POISON_WHOLE bytes of fields that is all of them;
 * beyond, the first and the last POISON_EDGE bytes: writing a never-touched 2 GiB object whole
 * took 2 GB of RSS (tests/test_misuse.c "a_huge_object_dies_without_being_written_whole"). */

#define POISON_WHOLE ((size_t)64 * 1024)
#define POISON_EDGE  ((size_t)4096)

typedef void (*range_fn)(void *p, size_t n);

static void fill_poison(void *p, size_t n) { memset(p, POISON_BYTE, n); }
static void asan_poison(void *p, size_t n) { POISON(p, n); }
static void asan_unpoison(void *p, size_t n) { UNPOISON(p, n); }

/* Apply fn to the fields of o that poisoning covers. */
static void poisoned_ranges(hrc_obj_t *o, range_fn fn) {
  size_t size = size_of(o);
  if (size <= sizeof(hrc_obj_t)) return;
  char *fields = (char *)(o + 1);
  size_t n = size - sizeof(hrc_obj_t);
  if (n <= POISON_WHOLE) {
    fn(fields, n);
    return;
  }
  fn(fields, POISON_EDGE);
  fn(fields + n - POISON_EDGE, POISON_EDGE);
}

/* ---- quarantine ---- */

typedef struct quarantine_s {
  hrc_obj_t **ring;
  size_t cap, head, len;
  size_t bytes, max_bytes; /* blocks' sizes, prefixes included, and their bound */
  bool ready;
} quarantine_t;

static HRC_THREAD_LOCAL quarantine_t quarantine;

/* Hand a quarantined block back to the heap. */
static void evict(hrc_obj_t *o) {
  poisoned_ranges(o, asan_unpoison);
  hrc_heap_free(block_of(o));
}

/* Evict the oldest quarantined block. */
static void evict_oldest(quarantine_t *q) {
  hrc_obj_t *o = q->ring[q->head];
  q->bytes -= size_of(o) + 16;
  q->head = (q->head + 1) % q->cap;
  q->len--;
  evict(o);
}

/* The first push of this thread: read the bounds, make the ring. */
static void quarantine_init(quarantine_t *q) {
  q->cap = (size_t)hrc_option(HRC_OPTION_QUARANTINE);
  uint64_t max_bytes = hrc_option(HRC_OPTION_QUARANTINE_BYTES);
  q->max_bytes = max_bytes > SIZE_MAX ? SIZE_MAX : (size_t)max_bytes;
  /* Root memory: in the tracing modes the collector must not reclaim quarantined blocks. */
  q->ring = q->cap ? hrc_heap_alloc_root(q->cap * sizeof *q->ring) : NULL;
  if (q->ring == NULL) q->cap = 0;
  q->ready = true;
}

/* Keep a poisoned block out of circulation for a while; evict the oldest while either bound
 * is passed (a block larger than the byte bound goes back at once). */
static void quarantine_push(hrc_obj_t *o) {
  quarantine_t *q = &quarantine;
  if (!q->ready) quarantine_init(q);
  if (q->cap == 0) {
    evict(o);
    return;
  }
  if (q->len == q->cap) evict_oldest(q);
  q->ring[(q->head + q->len) % q->cap] = o;
  q->len++;
  q->bytes += size_of(o) + 16;
  while (q->len > 0 && q->bytes > q->max_bytes) evict_oldest(q);
}

/* Give every quarantined block back to the heap (out of memory: reuse beats detection). */
void hrc_debug_quarantine_flush(void) {
  quarantine_t *q = &quarantine;
  while (q->len > 0) evict_oldest(q);
  q->head = 0;
}

/* A traced heap scans only the stacks of threads it knows: an object a thread it does not
 * know holds can be reclaimed under it (release builds cannot tell; docs/embedding.md). */
static void check_thread_known(const void *what, hrc_op_t op) {
  if (HRC_LIKELY(hrc_thread_registered) || hrc_heap_thread_known()) return;
  hrc_fatal("%s of %p on a thread the collector does not know, whose stack it does not scan: "
            "create threads with hrc_thread_create, or call hrc_thread_attach before a thread "
            "receives objects",
            hrc_op_name(op), what);
}

/* ---- scoped slots (hrc_roots.h): this thread's declared slots, newest last ---- */

static HRC_THREAD_LOCAL struct {
  hrc_obj_t ***items;
  uint32_t n, cap;
} slots;

/* Whether slot is declared on this thread. */
static bool slot_declared(hrc_obj_t **slot) {
  for (uint32_t i = slots.n; i > 0; i--)
    if (slots.items[i - 1] == slot) return true;
  return false;
}

void hrc_debug_slot_declare(hrc_obj_t **slot) {
  if (slot_declared(slot))
    hrc_fatal("hrc_slot_declare of slot %p, which is declared already (a scope left without "
              "hrc_slot_undeclare, or declared twice)",
              (void *)slot);
  if (slots.n == slots.cap) {
    uint32_t cap = slots.cap ? slots.cap * 2 : 64;
    hrc_obj_t ***items = realloc(slots.items, cap * sizeof *items);
    if (items == NULL) hrc_out_of_memory(cap * sizeof *items);
    slots.items = items, slots.cap = cap;
  }
  slots.items[slots.n++] = slot;
}

void hrc_debug_slot_undeclare(hrc_obj_t **slot) {
  if (slots.n > 0 && slots.items[slots.n - 1] == slot) {
    slots.n--;
    return;
  }
  if (slot_declared(slot))
    hrc_fatal("hrc_slot_undeclare of slot %p out of order: slot %p, declared after it, is still "
              "declared (a scope was left without hrc_slot_undeclare)",
              (void *)slot, (void *)slots.items[slots.n - 1]);
  hrc_fatal("hrc_slot_undeclare of slot %p, which is not declared on this thread", (void *)slot);
}

void hrc_debug_thread_exit(void) {
  if (slots.n > 0)
    hrc_fatal("a thread ended with %u scoped slots declared (the newest %p): a scope was left "
              "without hrc_slot_undeclare",
              slots.n, (void *)slots.items[slots.n - 1]);
  free(slots.items);
  slots.items = NULL, slots.cap = 0;
  quarantine_t *q = &quarantine;
  hrc_debug_quarantine_flush();
  if (q->ring != NULL) hrc_heap_free_root(q->ring);
  *q = (quarantine_t){0};
  if (my_id_tls != 0) __atomic_store_n(&alive[my_id_tls], 0, __ATOMIC_RELAXED);
}

void hrc_debug_release(hrc_obj_t *o) {
  if (prefix_of(o)[1] != ((uintptr_t)o ^ LIVE_MAGIC))
    hrc_fatal("free of %p (tag %u), whose block is not live: heap corrupted", (void *)o, o->tag);
  poisoned_ranges(o, fill_poison);
  hrc_rc_store(o, HRC_RC_FREED);
  prefix_of(o)[1] = (uintptr_t)o ^ DEAD_MAGIC;
  poisoned_ranges(o, asan_poison);
  quarantine_push(o);
}

void hrc_debug_to_token(hrc_obj_t *o) {
  poisoned_ranges(o, fill_poison);
  hrc_rc_store(o, HRC_RC_TOKEN);
}

/* A unique cell whose fields the caller took over becomes a token; its fields stay, since
 * reuse specialisation (hrc_reuse_same) writes back only those that change. */
void hrc_debug_to_cell_token(hrc_obj_t *o) { hrc_rc_store(o, HRC_RC_TOKEN_CELL); }

void hrc_debug_reuse_same(hrc_obj_t *tok) {
  hrc_debug_check(tok, HRC_OP_ALLOC_AT);
  if (hrc_rc_load(tok) != HRC_RC_TOKEN_CELL)
    hrc_fatal("reuse_same of %p (tag %u), a token whose fields were dropped (hrc_drop_reuse): "
              "only a cell from hrc_reuse_cell keeps its fields",
              (void *)tok, tok->tag);
  set_owner(tok); /* the object is this thread's again */
  hrc_rc_store(tok, HRC_RC_UNIQUE);
}

/* ---- checks ---- */

/* Checks for a freed block: each operation gets its own words. */
static HRC_NORETURN void fail_freed(const hrc_obj_t *o, hrc_op_t op) {
  if (op == HRC_OP_DUP || op == HRC_OP_IS_UNIQUE || op == HRC_OP_SHARE)
    hrc_fatal("%s of dead object %p (tag %u): it was already freed", hrc_op_name(op), (void *)o,
              o->tag);
  hrc_fatal("%s of freed object %p (tag %u): double drop or reference count underflow",
            hrc_op_name(op), (void *)o, o->tag);
}

/* Checks that apply to the rc word of a live block. */
static void check_live_state(const hrc_obj_t *o, hrc_op_t op, uint32_t rc) {
  bool token_op = op == HRC_OP_ALLOC_AT || op == HRC_OP_FREE_TOKEN;
  if (rc == HRC_RC_TOKEN || rc == HRC_RC_TOKEN_CELL) {
    if (!token_op)
      hrc_fatal("%s of dead object %p (tag %u): its memory is a reuse token", hrc_op_name(op),
                (void *)o, o->tag);
    return;
  }
  if (token_op)
    hrc_fatal("%s of %p (tag %u), which is a live object, not a reuse token", hrc_op_name(op),
              (void *)o, o->tag);
  if ((op == HRC_OP_FREE_CELL || op == HRC_OP_REUSE_CELL) && rc != HRC_RC_UNIQUE)
    hrc_fatal("%s of %p (tag %u), which is not unique: test hrc_is_unique first", hrc_op_name(op),
              (void *)o, o->tag);
  if (op == HRC_OP_DECREF && rc == HRC_RC_UNIQUE)
    hrc_fatal("decref of unique object %p (tag %u): reference count underflow (decref needs a "
              "second reference; test hrc_is_unique first)",
              (void *)o, o->tag);
}

/* A local count must be touched by its owner only (codegen-helpers/hrc_object.h). What the
 * contract allows besides (docs/lowering.md section 8): a uniquely owned graph moves to another
 * thread, whose first touch of the root sees a unique count and takes the object over, and
 * which may then take over the graph's inner objects (counts above one inside a moved DAG);
 * and an object whose owner has ended is taken over by whoever touches it. Any other touch of
 * a local count by another thread, while its owner runs, is a missing hrc_share. */
static void check_owner(hrc_obj_t *o, hrc_op_t op, uint32_t rc) {
  uint16_t owner = owner_of(o), me = my_id();
  if (owner == me) return;
  bool owner_runs = owner != 0 && __atomic_load_n(&alive[owner], __ATOMIC_RELAXED);
  if (owner_runs && rc != HRC_RC_UNIQUE && !adopted_a_move)
    hrc_fatal("%s of %p (tag %u) on thread %u, but its count is local to thread %u, which still "
              "runs: mark a value with hrc_share before another thread uses it",
              hrc_op_name(op), (void *)o, o->tag, me, owner);
  if (owner_runs) adopted_a_move = true;
  set_owner(o);
}

void hrc_debug_check(const hrc_obj_t *o, hrc_op_t op) {
  if (o == NULL)
    hrc_fatal("%s of NULL, which is not a value (hrc_xdup/hrc_xdrop take nullable slots)",
              hrc_op_name(op));
  if (((uintptr_t)o & 7u) != 0)
    hrc_fatal("%s of %p, which is not an object (a boxed scalar or a misaligned pointer)",
              hrc_op_name(op), (const void *)o);
  uint32_t rc = hrc_rc_load(o);
  if (rc == HRC_RC_IMMORTAL) {
    if (op == HRC_OP_FREE_CELL || op == HRC_OP_REUSE_CELL || op == HRC_OP_ALLOC_AT ||
        op == HRC_OP_FREE_TOKEN)
      hrc_fatal("%s of immortal object %p (tag %u)", hrc_op_name(op), (const void *)o, o->tag);
    return;
  }
  uintptr_t cookie = prefix_of(o)[1];
  if (cookie == ((uintptr_t)o ^ DEAD_MAGIC) || rc == HRC_RC_FREED) fail_freed(o, op);
  if (cookie != ((uintptr_t)o ^ LIVE_MAGIC))
    hrc_fatal("%s of %p, which hrc never allocated (or whose header was overwritten)",
              hrc_op_name(op), (const void *)o);
  if (HRC_HEAP_TRACED) check_thread_known(o, op);
  check_live_state(o, op, rc);
  if (HRC_COUNTING && rc < HRC_RC_SHARED) check_owner((hrc_obj_t *)o, op, rc);
}

void hrc_debug_token(hrc_obj_t *tok, size_t size, unsigned scan) {
  hrc_debug_check(tok, HRC_OP_ALLOC_AT);
  size_t capacity = size_of(tok);
  if (size > capacity)
    hrc_fatal("alloc_at of %zu bytes into a reuse token of %zu bytes (old tag %u)", size, capacity,
              tok->tag);
  if (scan > HRC_SCAN_MAX)
    hrc_fatal("alloc_at with %u scanned fields (at most %u)", scan, HRC_SCAN_MAX);
  if (size < sizeof(hrc_obj_t) + (size_t)scan * sizeof(void *))
    hrc_fatal("alloc_at of %zu bytes cannot hold a header and %u scanned fields", size, scan);
  set_owner(tok); /* the new object is this thread's */
}
