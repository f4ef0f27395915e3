/* Tensor helpers shared by the runtime and its operators: allocation,
 * broadcasting and element access. */
#ifndef HWRT_TENSOR_H
#define HWRT_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/hwrt.h"

/* 64-byte aligned, zeroed; NULL on failure or absurd sizes. Free with
 * rt_free. */
void *rt_alloc(size_t bytes);
void rt_free(void *p);
/* A heap tensor and its data in one allocation. */
struct hwrt_tensor *rt_tensor_new(enum hwrt_dtype dt, int rank, const int64_t *dims);
void rt_tensor_free(struct hwrt_tensor *t);
bool rt_same_shape(const struct hwrt_tensor *a, const struct hwrt_tensor *b);
/* Element count, or -1 when a dim is negative or the product overflows
 * the limit the runtime accepts (2^40 elements). */
int64_t rt_count_dims(int rank, const int64_t *dims);

/* Numpy-style multidirectional broadcasting of n shapes into out's shape.
 * Returns 0, or -1 when the shapes are incompatible. */
int rt_broadcast_shape(int n, const struct hwrt_tensor *const *in, struct hwrt_tensor *out);

/* Walks the output of a broadcast in runs along its innermost (collapsed)
 * dimension: fn gets each input's starting element offset and its step
 * (0 or 1 for the innermost dim, as broadcast), the output offset and the
 * run length. */
typedef void (*rt_bcast_fn)(void *ctx, const int64_t *in_off, const int64_t *in_step,
			    int64_t out_off, int64_t n);
void rt_bcast_loop(const struct hwrt_tensor *out, int n, const struct hwrt_tensor *const *in,
		   rt_bcast_fn fn, void *ctx);

/* Row-major strides in elements. */
void rt_strides(int rank, const int64_t *dims, int64_t *strides);

/* half and bfloat16 <-> float, exact, one element. */
float rt_f16_to_f32(uint16_t h);
uint16_t rt_f32_to_f16(float f);
float rt_bf16_to_f32(uint16_t h);
uint16_t rt_f32_to_bf16(float f);

/* Arrays of float, double, float16 and bfloat16 (and int8/uint8 for the
 * float pair, rounded and saturated) to and from float or double. */
void rt_to_f32(const void *src, enum hwrt_dtype dt, float *dst, int64_t n);
void rt_from_f32(const float *src, enum hwrt_dtype dt, void *dst, int64_t n);
void rt_to_f64(const void *src, enum hwrt_dtype dt, double *dst, int64_t n);
void rt_from_f64(const double *src, enum hwrt_dtype dt, void *dst, int64_t n);

#endif
