/* Reusable scratch for packing buffers. Allocating large buffers per call
 * would fault their pages in every time, so each op family keeps one block
 * in a slot for the next call. The block is swapped out atomically:
 * concurrent callers find the slot empty and allocate their own. */
#ifndef HWK_CORE_SCRATCH_H
#define HWK_CORE_SCRATCH_H

#include <stdatomic.h>
#include <stddef.h>

struct hwk_scratch_slot {
	_Atomic(char *) block;
	size_t keep_max; /* larger blocks are freed, not kept */
};

#define HWK_SCRATCH_SLOT(keep_max_bytes) { NULL, (keep_max_bytes) }

/* 64-byte aligned, at least bytes long; NULL when out of memory. */
void *hwk_scratch_get(struct hwk_scratch_slot *slot, size_t bytes);
/* Returns a block from hwk_scratch_get (NULL is fine). */
void hwk_scratch_put(struct hwk_scratch_slot *slot, void *p);

#endif
