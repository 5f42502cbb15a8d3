/* block.c: objects' blocks, allocation entry points, sizes and fatal errors.
 *
 * In release builds a block is the object. In checked builds (HRC_DEBUG) a 16-byte prefix
 * {requested size, cookie} precedes the object; rc/debug.c owns its meaning. Every allocation
 * checks its arguments (one compare each) because a wrong scan count corrupts the heap much
 * later, far from the mistake.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block_internal.h"

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
 * nothing to panic with, so one line that says so. Objects panic instead (rc/limit.c). */
void hrc_out_of_memory(size_t size) {
  hrc_fatal("out of memory allocating %zu bytes for the runtime's own records", size);
}

uintptr_t hrc_heap_lo = UINTPTR_MAX, hrc_heap_hi = 0; /* empty until the first block */

/* Grow the span of the heap's blocks to cover [lo, hi) rounded out to HRC_HEAP_GRANULE, and
 * what lies between it and the old span. Two stores, not one: a thread reading between them
 * sees a smaller span, which only sends it to the exact test (or, in rc, can never happen for
 * a block it was handed, since the note came before the block). */
void hrc_heap_widen(uintptr_t lo, uintptr_t hi) {
  lo &= ~(HRC_HEAP_GRANULE - 1);
  hi = hi > UINTPTR_MAX - HRC_HEAP_GRANULE ? UINTPTR_MAX
                                           : (hi + HRC_HEAP_GRANULE - 1) & ~(HRC_HEAP_GRANULE - 1);
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&lock);
  uintptr_t cur_lo = __atomic_load_n(&hrc_heap_lo, __ATOMIC_RELAXED);
  uintptr_t cur_hi = __atomic_load_n(&hrc_heap_hi, __ATOMIC_RELAXED);
  if (cur_lo < lo) lo = cur_lo;
  if (cur_hi > hi) hi = cur_hi;
  __atomic_store_n(&hrc_heap_lo, lo, __ATOMIC_RELAXED);
  __atomic_store_n(&hrc_heap_hi, hi, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&lock);
}

/* Usable bytes of an object's block, prefix excluded. */
size_t hrc_block_usable(const hrc_obj_t *o) {
  return hrc_heap_usable((const char *)o - BLOCK_PREFIX) - BLOCK_PREFIX;
}

/* Bytes an object accounts for: from the header when small; else the requested size (checked
 * builds keep it in the prefix) or the length fields, and the block's size for other tags. */
size_t hrc_obj_size(const hrc_obj_t *o) {
  if (HRC_LIKELY(o->words != 0)) return (size_t)o->words * 8;
#if HRC_DEBUG
  return hrc_debug_requested(o);
#else
  switch (o->tag) {
  case HRC_TAG_BYTES:
    return sizeof(hrc_bytes_t) + ((const hrc_bytes_t *)o)->len + 1;
  case HRC_TAG_ARRAY:
    return sizeof(hrc_array_t) + ((const hrc_array_t *)o)->len * sizeof(void *);
  case HRC_TAG_SCALARS: {
    const hrc_scalars_t *s = (const hrc_scalars_t *)o;
    return (sizeof(hrc_scalars_t) + s->count * s->elem_size + 15) & ~(size_t)15;
  }
  default:
    return hrc_block_usable(o);
  }
#endif
}

/* Bytes a large object built in token tok will account for when it is freed. */
size_t hrc_large_size_in(const hrc_obj_t *tok) {
#if HRC_DEBUG
  return hrc_debug_requested(tok);
#else
  return hrc_block_usable(tok);
#endif
}

/* Stop a wrong size, tag or scan count at the allocation that has it. */
static void check_alloc_args(size_t size, unsigned tag, unsigned scan) {
  bool runtime_object = tag == HRC_TAG_CLOSURE || tag == HRC_TAG_ERROR;
  if (HRC_UNLIKELY(tag > HRC_TAG_MAX_CTOR && !runtime_object))
    hrc_fatal("alloc with tag %u, which is reserved for hrc (constructor tags are 0..%u)", tag,
              HRC_TAG_MAX_CTOR);
  if (HRC_UNLIKELY(scan > HRC_SCAN_MAX))
    hrc_fatal("alloc with %u scanned fields (at most %u)", scan, HRC_SCAN_MAX);
  if (HRC_UNLIKELY(size < sizeof(hrc_obj_t) + (size_t)scan * sizeof(void *)))
    hrc_fatal("alloc of %zu bytes cannot hold a header and %u scanned fields", size, scan);
  /* A closure's first scanned field is its code pointer: with scan 0 its arity reads as -1. */
  if (HRC_UNLIKELY(tag == HRC_TAG_CLOSURE && scan == 0))
    hrc_fatal("alloc of a closure with 0 scanned fields: its code pointer is the first (scan is "
              "1 + the captured values; hrc_closure_alloc)");
}

/* Allocate and initialise an object; the one place fresh objects come from. `atomic` asks for
 * pointer-free memory (payloads; in gc mode also constructors without scanned fields). */
