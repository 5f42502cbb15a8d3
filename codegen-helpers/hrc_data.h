/* hrc_data.h: runtime-defined objects: byte strings, scalar arrays, value arrays.
 *
 * Bytes and scalar arrays have scan = 0: nothing in them is ever scanned or dropped, and in the
 * tracing modes they come from pointer-free ("atomic") memory. Value arrays have
 * scan = HRC_SCAN_ARRAY: their length word counts the scanned items that follow it.
 * Lengths are fixed at allocation.
 */
#ifndef HRC_DATA_H
#define HRC_DATA_H

#include <stddef.h>

#include "hrc_alloc.h"

typedef struct hrc_bytes_s {
  hrc_obj_t header; /* tag HRC_TAG_BYTES, scan 0 */
  size_t len;       /* bytes in data, not counting the terminating NUL */
  char data[];      /* len bytes and a NUL, so strings can be passed to C */
} hrc_bytes_t;

typedef struct hrc_scalars_s {
  hrc_obj_t header;                  /* tag HRC_TAG_SCALARS, scan 0 */
  size_t count;                      /* elements */
  size_t elem_size;                  /* bytes per element */
  _Alignas(16) unsigned char data[]; /* count * elem_size bytes, 16-byte aligned */
} hrc_scalars_t;

typedef struct hrc_array_s {
  hrc_obj_t header;   /* tag HRC_TAG_ARRAY, scan HRC_SCAN_ARRAY */
  size_t len;         /* items; at most HRC_ARRAY_MAX */
  hrc_obj_t *items[]; /* values, all scanned */
} hrc_array_t;

#define HRC_ARRAY_MAX ((size_t)UINT32_MAX)

/* A byte string of len bytes (contents uninitialised, NUL-terminated). */
HRC_API hrc_bytes_t *hrc_bytes_alloc(size_t len);
/* A byte string holding a copy of s[0..len). */
HRC_API hrc_bytes_t *hrc_bytes_from(const char *s, size_t len);
/* An array of count scalars of elem_size bytes each, zeroed. */
HRC_API hrc_scalars_t *hrc_scalars_alloc(size_t count, size_t elem_size);
/* An array of len values, each initialised to boxed 0 so it can be dropped before it is filled. */
HRC_API hrc_array_t *hrc_array_alloc(size_t len);

/* Cast helpers: the object behind a runtime-defined payload. */
static inline hrc_obj_t *hrc_bytes_obj(hrc_bytes_t *b) { return &b->header; }
static inline hrc_obj_t *hrc_scalars_obj(hrc_scalars_t *s) { return &s->header; }
static inline hrc_obj_t *hrc_array_obj(hrc_array_t *a) { return &a->header; }

#endif
