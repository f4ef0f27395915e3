/* MatMul and Gemm weights at bf16 (libhwk's reduced-precision-weight
 * GEMM), int8 (symmetric per-column s8 weights, u8 activations quantized
 * as the node runs, the VNNI GEMM) or int4 (blocks of 32 along k with a
 * scale and minimum each, dequantized in the GEMM's registers). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/compute.h"
#include "runtime/ops/lowp.h"

enum hwrt_precision rt_lowp_choose(const struct rt_node *n, const struct rt_graph *g)
{
	return rt_keep_fp32(g, n) ? HWRT_PREC_FP32 : g->opt.precision;
}

void rt_lowp_u8_params(float lo, float hi, float *scale, uint8_t *zp)
{
	lo = lo < 0.0f ? lo : 0.0f;
	hi = hi > 0.0f ? hi : 0.0f;
	float s = (hi - lo) / 255.0f;
	if (!(s > 0.0f) || !isfinite(s))
		s = 1.0f;
	float z = nearbyintf(-lo / s);
	*scale = s;
	*zp = (uint8_t)(z < 0.0f ? 0.0f : z > 255.0f ? 255.0f : z);
}

bool rt_lowp_use(const struct rt_node *n, const struct rt_ctx *x, const float *a, size_t count)
{
	struct rt_calib *c = x->calib;
	if (!c || !c->reference)
		return true;
	size_t i = (size_t)(n - x->g->nodes);
	float lo = c->seen[i] ? c->lo[i] : INFINITY, hi = c->seen[i] ? c->hi[i] : -INFINITY;
	for (size_t j = 0; j < count; j++) {
		float v = a[j];
		if (!isfinite(v))
			continue;
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	if (lo <= hi) {
		c->lo[i] = lo;
		c->hi[i] = hi;
		c->seen[i] = true;
	}
	return false;
}

int rt_lowp_act(const struct rt_node *n, float *y, size_t count, const struct hwk_parallel *par,
		struct rt_err *e)
{
	struct hwk_vunary_params prm = { .min = n->act_min, .max = n->act_max };
	enum hwk_vunary_op op;
	switch (n->act) {
	case RT_ACT_NONE:
		return 0;
	case RT_ACT_RELU:
		op = HWK_VUNARY_RELU;
		break;
	case RT_ACT_CLIP:
		op = HWK_VUNARY_CLIP;
		break;
	case RT_ACT_SIGMOID_MUL:
		op = HWK_VUNARY_SILU;
		break;
	case RT_ACT_HARDSWISH:
		op = HWK_VUNARY_HARDSWISH;
		break;
	case RT_ACT_GELU:
		op = HWK_VUNARY_GELU;
		break;
	default:
		return rt_fail(e, "unknown fused activation %d", (int)n->act);
	}
	int rc = hwk_f32_vunary(op, &prm, count, y, y, par);
	return rc < 0 ? rt_hwk_fail(e, rc, "activation") : 0;
}

/* W as n x k (rows are output features), times alpha, in a new buffer. */
static float *rows_nk(size_t k, size_t n, const float *w, size_t ldw, bool trans, float alpha)
{
	float *t = malloc(k * n * sizeof(float) + 1);
	if (!t)
		return NULL;
	for (size_t j = 0; j < n; j++)
		for (size_t i = 0; i < k; i++)
			t[j * k + i] = alpha * (trans ? w[j * ldw + i] : w[i * ldw + j]);
	return t;
}

static int pack_bf16(struct rt_lowp_gemm *q, const float *wt, struct rt_err *e)
{
	uint16_t *b = malloc(q->k * q->n * sizeof(uint16_t) + 1);
	if (!b)
		return rt_fail(e, "out of memory");
	hwk_f32_to_bf16(q->k * q->n, wt, b);
	q->bf16 = hwk_rpw_gemm_pack_b(HWK_RPW_BF16, q->k, q->n, b, q->k, true, 1.0f);
	free(b);
	return q->bf16 ? 0 : rt_fail(e, "cannot pack bf16 weights (%zu x %zu)", q->k, q->n);
}

