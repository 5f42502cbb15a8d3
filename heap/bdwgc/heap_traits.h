/* heap_traits.h (bdwgc): what inline code must know of this heap at compile time. */
#ifndef HRC_HEAP_TRAITS_H
#define HRC_HEAP_TRAITS_H

/* A tracer scans the heap conservatively: a block handed back is reclaimed only by the next
 * collection (so caches keep their overflow until then, heap/bdwgc/bdwgc.c), a cached block's
 * stale fields would keep garbage alive (so frees clear them), and pointer-free blocks come
 * from memory the tracer never scans (so they are never cached for objects with fields). */
#define HRC_HEAP_TRACED 1
/* The span's step (heap.h): bdwgc's heap block. */
#define HRC_HEAP_GRANULE ((uintptr_t)4096)

#endif
