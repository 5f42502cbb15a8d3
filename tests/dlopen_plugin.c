/* dlopen_plugin.c: a plugin that uses hrc, loaded with dlopen by tests/dlopen_host.c (which
 * does not link hrc): the library's static TLS must fit what glibc keeps for libraries loaded
 * late. Builds a list, collects, sums it while the collector could have reclaimed it, frees it. */
#include "hrc.h"

typedef struct cell_s {
  hrc_obj_t header;
  hrc_obj_t *head, *tail;
} cell_t;

long plugin_run(long n);

long plugin_run(long n) {
  hrc_obj_t *list = hrc_box_int(-1);
  for (long i = 0; i < n; i++) {
    cell_t *c = (cell_t *)hrc_alloc(sizeof(cell_t), 1, 2);
    c->head = hrc_box_int(i);
    c->tail = list;
    list = &c->header;
  }
  hrc_collect();
  long sum = 0;
  for (hrc_obj_t *p = list; !hrc_is_scalar(p); p = ((cell_t *)p)->tail)
    sum += hrc_unbox_int(((cell_t *)p)->head);
  hrc_drop(list);
  return sum;
}
