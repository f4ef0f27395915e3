/* q8-cvt: the ISA-free part of quantize, dequantize and dynamic per-row
 * quantization: argument checks, rows, axes, tasks. */
#include <errno.h>
#include <math.h>

#include "kernels/core/registry.h"
#include "kernels/q8-cvt/q8-cvt.h"

static const struct hwk_variant variants[] = {
#if defined(__x86_64__)
	{ HWK_ISA_AVX512F, "x64-avx512f", &hwk_q8_cvt_ukernel_x64__avx512f },
	{ HWK_ISA_AVX2, "x32-avx2", &hwk_q8_cvt_ukernel_x32__avx2 },
#endif
#if defined(__aarch64__)
	{ HWK_ISA_NEON, "x16-neon", &hwk_q8_cvt_ukernel_x16__neon },
#endif
	{ HWK_ISA_SCALAR, "x1-scalar", &hwk_q8_cvt_ukernel_x1__scalar },
};

struct hwk_op hwk_op_q8_cvt = {
	"q8-cvt", variants, sizeof(variants) / sizeof(variants[0]), NULL,
};

static const struct hwk_q8_cvt_impl *impl(void)
{
	return hwk_op_variant(&hwk_op_q8_cvt)->impl;
}

static void qrange(enum hwk_qtype t, int32_t *qmin, int32_t *qmax)
{
	*qmin = t == HWK_QS8 ? -128 : 0;
	*qmax = t == HWK_QS8 ? 127 : 255;
}

static bool good_scale(float s)
{
	return isfinite(s) && s > 0.0f;
}

/* Common checks: the matrix, the axis, scales and zero points. */
static int check(enum hwk_qtype type, size_t rows, size_t cols, const void *src, size_t lds,
		 const void *dst, size_t ldd, enum hwk_qaxis axis, const float *scale,
		 const int32_t *zp)
{
	if (type != HWK_QU8 && type != HWK_QS8)
		return -EINVAL;
	if (axis != HWK_QAXIS_TENSOR && axis != HWK_QAXIS_ROW && axis != HWK_QAXIS_COL)
		return -EINVAL;
	if (rows == 0 || cols == 0)
		return 0;
	if (!src || !dst || !scale || lds < cols || ldd < cols)
		return -EINVAL;
	size_t n = axis == HWK_QAXIS_TENSOR ? 1 : axis == HWK_QAXIS_ROW ? rows : cols;
	int32_t qmin, qmax;
	qrange(type, &qmin, &qmax);
	for (size_t i = 0; i < n; i++) {
		if (!good_scale(scale[i]))
			return -EINVAL;
		if (zp && (zp[i] < qmin || zp[i] > qmax))
			return -EINVAL;
	}
	return 0;
}

struct cvt_ctx {
	const struct hwk_q8_cvt_impl *k;
	enum hwk_qtype type;
	size_t rows, cols, rows_per_task;
	const void *src;
	size_t lds;
	void *dst;
	size_t ldd;
	enum hwk_qaxis axis;
	const float *scale;
	const int32_t *zp;
	/* dynamic */
	float *dscale;
	uint8_t *dzp;
};

/* Tasks of whole rows; about 16 KiB of input each, at most 4 per thread. */
static size_t split_rows(struct cvt_ctx *c, const struct hwk_parallel *par)
{
	size_t threads = hwk_parallel_threads(par);
	if (threads <= 1 || c->rows <= 1) {
		c->rows_per_task = c->rows;
		return 1;
	}
	size_t per = (4096 + c->cols - 1) / c->cols;
	size_t min_per = (c->rows + 4 * threads - 1) / (4 * threads);
	if (per < min_per)
		per = min_per;
	c->rows_per_task = per;
	return (c->rows + per - 1) / per;
}

static void quantize_task(void *p, size_t t)
{
	struct cvt_ctx *c = p;
	int32_t qmin, qmax;
	qrange(c->type, &qmin, &qmax);
	size_t r0 = t * c->rows_per_task, r1 = r0 + c->rows_per_task;
	if (r1 > c->rows)
		r1 = c->rows;
	for (size_t r = r0; r < r1; r++) {
		const float *x = (const float *)c->src + r * c->lds;
		uint8_t *y = (uint8_t *)c->dst + r * c->ldd;
		switch (c->axis) {
		case HWK_QAXIS_TENSOR:
			c->k->quantize(c->cols, x, y, c->scale[0], c->zp ? c->zp[0] : 0, qmin, qmax);
			break;
		case HWK_QAXIS_ROW:
			c->k->quantize(c->cols, x, y, c->scale[r], c->zp ? c->zp[r] : 0, qmin, qmax);
			break;
		case HWK_QAXIS_COL:
			c->k->quantize_v(c->cols, x, y, c->scale, c->zp, qmin, qmax);
			break;
		}
	}
}

