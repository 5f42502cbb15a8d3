/* version.c: which library this is: its version, its variant, and the symbol programs
 * compiled for this variant refer to (hrc_config.h), so that they link only against it. */
#include "rc_internal.h"

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
