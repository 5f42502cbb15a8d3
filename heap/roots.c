/* roots.c: memory ranges the host declares as holding references (hrc_root_declare), for the
 * collector to scan besides what it sees by itself (heap.h). The same in every heap: without
 * a tracer nobody walks them, but pairing is still checked (rc/roots.c).
 * Invariant: an entry's range is [lo, hi) while hi != 0; it is written lo first and hi last,
 * and hi is cleared first on removal, so a collection that stops a thread between the two
 * stores sees the range either whole or not at all. */
#include <stdlib.h>

#include "table.h"

typedef struct range_s {
  hrc_table_entry_t header;
  uintptr_t lo, hi;
} range_t;

/* Zeroed memory the collector does not scan: the table holds addresses, not references. */
static void *range_chunk(size_t bytes) { return calloc(1, bytes); }

static hrc_table_t ranges = HRC_TABLE_INIT(sizeof(range_t), 12, range_chunk);

uint64_t hrc_heap_root_add(const void *start, size_t len) {
  hrc_table_entry_t *e;
  uint64_t id = hrc_table_add(&ranges, &e);
  if (id == 0) return 0;
  range_t *r = (range_t *)e;
  __atomic_store_n(&r->lo, (uintptr_t)start, __ATOMIC_RELAXED);
  __atomic_store_n(&r->hi, len == 0 ? 0 : (uintptr_t)start + len, __ATOMIC_RELEASE);
  return id;
}

bool hrc_heap_root_remove(uint64_t id) {
  range_t *r = (range_t *)hrc_table_find(&ranges, id);
  if (r == NULL) return false;
  __atomic_store_n(&r->hi, 0, __ATOMIC_RELEASE);
  return hrc_table_remove(&ranges, id);
}

size_t hrc_heap_root_count(void) { return hrc_table_count(&ranges); }

/* What hrc_heap_roots_each passes through hrc_table_each. */
typedef struct visit_s {
  void (*fn)(void *lo, void *hi);
} visit_t;

static void visit_range(hrc_table_entry_t *e, void *arg) {
  range_t *r = (range_t *)e;
  uintptr_t hi = __atomic_load_n(&r->hi, __ATOMIC_ACQUIRE);
  if (hi != 0) ((visit_t *)arg)->fn((void *)__atomic_load_n(&r->lo, __ATOMIC_RELAXED), (void *)hi);
}

void hrc_heap_roots_each(void (*fn)(void *lo, void *hi)) {
  visit_t v = {fn};
  hrc_table_each(&ranges, visit_range, &v);
}