static void dequantize_task(void *p, size_t t)
{
	struct cvt_ctx *c = p;
	int sgn = c->type == HWK_QS8;
	size_t r0 = t * c->rows_per_task, r1 = r0 + c->rows_per_task;
	if (r1 > c->rows)
		r1 = c->rows;
	for (size_t r = r0; r < r1; r++) {
		const uint8_t *q = (const uint8_t *)c->src + r * c->lds;
		float *y = (float *)c->dst + r * c->ldd;
		switch (c->axis) {
		case HWK_QAXIS_TENSOR:
			c->k->dequantize(c->cols, q, sgn, y, c->scale[0], c->zp ? c->zp[0] : 0);
			break;
		case HWK_QAXIS_ROW:
			c->k->dequantize(c->cols, q, sgn, y, c->scale[r], c->zp ? c->zp[r] : 0);
			break;
		case HWK_QAXIS_COL:
			c->k->dequantize_v(c->cols, q, sgn, y, c->scale, c->zp);
			break;
		}
	}
}

int hwk_quantize_f32(enum hwk_qtype type, size_t rows, size_t cols, const float *x, size_t ldx,
		     void *q, size_t ldq, enum hwk_qaxis axis, const float *scale,
		     const int32_t *zp, const struct hwk_parallel *par)
{
	int rc = check(type, rows, cols, x, ldx, q, ldq, axis, scale, zp);
	if (rc || rows == 0 || cols == 0)
		return rc;
	struct cvt_ctx c = { impl(), type, rows, cols, 0, x, ldx, q, ldq, axis, scale, zp, NULL, NULL };
	hwk_parallel_for(par, split_rows(&c, par), quantize_task, &c);
	return 0;
}

int hwk_dequantize_f32(enum hwk_qtype type, size_t rows, size_t cols, const void *q, size_t ldq,
		       float *y, size_t ldy, enum hwk_qaxis axis, const float *scale,
		       const int32_t *zp, const struct hwk_parallel *par)
{
	int rc = check(type, rows, cols, q, ldq, y, ldy, axis, scale, zp);
	if (rc || rows == 0 || cols == 0)
		return rc;
	struct cvt_ctx c = { impl(), type, rows, cols, 0, q, ldq, y, ldy, axis, scale, zp, NULL, NULL };
	hwk_parallel_for(par, split_rows(&c, par), dequantize_task, &c);
	return 0;
}

static void dynamic_task(void *p, size_t t)
{
	struct cvt_ctx *c = p;
	size_t r0 = t * c->rows_per_task, r1 = r0 + c->rows_per_task;
	if (r1 > c->rows)
		r1 = c->rows;
	for (size_t r = r0; r < r1; r++) {
		const float *x = (const float *)c->src + r * c->lds;
		uint8_t *y = (uint8_t *)c->dst + r * c->ldd;
		float lo, hi;
		c->k->minmax(c->cols, x, &lo, &hi);
		lo = lo < 0.0f ? lo : 0.0f;
		hi = hi > 0.0f ? hi : 0.0f;
		float scale = (hi - lo) / 255.0f;
		if (scale == 0.0f)
			scale = 1.0f;
		float izp = 0.0f - lo / scale;
		if (izp != izp)
			izp = 0.0f; /* lo = -inf: inf / inf */
		izp = izp < 0.0f ? 0.0f : izp > 255.0f ? 255.0f : izp;
		int32_t zp = (int32_t)nearbyintf(izp);
		c->dscale[r] = scale;
		c->dzp[r] = (uint8_t)zp;
		c->k->quantize(c->cols, x, y, scale, zp, 0, 255);
	}
}

int hwk_qu8_dynamic_quantize_rows(size_t rows, size_t cols, const float *x, size_t ldx,
				  uint8_t *q, size_t ldq, float *scale, uint8_t *zp,
				  const struct hwk_parallel *par)
{
	if (rows == 0 || cols == 0)
		return 0;
	if (!x || !q || !scale || !zp || ldx < cols || ldq < cols)
		return -EINVAL;
	struct cvt_ctx c = { impl(), HWK_QU8, rows, cols, 0, x, ldx, q, ldq, HWK_QAXIS_ROW, NULL, NULL,
			     scale, zp };
	hwk_parallel_for(par, split_rows(&c, par), dynamic_task, &c);
	return 0;
}
