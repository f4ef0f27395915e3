/* Tensor allocation, broadcasting and element conversion. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/tensor.h"

#define RT_MAX_ELEMS (INT64_C(1) << 40)

const char *hwrt_dtype_name(enum hwrt_dtype t)
{
	switch (t) {
	case HWRT_FLOAT: return "float";
	case HWRT_UINT8: return "uint8";
	case HWRT_INT8: return "int8";
	case HWRT_UINT16: return "uint16";
	case HWRT_INT16: return "int16";
	case HWRT_INT32: return "int32";
	case HWRT_INT64: return "int64";
	case HWRT_STRING: return "string";
	case HWRT_BOOL: return "bool";
	case HWRT_FLOAT16: return "float16";
	case HWRT_DOUBLE: return "double";
	case HWRT_UINT32: return "uint32";
	case HWRT_UINT64: return "uint64";
	case HWRT_BFLOAT16: return "bfloat16";
	default: return "undefined";
	}
}

size_t hwrt_dtype_size(enum hwrt_dtype t)
{
	switch (t) {
	case HWRT_UINT8: case HWRT_INT8: case HWRT_BOOL: return 1;
	case HWRT_UINT16: case HWRT_INT16: case HWRT_FLOAT16: case HWRT_BFLOAT16: return 2;
	case HWRT_FLOAT: case HWRT_INT32: case HWRT_UINT32: return 4;
	case HWRT_INT64: case HWRT_DOUBLE: case HWRT_UINT64: return 8;
	default: return 0; /* strings and complex types are not supported */
	}
}

int64_t rt_count_dims(int rank, const int64_t *dims)
{
	int64_t c = 1;
	for (int i = 0; i < rank; i++) {
		if (dims[i] < 0)
			return -1;
		if (dims[i] == 0)
			return 0;
		if (c > RT_MAX_ELEMS / dims[i])
			return -1;
		c *= dims[i];
	}
	return c;
}

