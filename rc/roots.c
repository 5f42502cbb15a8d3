/* roots.c: the public calls of hrc_roots.h: declared ranges (kept by the heap, heap/roots.c),
 * handles, and the misuse each can meet, reported here in one line.
 * Handles live in a table of root memory (hrc_heap_alloc_root), which the collector scans: a
 * handle's value stays alive while the handle is held, in every mode, because the handle also
 * holds a counted reference. A released handle's value is cleared before its entry is freed. */
#include "rc_internal.h"
#include "table.h"

hrc_root_t hrc_root_declare(const void *start, size_t len) {
  if (len > UINTPTR_MAX - (uintptr_t)start)
    hrc_fatal("hrc_root_declare of %zu bytes at %p: the range wraps around the address space", len,
              start);
  uint64_t id = hrc_heap_root_add(start, len);
  if (id == 0) hrc_out_of_memory(sizeof(void *) * 3);
  return (hrc_root_t){id};
}

void hrc_root_undeclare(hrc_root_t root) {
  if (!hrc_heap_root_remove(root.id))
    hrc_fatal("hrc_root_undeclare of root %#llx, which is not declared (undeclared twice, or "
              "never declared)",
              (unsigned long long)root.id);
}

size_t hrc_root_count(void) { return hrc_heap_root_count(); }

typedef struct handle_s {
  hrc_table_entry_t header;
  hrc_obj_t *value;
} handle_t;

static hrc_table_t handles = HRC_TABLE_INIT(sizeof(handle_t), 12, hrc_heap_alloc_root);

/* The entry of a handle in use, or one fatal line naming the call. */
static handle_t *handle_of(hrc_handle_t h, const char *call) {
  handle_t *e = (handle_t *)hrc_table_find(&handles, h.id);
  if (e == NULL)
    hrc_fatal("%s of handle %#llx, which is not held (released already, or never made)", call,
              (unsigned long long)h.id);
  return e;
}

hrc_handle_t hrc_handle_new(hrc_obj_t *v) {
  hrc_table_entry_t *e;
  uint64_t id = hrc_table_add(&handles, &e);
  if (id == 0) hrc_out_of_memory(sizeof(handle_t));
  if (v != NULL) hrc_dup(v);
  __atomic_store_n(&((handle_t *)e)->value, v, __ATOMIC_RELEASE);
  return (hrc_handle_t){id};
}

hrc_obj_t *hrc_handle_get(hrc_handle_t h) {
  return __atomic_load_n(&handle_of(h, "hrc_handle_get")->value, __ATOMIC_ACQUIRE);
}

void hrc_handle_release(hrc_handle_t h) {
  handle_t *e = handle_of(h, "hrc_handle_release");
  hrc_obj_t *v = __atomic_exchange_n(&e->value, NULL, __ATOMIC_ACQ_REL);
  if (!hrc_table_remove(&handles, h.id))
    hrc_fatal("hrc_handle_release of handle %#llx, which is not held (released by two threads "
              "at once)",
              (unsigned long long)h.id);
  if (v != NULL) hrc_drop(v);
}