int rt_lowp_s8_rows(size_t rows, size_t cols, const float *w, int8_t *q, float *scale,
		    struct rt_err *e)
{
	/* symmetric: max |w| of the row maps to 127 */
	for (size_t j = 0; j < rows; j++) {
		float mx = 0.0f;
		for (size_t i = 0; i < cols; i++)
			mx = fmaxf(mx, fabsf(w[j * cols + i]));
		scale[j] = mx > 0.0f && isfinite(mx) ? mx / 127.0f : 1.0f;
	}
	if (hwk_quantize_f32(HWK_QS8, rows, cols, w, cols, q, cols, HWK_QAXIS_ROW, scale, NULL,
			     NULL) < 0)
		return rt_fail(e, "cannot quantize the weights to int8");
	return 0;
}

static int pack_int8(struct rt_lowp_gemm *q, const float *wt, struct rt_err *e)
{
	size_t k = q->k, n = q->n;
	int8_t *b = malloc(k * n + 1);
	float *scale = malloc(n * sizeof(float) + 1);
	int rc = -1;
	if (!b || !scale) {
		rt_fail(e, "out of memory");
		goto out;
	}
	if (rt_lowp_s8_rows(n, k, wt, b, scale, e) < 0)
		goto out;
	struct hwk_qs8_weights w = { .k = k, .n = n, .b = b, .ldb = k, .trans = true,
				     .scale = scale, .scale_count = n, .bias = q->bias };
	if (hwk_qs8_gemm_pack(&w, &q->s8) < 0) {
		rt_fail(e, "cannot pack int8 weights (%zu x %zu)", k, n);
		goto out;
	}
	rc = 0;
out:
	free(b);
	free(scale);
	return rc;
}

static int pack_int4(struct rt_lowp_gemm *q, const float *wt, struct rt_err *e)
{
	size_t blocks = q->n * (q->k / 32);
	uint8_t *b = malloc(q->n * q->k / 2 + 1);
	float *scale = malloc(blocks * sizeof(float) + 1), *min = malloc(blocks * sizeof(float) + 1);
	q->q4 = (struct hwk_qb4_weights){ .n = q->n, .k = q->k, .q = b, .scale = scale, .min = min };
	if (!b || !scale || !min)
		return rt_fail(e, "out of memory");
	if (hwk_qb4_quantize(q->n, q->k, wt, b, scale, min) < 0)
		return rt_fail(e, "cannot quantize the weights to int4");
	return 0;
}

int rt_lowp_gemm_pack(enum hwrt_precision p, size_t k, size_t n, const float *w, size_t ldw,
		      bool trans, float alpha, const float *bias, struct rt_lowp_gemm **out,
		      struct rt_err *e)
{
	*out = NULL;
	if (p == HWRT_PREC_FP32 || !k || !n || (p == HWRT_PREC_INT4 && k % 32))
		return 1;
	struct rt_lowp_gemm *q = calloc(1, sizeof(*q));
	float *wt = rows_nk(k, n, w, ldw, trans, alpha);
	if (!q || !wt) {
		free(q);
		free(wt);
		return rt_fail(e, "out of memory");
	}
	q->prec = p;
	q->k = k;
	q->n = n;
	if (bias) {
		q->bias = malloc(n * sizeof(float));
		if (!q->bias) {
			free(wt);
			rt_lowp_gemm_free(q);
			return rt_fail(e, "out of memory");
		}
		memcpy(q->bias, bias, n * sizeof(float));
	}
	int rc = p == HWRT_PREC_BF16 ? pack_bf16(q, wt, e)
		 : p == HWRT_PREC_INT8 ? pack_int8(q, wt, e)
				       : pack_int4(q, wt, e);
	free(wt);
	if (rc < 0) {
		rt_lowp_gemm_free(q);
		return -1;
	}
	*out = q;
	return 0;
}

