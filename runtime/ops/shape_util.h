/* Shared helpers of the data-movement operators (Transpose, Slice, Pad,
 * Expand, Tile, Resize...): reading shape-like inputs and one parallel
 * gather that copies an output box from per-dim source index maps. */
#ifndef HWRT_OPS_SHAPE_UTIL_H
#define HWRT_OPS_SHAPE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/op.h"
#include "runtime/tensor.h"

/* Tile views the output as rank 2r, so the gather takes twice the rank. */
#define SU_MAX_DIMS (2 * HWRT_MAX_RANK)

/* Fails unless the tensor's dtype has a size (not string/undefined). */
int su_check_dtype(const struct hwrt_tensor *t, const char *what, struct rt_err *e);
/* Reads a 1-D or scalar int32/int64 tensor into v (up to max values).
 * Returns the count, or -1 with a message. data must be known. */
int su_read_ints(const struct hwrt_tensor *t, const char *what, int64_t *v, int max,
		 struct rt_err *e);
/* Fails when the dims are negative or the count is absurd. */
int su_check_dims(int rank, const int64_t *dims, struct rt_err *e);
/* Axes list: normalizes each against rank and rejects duplicates; mask
 * gets bit d for axis d. */
int su_axes(const int64_t *axes, int n, int rank, unsigned *mask, struct rt_err *e);

/* out[i0..ik] = src[base + sum_d idx_d * stride[d]] with idx_d = map[d][i_d]
 * (i_d when map[d] is NULL); a map entry < 0 writes fill instead. Strides
 * and base count elements; dims are the output's. */
struct su_gather {
	int rank;
	int64_t dims[SU_MAX_DIMS];
	int64_t stride[SU_MAX_DIMS];
	const int64_t *map[SU_MAX_DIMS];
	int64_t base;
};
int su_gather_run(const struct su_gather *gp, const void *src, void *dst, size_t esz,
		  const void *fill, const struct hwk_parallel *par, struct rt_err *e);

/* Row-major strides of t in elements. */
void su_strides(const struct hwrt_tensor *t, int64_t *strides);



/* Element i of t as an unsigned key ordered like the values (floats by
 * value, NaN above +inf). false when the dtype is not numeric. */
bool su_has_order_key(enum hwrt_dtype t);
uint64_t su_order_key(const struct hwrt_tensor *t, int64_t i);
#endif