int64_t hwrt_tensor_count(const struct hwrt_tensor *t)
{
	return rt_count_dims(t->rank, t->dims);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

void hwrt_tensor_fill_random(struct hwrt_tensor *t, uint64_t *seed)
{
	size_t es = hwrt_dtype_size(t->dtype);
	int64_t n = hwrt_tensor_count(t);
	for (int64_t i = 0; i < n; i++) {
		uint64_t r = xorshift(seed);
		switch (t->dtype) {
		case HWRT_FLOAT:
			((float *)t->data)[i] = (float)(r >> 40) / (float)(1 << 23) - 1.0f;
			break;
		case HWRT_DOUBLE:
			((double *)t->data)[i] = (double)(r >> 11) / 9007199254740992.0 * 2 - 1;
			break;
		case HWRT_INT64: ((int64_t *)t->data)[i] = (int64_t)(r % 16); break;
		case HWRT_INT32: ((int32_t *)t->data)[i] = (int32_t)(r % 16); break;
		case HWRT_BOOL: ((uint8_t *)t->data)[i] = r & 1; break;
		default: memset((char *)t->data + (size_t)i * es, (int)(r % 16), es); break;
		}
	}
}

size_t hwrt_tensor_bytes(const struct hwrt_tensor *t)
{
	int64_t c = hwrt_tensor_count(t);
	return c < 0 ? 0 : (size_t)c * hwrt_dtype_size(t->dtype);
}

void *rt_alloc(size_t bytes)
{
	if (bytes > ((size_t)1 << 42))
		return NULL;
	size_t sz = (bytes + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, sz ? sz : 64);
	if (p)
		memset(p, 0, sz ? sz : 64);
	return p;
}

void rt_free(void *p)
{
	free(p);
}

struct hwrt_tensor *rt_tensor_new(enum hwrt_dtype dt, int rank, const int64_t *dims)
{
	if (rank < 0 || rank > HWRT_MAX_RANK)
		return NULL;
	int64_t c = rt_count_dims(rank, dims);
	size_t es = hwrt_dtype_size(dt);
	if (c < 0 || es == 0 || (uint64_t)c > ((uint64_t)1 << 42) / es)
		return NULL;
	/* the header rounded up to the data's 64-byte alignment */
	const size_t hdr = (sizeof(struct hwrt_tensor) + 63) & ~(size_t)63;
	struct hwrt_tensor *t = rt_alloc(hdr + (size_t)c * es);
	if (!t)
		return NULL;
	t->dtype = dt;
	t->rank = rank;
	for (int i = 0; i < rank; i++)
		t->dims[i] = dims[i];
	t->data = (char *)t + hdr;
	return t;
}

void rt_tensor_free(struct hwrt_tensor *t)
{
	rt_free(t);
}

bool rt_same_shape(const struct hwrt_tensor *a, const struct hwrt_tensor *b)
{
	if (a->rank != b->rank)
		return false;
	for (int i = 0; i < a->rank; i++)
		if (a->dims[i] != b->dims[i])
			return false;
	return true;
}

int rt_broadcast_shape(int n, const struct hwrt_tensor *const *in, struct hwrt_tensor *out)
{
	int rank = 0;
	for (int k = 0; k < n; k++)
		if (in[k] && in[k]->rank > rank)
			rank = in[k]->rank;
	int64_t dims[HWRT_MAX_RANK];
	for (int d = 0; d < rank; d++)
		dims[d] = 1;
	for (int k = 0; k < n; k++) {
		if (!in[k])
			continue;
		int off = rank - in[k]->rank;
		for (int d = 0; d < in[k]->rank; d++) {
			int64_t v = in[k]->dims[d];
			if (v == dims[off + d] || v == 1)
				continue;
			if (dims[off + d] != 1)
				return -1;
			dims[off + d] = v;
		}
	}
	out->rank = rank;
	memcpy(out->dims, dims, sizeof(int64_t) * (size_t)rank);
	return 0;
}

void rt_strides(int rank, const int64_t *dims, int64_t *strides)
{
	int64_t s = 1;
	for (int d = rank - 1; d >= 0; d--) {
		strides[d] = s;
		s *= dims[d];
	}
}

#define RT_MAX_BCAST 8

void rt_bcast_loop(const struct hwrt_tensor *out, int n, const struct hwrt_tensor *const *in,
		   rt_bcast_fn fn, void *ctx)
{
	int rank = out->rank;
	int64_t total = hwrt_tensor_count(out);
	if (total <= 0)
		return;
	/* Per input, strides aligned to the output's dims (0 where broadcast). */
	int64_t st[RT_MAX_BCAST][HWRT_MAX_RANK];
	for (int k = 0; k < n; k++) {
		int64_t s[HWRT_MAX_RANK];
		int off = rank - in[k]->rank;
		rt_strides(in[k]->rank, in[k]->dims, s);
		for (int d = 0; d < rank; d++)
			st[k][d] = (d < off || in[k]->dims[d - off] == 1) ? 0 : s[d - off];
	}
	/* Collapse adjacent dims whose strides stay contiguous for every input
	 * so the innermost run is as long as possible. */
	int64_t dims[HWRT_MAX_RANK], cs[RT_MAX_BCAST][HWRT_MAX_RANK];
	int r = 0;
	for (int d = 0; d < rank; d++) {
		if (out->dims[d] == 1)
			continue;
		bool merge = r > 0;
		for (int k = 0; k < n && merge; k++)
			if (cs[k][r - 1] != st[k][d] * out->dims[d])
				merge = false;
		if (merge) {
			dims[r - 1] *= out->dims[d];
			for (int k = 0; k < n; k++)
				cs[k][r - 1] = st[k][d];
		} else {
			dims[r] = out->dims[d];
			for (int k = 0; k < n; k++)
				cs[k][r] = st[k][d];
			r++;
		}
	}
	if (r == 0) {
		dims[0] = 1;
		for (int k = 0; k < n; k++)
			cs[k][0] = 0;
		r = 1;
	}
	int64_t inner = dims[r - 1], step[RT_MAX_BCAST], off[RT_MAX_BCAST];
	for (int k = 0; k < n; k++)
		step[k] = cs[k][r - 1];
	int64_t idx[HWRT_MAX_RANK] = { 0 };
	for (int64_t o = 0; o < total; o += inner) {
		for (int k = 0; k < n; k++) {
			off[k] = 0;
			for (int d = 0; d < r - 1; d++)
				off[k] += idx[d] * cs[k][d];
		}
		fn(ctx, off, step, o, inner);
		for (int d = r - 2; d >= 0; d--) {
			if (++idx[d] < dims[d])
				break;
			idx[d] = 0;
		}
	}
}

float rt_f16_to_f32(uint16_t h)
{
	float f;
	hwk_f16_to_f32(1, &h, &f);
	return f;
}

uint16_t rt_f32_to_f16(float f)
{
	uint16_t h;
	hwk_f32_to_f16(1, &f, &h);
	return h;
}

float rt_bf16_to_f32(uint16_t h)
{
	float f;
	hwk_bf16_to_f32(1, &h, &f);
	return f;
}

uint16_t rt_f32_to_bf16(float f)
{
	uint16_t h;
	hwk_f32_to_bf16(1, &f, &h);
	return h;
}

/* Arrays to and from float or double, for ops that compute narrow or
 * wide types through one float path. */
void rt_to_f32(const void *src, enum hwrt_dtype dt, float *dst, int64_t n)
{
	const uint16_t *h = src;
	switch (dt) {
	case HWRT_FLOAT: memcpy(dst, src, (size_t)n * sizeof(float)); break;
	case HWRT_DOUBLE:
		for (int64_t i = 0; i < n; i++)
			dst[i] = (float)((const double *)src)[i];
		break;
	case HWRT_FLOAT16: hwk_f16_to_f32((size_t)n, h, dst); break;
	case HWRT_BFLOAT16: hwk_bf16_to_f32((size_t)n, h, dst); break;
	case HWRT_INT8:
		for (int64_t i = 0; i < n; i++)
			dst[i] = ((const int8_t *)src)[i];
		break;
	case HWRT_UINT8:
		for (int64_t i = 0; i < n; i++)
			dst[i] = ((const uint8_t *)src)[i];
		break;
	default: break;
	}
}

void rt_from_f32(const float *src, enum hwrt_dtype dt, void *dst, int64_t n)
{
	uint16_t *h = dst;
	switch (dt) {
	case HWRT_FLOAT: memmove(dst, src, (size_t)n * sizeof(float)); break;
	case HWRT_DOUBLE:
		for (int64_t i = 0; i < n; i++)
			((double *)dst)[i] = src[i];
		break;
	case HWRT_FLOAT16: hwk_f32_to_f16((size_t)n, src, h); break;
	case HWRT_BFLOAT16: hwk_f32_to_bf16((size_t)n, src, h); break;
	case HWRT_INT8:
		for (int64_t i = 0; i < n; i++)
			((int8_t *)dst)[i] = (int8_t)fminf(fmaxf(rintf(src[i]), -128.0f), 127.0f);
		break;
	case HWRT_UINT8:
		for (int64_t i = 0; i < n; i++)
			((uint8_t *)dst)[i] = (uint8_t)fminf(fmaxf(rintf(src[i]), 0.0f), 255.0f);
		break;
	default: break;
	}
}

void rt_to_f64(const void *src, enum hwrt_dtype dt, double *dst, int64_t n)
{
	const uint16_t *h = src;
	switch (dt) {
	case HWRT_FLOAT:
		for (int64_t i = 0; i < n; i++)
			dst[i] = ((const float *)src)[i];
		break;
	case HWRT_DOUBLE: memcpy(dst, src, (size_t)n * sizeof(double)); break;
	case HWRT_FLOAT16:
		for (int64_t i = 0; i < n; i++)
			dst[i] = rt_f16_to_f32(h[i]);
		break;
	case HWRT_BFLOAT16:
		for (int64_t i = 0; i < n; i++)
			dst[i] = rt_bf16_to_f32(h[i]);
		break;
	default: break;
	}
}

void rt_from_f64(const double *src, enum hwrt_dtype dt, void *dst, int64_t n)
{
	uint16_t *h = dst;
	switch (dt) {
	case HWRT_FLOAT:
		for (int64_t i = 0; i < n; i++)
			((float *)dst)[i] = (float)src[i];
		break;
	case HWRT_DOUBLE: memmove(dst, src, (size_t)n * sizeof(double)); break;
	case HWRT_FLOAT16:
		for (int64_t i = 0; i < n; i++)
			h[i] = rt_f32_to_f16((float)src[i]);
		break;
	case HWRT_BFLOAT16:
		for (int64_t i = 0; i < n; i++)
			h[i] = rt_f32_to_bf16((float)src[i]);
		break;
	default: break;
	}
}
