/* version.c: which library this is: its version and its variant (the variant's link symbol is
 * in runtime/runtime.c). */
#include "rc_internal.h"

const char *hrc_version(void) { return HRC_VERSION_STRING; }

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
