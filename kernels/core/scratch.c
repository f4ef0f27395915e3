#include "kernels/core/scratch.h"

#include <stdint.h>
#include <string.h>

#include "kernels/hwk.h"

/* Each block starts with a header holding its usable size. */
#define HDR 64

void *hwk_scratch_get(struct hwk_scratch_slot *slot, size_t bytes)
{
	char *h = atomic_exchange(&slot->block, NULL);
	if (h) {
		size_t have;
		memcpy(&have, h, sizeof(have));
		if (have >= bytes)
			return h + HDR;
		hwk_free(h);
	}
	if (bytes > SIZE_MAX - HDR)
		return NULL;
	h = hwk_alloc(HDR + bytes);
	if (!h)
		return NULL;
	memcpy(h, &bytes, sizeof(bytes));
	return h + HDR;
}

void hwk_scratch_put(struct hwk_scratch_slot *slot, void *p)
{
	if (!p)
		return;
	char *h = (char *)p - HDR;
	size_t have;
	memcpy(&have, h, sizeof(have));
	if (have > slot->keep_max) {
		hwk_free(h);
		return;
	}
	hwk_free(atomic_exchange(&slot->block, h));
}
