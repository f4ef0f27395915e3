/* Clip: min(max(x, lo), hi) (opset 6+). Before opset 11 the bounds are the
 * min/max attributes (floats); from 11 optional inputs (scalars of X's
 * type, absent = no bound); integer types from opset 12. lo > hi gives hi,
 * as numpy's clip. float goes through libhwk's vector clip. */
#include <float.h>
#include <string.h>

#include "runtime/ops/eltwise.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 1, g->opset < 11 ? 1 : 3, 1, 1, e);
}

static bool supported(enum hwrt_dtype t)
{
	switch (t) {
	case HWRT_FLOAT: case HWRT_DOUBLE: case HWRT_FLOAT16: case HWRT_BFLOAT16:
	case HWRT_INT8: case HWRT_UINT8: case HWRT_INT16: case HWRT_UINT16: case HWRT_INT32:
	case HWRT_UINT32: case HWRT_INT64: case HWRT_UINT64: return true;
	default: return false;
	}
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	if (!supported(in[0]->dtype))
		return rt_fail(e, "type %s is not supported", hwrt_dtype_name(in[0]->dtype));
	for (int k = 1; k < n->n_in; k++) {
		if (!in[k])
			continue;
		if (in[k]->dtype != in[0]->dtype)
			return rt_fail(e, "bound %d has type %s, X %s", k,
				       hwrt_dtype_name(in[k]->dtype), hwrt_dtype_name(in[0]->dtype));
		if (hwrt_tensor_count(in[k]) != 1)
			return rt_fail(e, "bound %d is not a scalar", k);
	}
	rt_set_shape(out[0], in[0]->dtype, in[0]->rank, in[0]->dims);
	return 0;
}

struct clip {
	const void *x;
	void *y;
	enum hwrt_dtype t;
	/* bounds as the widest type of each kind; has_*: bound present */
	double flo, fhi;
	int64_t ilo, ihi;
	uint64_t ulo, uhi;
	bool has_lo, has_hi;
};

#define CLIP_LOOP(T, LO, HI)                                                                  \
	do {                                                                                  \
		const T *X = (const T *)c->x + s;                                             \
		T *Y = (T *)c->y + s, lo = (T)(LO), hi = (T)(HI);                             \
		for (int64_t i = 0; i < n; i++) {                                             \
			T v = X[i];                                                           \
			if (c->has_lo && v < lo)                                              \
				v = lo;                                                       \
			if (c->has_hi && v > hi)                                              \
				v = hi;                                                       \
			Y[i] = v;                                                             \
		}                                                                             \
	} while (0)

static void clip_range(void *p, int64_t s, int64_t n)
{
	const struct clip *c = p;
	switch (c->t) {
	case HWRT_FLOAT: CLIP_LOOP(float, c->flo, c->fhi); break;
	case HWRT_DOUBLE: CLIP_LOOP(double, c->flo, c->fhi); break;
	case HWRT_INT8: CLIP_LOOP(int8_t, c->ilo, c->ihi); break;
	case HWRT_INT16: CLIP_LOOP(int16_t, c->ilo, c->ihi); break;
	case HWRT_INT32: CLIP_LOOP(int32_t, c->ilo, c->ihi); break;
	case HWRT_INT64: CLIP_LOOP(int64_t, c->ilo, c->ihi); break;
	case HWRT_UINT8: CLIP_LOOP(uint8_t, c->ulo, c->uhi); break;
	case HWRT_UINT16: CLIP_LOOP(uint16_t, c->ulo, c->uhi); break;
	case HWRT_UINT32: CLIP_LOOP(uint32_t, c->ulo, c->uhi); break;
	case HWRT_UINT64: CLIP_LOOP(uint64_t, c->ulo, c->uhi); break;
	case HWRT_FLOAT16:
	case HWRT_BFLOAT16: {
		const uint16_t *X = (const uint16_t *)c->x + s;
		uint16_t *Y = (uint16_t *)c->y + s;
		bool h = c->t == HWRT_FLOAT16;
		for (int64_t i = 0; i < n; i++) {
			float v = h ? rt_f16_to_f32(X[i]) : rt_bf16_to_f32(X[i]);
			if (c->has_lo && v < c->flo)
				v = (float)c->flo;
			if (c->has_hi && v > c->fhi)
				v = (float)c->fhi;
			Y[i] = h ? rt_f32_to_f16(v) : rt_f32_to_bf16(v);
		}
		break;
	}
	default: break;
	}
}

static void bound(struct clip *c, const struct hwrt_tensor *b, bool hi)
{
	double f = rt_num_at(b, 0);
	int64_t i = 0;
	uint64_t u = 0;
	switch (b->dtype) {
	case HWRT_INT64: i = ((const int64_t *)b->data)[0]; break;
	case HWRT_UINT64: u = ((const uint64_t *)b->data)[0]; break;
	case HWRT_INT8: case HWRT_INT16: case HWRT_INT32: i = (int64_t)f; break;
	case HWRT_UINT8: case HWRT_UINT16: case HWRT_UINT32: u = (uint64_t)f; break;
	default: break;
	}
	if (hi) {
		c->fhi = f, c->ihi = i, c->uhi = u, c->has_hi = true;
	} else {
		c->flo = f, c->ilo = i, c->ulo = u, c->has_lo = true;
	}
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	struct clip c = { in[0]->data, out[0]->data, in[0]->dtype, -INFINITY, INFINITY, 0, 0, 0,
			  0, false, false };
	if (n->n_in == 1 && (rt_attr_find(n, "min") || rt_attr_find(n, "max"))) {
		c.flo = rt_attr_float(n, "min", -FLT_MAX);
		c.fhi = rt_attr_float(n, "max", FLT_MAX);
		c.has_lo = c.has_hi = true;
	}
	if (n->n_in > 1 && in[1])
		bound(&c, in[1], false);
	if (n->n_in > 2 && in[2])
		bound(&c, in[2], true);
	int64_t cnt = hwrt_tensor_count(in[0]);
	if (c.t == HWRT_FLOAT && !isnan(c.flo) && !isnan(c.fhi)) {
		struct hwk_vunary_params pr = { .min = c.has_lo ? (float)c.flo : -INFINITY,
						.max = c.has_hi ? (float)c.fhi : INFINITY };
		if (hwk_f32_vunary(HWK_VUNARY_CLIP, &pr, (size_t)cnt, in[0]->data, out[0]->data,
				   x->par) < 0)
			return rt_fail(e, "the clip kernel refused its arguments");
		return 0;
	}
	rt_parallel_range(x->par, cnt, clip_range, &c);
	return 0;
}

RT_OP_DEFINE(Clip) = { .name = "Clip", .since = 6, .flags = RT_OP_INPLACE, .check = check,
		       .infer = infer, .run = run };
