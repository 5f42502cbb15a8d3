/* data.c: objects whose size is not fixed by a constructor: byte strings, scalar arrays and
 * value arrays. Their sizes are checked against overflow before anything is allocated.
 */
#include <string.h>

#include "rc_internal.h"

/* size + extra, or a fatal line when it overflows. */
static size_t add_size(size_t size, size_t extra, const char *what) {
  if (HRC_UNLIKELY(extra > SIZE_MAX - size - 64))
    hrc_fatal("%s of %zu bytes is too large", what, extra);
  return size + extra;
}

hrc_bytes_t *hrc_bytes_alloc(size_t len) {
  size_t size = add_size(sizeof(hrc_bytes_t) + 1, len, "byte string");
  hrc_bytes_t *b = (hrc_bytes_t *)hrc_alloc_object(size, HRC_TAG_BYTES, 0, true);
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
  hrc_scalars_t *s = (hrc_scalars_t *)hrc_alloc_object(size, HRC_TAG_SCALARS, 0, true);
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
  hrc_array_t *a = (hrc_array_t *)hrc_alloc_object(size, HRC_TAG_ARRAY, HRC_SCAN_ARRAY, false);
  a->len = len;
  for (size_t i = 0; i < len; i++) a->items[i] = hrc_box_int(0);
  hrc_stats_on_alloc(&a->header);
  return a;
}
