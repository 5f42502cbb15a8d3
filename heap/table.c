/* table.c: the generation-checked entry table (table.h has the invariants). */
#include "table.h"

#include <stdlib.h>

#define INDEX_BITS 28u

/* This thread's shard, assigned round-robin on first use (0: none yet). */
static HRC_THREAD_LOCAL uint8_t my_shard;
static unsigned next_shard;

static unsigned shard_of_thread(void) {
  if (HRC_UNLIKELY(my_shard == 0))
    my_shard =
        (uint8_t)(__atomic_fetch_add(&next_shard, 1, __ATOMIC_RELAXED) % HRC_TABLE_SHARDS + 1);
  return my_shard - 1u;
}

/* The table's shards, made on first use (zeroed: glibc's PTHREAD_MUTEX_INITIALIZER is all
 * zeros); NULL when out of memory. */
static hrc_table_shard_t *shards_of(hrc_table_t *t) {
  hrc_table_shard_t *s = __atomic_load_n(&t->shards, __ATOMIC_ACQUIRE);
  if (HRC_LIKELY(s != NULL)) return s;
  hrc_table_shard_t *made = calloc(HRC_TABLE_SHARDS, sizeof *made), *none = NULL;
  if (made == NULL) return NULL;
  if (__atomic_compare_exchange_n(&t->shards, &none, made, false, __ATOMIC_ACQ_REL,
                                  __ATOMIC_ACQUIRE))
    return made;
  free(made); /* another thread made them first */
  return none;
}

/* The entry at index of a shard; its chunk exists. */
static hrc_table_entry_t *entry_at(hrc_table_t *t, hrc_table_shard_t *s, uint32_t index) {
  char *chunk = __atomic_load_n(&s->chunks[index >> t->chunk_bits], __ATOMIC_ACQUIRE);
  return (hrc_table_entry_t *)(chunk +
                               (size_t)(index & ((1u << t->chunk_bits) - 1)) * t->entry_bytes);
}

/* A free index of the shard, from its free list or a fresh one (a new chunk when needed);
 * false when memory or the index space is exhausted. Under the shard's lock. */
static bool take_index(hrc_table_t *t, hrc_table_shard_t *s, uint32_t *index) {
  if (s->free_head != 0) {
    *index = s->free_head - 1;
    s->free_head = entry_at(t, s, *index)->next_free;
    return true;
  }
  uint32_t i = s->used;
  if (i >= (1u << INDEX_BITS) - 1 || (i >> t->chunk_bits) >= HRC_TABLE_MAX_CHUNKS) return false;
  if (s->chunks[i >> t->chunk_bits] == NULL) {
    char *chunk = t->alloc_chunk(t->entry_bytes << t->chunk_bits);
    if (chunk == NULL) return false;
    __atomic_store_n(&s->chunks[i >> t->chunk_bits], chunk, __ATOMIC_RELEASE);
  }
  __atomic_store_n(&s->used, i + 1, __ATOMIC_RELEASE);
  *index = i;
  return true;
}

uint64_t hrc_table_add(hrc_table_t *t, hrc_table_entry_t **entry) {
  unsigned shard = shard_of_thread();
  hrc_table_shard_t *shards = shards_of(t);
  if (shards == NULL) return 0;
  hrc_table_shard_t *s = &shards[shard];
  pthread_mutex_lock(&s->lock);
  uint32_t index;
  if (!take_index(t, s, &index)) {
    pthread_mutex_unlock(&s->lock);
    return 0;
  }
  hrc_table_entry_t *e = entry_at(t, s, index);
  uint32_t generation = e->generation + 1; /* even (free) -> odd (in use) */
  e->next_free = 0;
  __atomic_store_n(&e->generation, generation, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&s->lock);
  *entry = e;
  return (uint64_t)generation << 32 | (uint64_t)shard << INDEX_BITS | index;
}

hrc_table_entry_t *hrc_table_find(hrc_table_t *t, uint64_t id) {
  uint32_t generation = (uint32_t)(id >> 32), index = (uint32_t)id & ((1u << INDEX_BITS) - 1);
  unsigned shard = (unsigned)(id >> INDEX_BITS) & 0xF;
  hrc_table_shard_t *shards = __atomic_load_n(&t->shards, __ATOMIC_ACQUIRE);
  if (shards == NULL || shard >= HRC_TABLE_SHARDS || (generation & 1) == 0) return NULL;
  hrc_table_shard_t *s = &shards[shard];
  if (index >= __atomic_load_n(&s->used, __ATOMIC_ACQUIRE)) return NULL;
  hrc_table_entry_t *e = entry_at(t, s, index);
  return __atomic_load_n(&e->generation, __ATOMIC_ACQUIRE) == generation ? e : NULL;
}

bool hrc_table_remove(hrc_table_t *t, uint64_t id) {
  unsigned shard = (unsigned)(id >> INDEX_BITS) & 0xF;
  hrc_table_shard_t *shards = __atomic_load_n(&t->shards, __ATOMIC_ACQUIRE);
  if (shards == NULL || shard >= HRC_TABLE_SHARDS) return false;
  hrc_table_shard_t *s = &shards[shard];
  pthread_mutex_lock(&s->lock);
  hrc_table_entry_t *e = hrc_table_find(t, id);
  if (e != NULL) {
    __atomic_store_n(&e->generation, e->generation + 1, __ATOMIC_RELEASE); /* odd -> even */
    e->next_free = s->free_head;
    s->free_head = ((uint32_t)id & ((1u << INDEX_BITS) - 1)) + 1;
  }
  pthread_mutex_unlock(&s->lock);
  return e != NULL;
}

size_t hrc_table_count(hrc_table_t *t) {
  size_t n = 0;
  hrc_table_shard_t *shards = __atomic_load_n(&t->shards, __ATOMIC_ACQUIRE);
  for (unsigned k = 0; shards != NULL && k < HRC_TABLE_SHARDS; k++) {
    hrc_table_shard_t *s = &shards[k];
    uint32_t used = __atomic_load_n(&s->used, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < used; i++) n += entry_at(t, s, i)->generation & 1;
  }
  return n;
}

void hrc_table_each(hrc_table_t *t, void (*fn)(hrc_table_entry_t *e, void *arg), void *arg) {
  hrc_table_shard_t *shards = __atomic_load_n(&t->shards, __ATOMIC_ACQUIRE);
  for (unsigned k = 0; shards != NULL && k < HRC_TABLE_SHARDS; k++) {
    hrc_table_shard_t *s = &shards[k];
    uint32_t used = __atomic_load_n(&s->used, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < used; i++) fn(entry_at(t, s, i), arg);
  }
}
