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
/* Bytes bdwgc handed out since the last collection (the caches' refills, large objects). */
HRC_HIDDEN size_t hrc_bdwgc_allocated_since(void);
/* Garbage the last collection's sweeps have found so far, beyond the blocks left to the
 * collector before it (bdwgc sweeps lazily, as allocation needs the space). */
HRC_HIDDEN uint64_t hrc_bdwgc_found_so_far(void);

/* A full collection that leaves free blocks mapped (the policy's, which will allocate again),
 * counted under `cause`. */
HRC_HIDDEN void hrc_bdwgc_collect(hrc_gc_cause_t cause);

/* The policy (policy.c): its settings, the refill-time check (heap_inline.h), and what bdwgc.c
 * tells it: with bdwgc's lock held, a collection ended (the heap in use then, the bytes left
 * to the collector so far), and the allocation that starts bdwgc's own collection given the
 * heap in use; without it, bytes were left to the collector (the total so far). */
HRC_HIDDEN void hrc_policy_init(const hrc_heap_settings_t *settings);
HRC_HIDDEN void hrc_policy_set_growth(unsigned factor, size_t min_bytes);
HRC_HIDDEN void hrc_policy_on_collection(size_t in_use, uint64_t left);
HRC_HIDDEN size_t hrc_policy_growth_bytes(size_t in_use);
HRC_HIDDEN void hrc_policy_on_left(uint64_t left);

#endif
