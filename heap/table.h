/* table.h: a table of fixed-size entries named by generation-checked ids, for what the host
 * declares (ranges: heap/roots.c; handles: rc/handles.c).
 *
 * Invariants: an id names one entry for one lifetime: {shard 4 bits, index 28 bits, generation
 * 32 bits}; the entry's generation is odd while it is in use and even while free, so an id
 * of an entry removed (and perhaps reused since) never matches again, and a second removal
 * is told apart from the first. Entries live in chunks that are never freed or moved, so the
 * collector may walk them without the table's lock (hrc_table_each); a free entry's payload is
 * cleared by the table's owner before it is removed. Adding and removing take the lock of one
 * shard; each thread uses its own shard (assigned round-robin), so threads rarely contend.
 * No growth once a table holds its largest count: removed entries are reused first.
 */
#ifndef HRC_TABLE_H
#define HRC_TABLE_H

#include "heap.h"

#define HRC_TABLE_SHARDS     8u
#define HRC_TABLE_MAX_CHUNKS 4096u

/* An entry: its header, then the owner's payload (entry_bytes - 8 bytes). */
typedef struct hrc_table_entry_s {
  uint32_t generation; /* odd: in use */
  uint32_t next_free;  /* index + 1 of the next free entry, 0 for none */
} hrc_table_entry_t;

typedef struct hrc_table_shard_s {
  pthread_mutex_t lock;
  uint32_t used;      /* entries ever handed out (the walk's bound) */
  uint32_t free_head; /* index + 1 of the first free entry, 0 for none */
  char *chunks[HRC_TABLE_MAX_CHUNKS];
} hrc_table_shard_t;

/* The shards are made at the first add, in memory no collector scans: in static data their
 * directories (256 KiB) were a root every collection marked, and with it bdwgc ran 85
 * collections instead of 58 on binary-trees 16 (gc). */
typedef struct hrc_table_s {
  size_t entry_bytes;                 /* header included, a multiple of 8 */
  unsigned chunk_bits;                /* log2 of the entries per chunk */
  void *(*alloc_chunk)(size_t bytes); /* zeroed memory, or NULL */
  hrc_table_shard_t *shards;          /* HRC_TABLE_SHARDS of them, or NULL before the first add */
} hrc_table_t;

#define HRC_TABLE_INIT(bytes, bits, alloc)                                                         \
  { .entry_bytes = (bytes), .chunk_bits = (bits), .alloc_chunk = (alloc) }

/* A new entry (payload zeroed): its id, and *entry its address; 0 when out of memory or the
 * shard is full. */
HRC_HIDDEN uint64_t hrc_table_add(hrc_table_t *t, hrc_table_entry_t **entry);
/* The entry id names while it is in use, else NULL. */
HRC_HIDDEN hrc_table_entry_t *hrc_table_find(hrc_table_t *t, uint64_t id);
/* End the entry's use; false when id names no entry in use (removed already, never added).
 * The caller has cleared the payload. */
HRC_HIDDEN bool hrc_table_remove(hrc_table_t *t, uint64_t id);
/* Entries in use now, over every shard. */
HRC_HIDDEN size_t hrc_table_count(hrc_table_t *t);
/* Call fn on every entry handed out so far, in use or not (the payload says), without locks:
 * for the collector, which runs with the world stopped. */
HRC_HIDDEN void hrc_table_each(hrc_table_t *t, void (*fn)(hrc_table_entry_t *e, void *arg),
                               void *arg);

#endif
