/* heap_traits.h (mimalloc): what inline code must know of this heap at compile time. */
#ifndef HRC_HEAP_TRAITS_H
#define HRC_HEAP_TRAITS_H

/* No tracer: a block given back is free at once, nothing scans cached blocks, and pointer-free
 * blocks are blocks like any other. */
#define HRC_HEAP_TRACED 0
/* The span's step (heap.h): mimalloc 2.0's segments are 4 MiB. */
#define HRC_HEAP_GRANULE ((uintptr_t)4 << 20)

#endif
