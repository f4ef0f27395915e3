/* Conv at int8: weights quantized per output channel (symmetric s8) at
 * load; the input quantized to u8 per image as the node runs (or with the
 * calibrated range), then the integer convolution ConvInteger uses, whose
 * int32 sums are scaled back to float in the output buffer itself. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/compute.h"
#include "runtime/ops/lowp.h"

int rt_lowp_conv_pack(const struct hwrt_tensor *w, int64_t group, struct rt_lowp_conv **out,
		      struct rt_err *e)
{
	*out = NULL;
	int64_t m = w->dims[0], per = m ? hwrt_tensor_count(w) / m : 0;
	if (w->dtype != HWRT_FLOAT || group < 1 || m % group)
		return 1;
	struct rt_lowp_conv *c = calloc(1, sizeof(*c));
	int8_t *q = malloc((size_t)(m * per) + 1);
	if (!c || !q) {
		free(c);
		free(q);
		return rt_fail(e, "out of memory");
	}
	c->m = m;
	c->group = group;
	c->w_scale = malloc((size_t)m * sizeof(float) + 1);
	const float *wf = w->data;
	int rc = -1;
	if (!c->w_scale) {
		rt_fail(e, "out of memory");
		goto out;
	}
	if (rt_lowp_s8_rows((size_t)m, (size_t)per, wf, q, c->w_scale, e) < 0)
		goto out;
	struct hwrt_tensor qt = *w;
	qt.dtype = HWRT_INT8;
	qt.data = q;
	struct rt_qconv geo = { .group = group, .mg = m / group, .kg = per };
	rc = rt_qconv_pack(&geo, &qt, NULL, &c->pw, e);
out:
	free(q);
	if (rc < 0) {
		rt_lowp_conv_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void rt_lowp_conv_free(struct rt_lowp_conv *c)
{
	if (!c)
		return;
	rt_qw_free(&c->pw);
	free(c->w_scale);
	free(c);
}

int rt_lowp_conv_run(const struct rt_lowp_conv *c, const struct rt_node *n,
		     const struct hwrt_tensor *x, const struct hwrt_tensor *w,
		     const float *bias, struct hwrt_tensor *y, const struct hwk_parallel *par,
		     struct rt_err *e)
{
	struct rt_qconv geo;
	if (rt_qconv_shape(n, x, w, &geo, NULL, HWRT_FLOAT, e) < 0)
		return -1;
	if (geo.group != c->group || geo.m != c->m)
		return rt_fail(e, "the weights changed shape since they were packed");
	int64_t per_image = geo.nb ? hwrt_tensor_count(x) / geo.nb : 0;
	int64_t out_image = geo.m * geo.p_out;
	uint8_t *qx = hwk_alloc((size_t)(per_image > 0 ? per_image : 1));
	if (!qx)
		return rt_fail(e, "out of memory for the int8 input");
	struct hwrt_tensor xi = *x;
	xi.dtype = HWRT_UINT8;
	xi.dims[0] = 1;
	xi.data = qx;
	int rc = 0;
	for (int64_t b = 0; b < geo.nb && rc == 0; b++) {
		const float *xb = (const float *)x->data + b * per_image;
		float s;
		uint8_t zp;
		if (n->has_range) {
			rt_lowp_u8_params(n->range_lo, n->range_hi, &s, &zp);
			int32_t z = zp;
			rc = hwk_quantize_f32(HWK_QU8, 1, (size_t)per_image, xb, (size_t)per_image, qx,
					      (size_t)per_image, HWK_QAXIS_TENSOR, &s, &z, par);
		} else {
			rc = hwk_qu8_dynamic_quantize_rows(1, (size_t)per_image, xb, (size_t)per_image,
							   qx, (size_t)per_image, &s, &zp, par);
		}
		if (rc < 0) {
			rc = rt_hwk_fail(e, rc, "int8 quantization");
			break;
		}
		struct rt_qconv g1 = geo;
		g1.nb = 1;
		struct hwrt_tensor zpt = { .dtype = HWRT_UINT8, .rank = 0, .data = &zp };
		/* int32 sums land in the float output, then become floats in place */
		float *yb = (float *)y->data + b * out_image;
		int32_t *acc = (int32_t *)yb;
		rc = rt_qconv_s32(&g1, &xi, &zpt, &c->pw, acc, par, e);
		for (int64_t o = 0; o < geo.m && rc == 0; o++) {
			float f = s * c->w_scale[o], bo = bias ? bias[o] : 0.0f;
			for (int64_t p = 0; p < geo.p_out; p++) {
				int64_t i = o * geo.p_out + p;
				yb[i] = (float)acc[i] * f + bo;
			}
		}
	}
	hwk_free(qx);
	if (rc < 0)
		return -1;
	return rt_lowp_act(n, y->data, (size_t)(geo.nb * out_image), par, e);
}
