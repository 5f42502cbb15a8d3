/* closure.c: the out-of-line parts of closures (hrc_closure.h has the layout and the calls). */
#include "rc_internal.h"

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
