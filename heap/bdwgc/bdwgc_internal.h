/* bdwgc_internal.h: what the bdwgc heap's two files share: bdwgc.c (the only file that names
 * bdwgc) and policy.c (when hybrid collects). */
#ifndef HRC_BDWGC_INTERNAL_H
#define HRC_BDWGC_INTERNAL_H

#include "heap.h"

/* Bytes of the heap holding objects (its size less its free bytes). */
HRC_HIDDEN size_t hrc_bdwgc_in_use(void);
/* Bytes handed back to the collector so far (caches' trimmed and released lists, dead blocks
 * left to it): the next collection reclaims them, which the policy must not take for cyclic
 * garbage. */
HRC_HIDDEN uint64_t hrc_bdwgc_handed_back(void);

/* A full collection that leaves free blocks mapped (the policy's, which will allocate again). */
HRC_HIDDEN void hrc_bdwgc_collect(void);

/* The cycle policy (policy.c): its first threshold, the refill-time check, its collections. */
HRC_HIDDEN void hrc_policy_init(uint64_t candidate_threshold);
HRC_HIDDEN int64_t hrc_policy_collections(void);

#endif