static hrc_obj_t *alloc_object(size_t size, unsigned tag, unsigned scan, bool atomic) {
  hrc_thread_ensure();
  hrc_obj_t *o = hrc_block_alloc(size, atomic);
  if (HRC_UNLIKELY(o == NULL)) o = hrc_block_alloc_failed(size, atomic);
  hrc_header_init(o, size, tag, scan);
  if (HRC_TRACING && atomic) o->flags |= HRC_FLAG_ATOMIC;
  return o;
}

/* Allocation when the inline pop in hrc_alloc found nothing, and always in checked builds:
 * check the arguments, then take a block from the cache or the heap. */
hrc_obj_t *hrc_alloc_cold(size_t size, unsigned tag, unsigned scan) {
  check_alloc_args(size, tag, scan);
  hrc_obj_t *o = alloc_object(size, tag, scan, !HRC_COUNTING && scan == 0);
  hrc_stats_on_alloc(o);
  return o;
}

/* hybrid: a token from pointer-free memory cannot hold a new object; its block is left to the
 * collector and the object is allocated afresh. */
hrc_obj_t *hrc_alloc_refused_cold(hrc_reuse_t tok, size_t size, unsigned tag, unsigned scan) {
  hrc_stats_on_free(tok);
  return hrc_alloc_cold(size, tag, scan);
}

/* size + extra, or a fatal line when it overflows. */
static size_t add_size(size_t size, size_t extra, const char *what) {
  if (HRC_UNLIKELY(extra > SIZE_MAX - size - 64))
    hrc_fatal("%s of %zu bytes is too large", what, extra);
  return size + extra;
}

hrc_bytes_t *hrc_bytes_alloc(size_t len) {
  size_t size = add_size(sizeof(hrc_bytes_t) + 1, len, "byte string");
  hrc_bytes_t *b = (hrc_bytes_t *)alloc_object(size, HRC_TAG_BYTES, 0, true);
  b->len = len;
  b->data[len] = '\0';
  hrc_stats_on_alloc(&b->header);
  return b;
}

hrc_bytes_t *hrc_bytes_from(const char *s, size_t len) {
  hrc_bytes_t *b = hrc_bytes_alloc(len);
  if (len != 0) memcpy(b->data, s, len);
  return b;
}

hrc_scalars_t *hrc_scalars_alloc(size_t count, size_t elem_size) {
  if (HRC_UNLIKELY(elem_size != 0 && count > SIZE_MAX / elem_size))
    hrc_fatal("scalar array of %zu x %zu bytes is too large", count, elem_size);
  /* A multiple of 16 bytes lands in a 16-byte aligned block, so data is 16-byte aligned. */
  size_t size =
      (add_size(sizeof(hrc_scalars_t), count * elem_size, "scalar array") + 15) & ~(size_t)15;
  hrc_scalars_t *s = (hrc_scalars_t *)alloc_object(size, HRC_TAG_SCALARS, 0, true);
  s->count = count;
  s->elem_size = elem_size;
  memset(s->data, 0, count * elem_size);
  hrc_stats_on_alloc(&s->header);
  return s;
}

hrc_array_t *hrc_array_alloc(size_t len) {
  if (HRC_UNLIKELY(len > HRC_ARRAY_MAX))
    hrc_fatal("array of %zu items (at most %zu)", len, HRC_ARRAY_MAX);
  size_t size = add_size(sizeof(hrc_array_t), len * sizeof(void *), "array");
  hrc_array_t *a = (hrc_array_t *)alloc_object(size, HRC_TAG_ARRAY, HRC_SCAN_ARRAY, false);
  a->len = len;
  for (size_t i = 0; i < len; i++) a->items[i] = hrc_box_int(0);
  hrc_stats_on_alloc(&a->header);
  return a;
}

/* A closure capturing more values than a header can count. */
void hrc_closure_too_big(size_t captured) {
  hrc_fatal("closure capturing %zu values (at most %u; capture an array instead)", captured,
            HRC_SCAN_MAX - 1);
}

hrc_reuse_t hrc_closure_unpack_reuse(hrc_closure_t *self, hrc_obj_t **out) {
  size_t n = hrc_closure_arity_env(self);
  if (hrc_is_unique(&self->header)) {
    for (size_t i = 0; i < n; i++) out[i] = self->env[i];
    return hrc_reuse_cell(&self->header);
  }
  for (size_t i = 0; i < n; i++) out[i] = hrc_dup(self->env[i]);
  hrc_decref(&self->header);
  return HRC_NO_REUSE;
}

void hrc_closure_unpack(hrc_closure_t *self, hrc_obj_t **out) {
  hrc_reuse_free(hrc_closure_unpack_reuse(self, out));
}

const char *hrc_version(void) { return HRC_VERSION_STRING; }

/* This library's variant (hrc_config.h): programs compiled for it refer to this symbol. */
const char HRC_VARIANT_SYMBOL = 1;

const char *hrc_variant(void) {
  return HRC_MODE_NAME
#if HRC_DEBUG
      "+checks"
#endif
#if HRC_WITH_STATS
      "+stats"
#endif
      ;
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