void rt_lowp_gemm_free(struct rt_lowp_gemm *q)
{
	if (!q)
		return;
	hwk_rpw_gemm_packed_b_free(q->bf16);
	hwk_qs8_gemm_packed_free(q->s8);
	free((void *)q->q4.q);
	free((void *)q->q4.scale);
	free((void *)q->q4.min);
	free(q->bias);
	free(q);
}

/* y += bias per row, then the activation. */
static int bias_act(const struct rt_node *n, size_t m, size_t cols, const float *bias, float *y,
		    const struct hwk_parallel *par, struct rt_err *e)
{
	if (bias)
		for (size_t i = 0; i < m; i++)
			for (size_t j = 0; j < cols; j++)
				y[i * cols + j] += bias[j];
	return rt_lowp_act(n, y, m * cols, par, e);
}

static int run_int8(const struct rt_lowp_gemm *w, const struct rt_node *n, size_t m,
		    const float *a, size_t lda, float *y, const struct hwk_parallel *par,
		    struct rt_err *e)
{
	size_t k = w->k;
	uint8_t *qa = hwk_alloc(m * k + m * (sizeof(float) + 1) + 64);
	if (!qa)
		return rt_fail(e, "out of memory for %zu x %zu int8 activations", m, k);
	float *scale = (float *)(qa + ((m * k + 63) & ~(size_t)63));
	uint8_t *zp = (uint8_t *)(scale + m);
	struct hwk_qs8_gemm_args args = { .m = m, .a = qa, .lda = k, .a_zp = zp, .a_zp_count = m,
					  .a_scale = scale, .a_scale_count = m,
					  .out = HWK_QS8_F32, .c = y, .ldc = w->n };
	int rc;
	if (n->has_range) {
		rt_lowp_u8_params(n->range_lo, n->range_hi, &scale[0], &zp[0]);
		int32_t z = zp[0];
		args.a_zp_count = args.a_scale_count = 1;
		rc = hwk_quantize_f32(HWK_QU8, m, k, a, lda, qa, k, HWK_QAXIS_TENSOR, scale, &z,
				      par);
	} else {
		rc = hwk_qu8_dynamic_quantize_rows(m, k, a, lda, qa, k, scale, zp, par);
	}
	if (rc == 0)
		rc = hwk_qs8_gemm(w->s8, &args, par);
	hwk_free(qa);
	return rc < 0 ? rt_hwk_fail(e, rc, "int8 GEMM") : 0;
}

int rt_lowp_gemm_run(const struct rt_lowp_gemm *w, const struct rt_node *n, size_t m,
		     const float *a, size_t lda, const float *bias, float *y,
		     const struct hwk_parallel *par, struct rt_err *e)
{
	int rc;
	switch (w->prec) {
	case HWRT_PREC_BF16: {
		struct hwk_f32_gemm_epilogue ep;
		if (w->bias && bias)
			return rt_fail(e, "two biases for a bf16 GEMM");
		bool post = rt_make_epilogue(n, w->bias ? w->bias : bias, &ep);
		rc = hwk_rpw_gemm(m, w->n, w->k, 1.0f, a, lda, w->bf16, 0.0f, y, w->n, &ep, par);
		if (rc < 0)
			return rt_hwk_fail(e, rc, "bf16 GEMM");
		return post ? rt_post_act(n, y, m * w->n, par, e) : 0;
	}
	case HWRT_PREC_INT8:
		if (run_int8(w, n, m, a, lda, y, par, e) < 0)
			return -1;
		return bias_act(n, m, w->n, bias, y, par, e);
	case HWRT_PREC_INT4:
		rc = hwk_f32_qb4_gemm(m, a, lda, &w->q4, w->bias, y, w->n, par);
		if (rc < 0)
			return rt_hwk_fail(e, rc, "int4 GEMM");
		return bias_act(n, m, w->n, bias, y, par, e);
	case HWRT_PREC_FP32:
		break;
	}
	return rt_fail(e, "no reduced-precision weights");
}
