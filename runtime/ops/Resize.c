/* Resize: nearest, (multi)linear or cubic interpolation of the input to
 * sizes or by scales, with every coordinate_transformation_mode, the
 * nearest rounding modes, exclude_outside and extrapolation_value. Opset
 * 10 takes scales only, with asymmetric coordinates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/shape_util.h"

enum { NEAREST, LINEAR, CUBIC };
enum { HALF_PIXEL, PYTORCH_HALF_PIXEL, ALIGN_CORNERS, ASYMMETRIC, TF_HALF_PIXEL_FOR_NN,
       TF_CROP_AND_RESIZE, OPSET10 };
enum { ROUND_PREFER_FLOOR, ROUND_PREFER_CEIL, FLOOR, CEIL };

static int pick(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

struct cfg {
	int mode, ctm, nearest;
	float a, extrap;
	bool exclude;
};

static int config(const struct rt_node *n, struct cfg *c, struct rt_err *e)
{
	static const char *const modes[] = { "nearest", "linear", "cubic" };
	static const char *const ctms[] = { "half_pixel", "pytorch_half_pixel", "align_corners",
					    "asymmetric", "tf_half_pixel_for_nn",
					    "tf_crop_and_resize" };
	static const char *const nms[] = { "round_prefer_floor", "round_prefer_ceil", "floor",
					   "ceil" };
	const char *m = rt_attr_string(n, "mode", "nearest");
	const char *t = rt_attr_string(n, "coordinate_transformation_mode", "half_pixel");
	const char *r = rt_attr_string(n, "nearest_mode", "round_prefer_floor");
	if ((c->mode = pick(m, modes, 3)) < 0)
		return rt_fail(e, "mode '%s' is not supported", m);
	if ((c->ctm = pick(t, ctms, 6)) < 0)
		return rt_fail(e, "coordinate_transformation_mode '%s' is not supported", t);
	if ((c->nearest = pick(r, nms, 4)) < 0)
		return rt_fail(e, "nearest_mode '%s' is not supported", r);
	if (n->n_in == 2)
		c->ctm = OPSET10;
	c->a = rt_attr_float(n, "cubic_coeff_a", -0.75f);
	c->exclude = rt_attr_int(n, "exclude_outside", 0) != 0;
	c->extrap = rt_attr_float(n, "extrapolation_value", 0.0f);
	return 0;
}

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	struct cfg c;
	if (g->opset < 11) {
		if (rt_check_io(n, 2, 2, 1, 1, e))
			return -1;
	} else if (rt_check_io(n, 1, 4, 1, 1, e)) {
		return -1;
	}
	if (g->opset < 11 && rt_attr_find(n, "mode") &&
	    strcmp(rt_attr_string(n, "mode", ""), "cubic") == 0)
		return rt_fail(e, "cubic mode needs opset 11");
	return config(n, &c, e);
}

/* Per dim: output length, scale and roi. */
struct geom {
	int64_t out[HWRT_MAX_RANK];
	double scale[HWRT_MAX_RANK], r0[HWRT_MAX_RANK], r1[HWRT_MAX_RANK];
};

static int geometry(const struct rt_node *n, const struct hwrt_tensor *const *in,
		    const struct cfg *c, struct geom *gm, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0], *roi = NULL, *sc = NULL, *sz = NULL;
	if (n->n_in == 2) {
		sc = in[1];
	} else {
		roi = n->n_in > 1 ? in[1] : NULL;
		sc = n->n_in > 2 ? in[2] : NULL;
		sz = n->n_in > 3 ? in[3] : NULL;
	}
	if (sc && hwrt_tensor_count(sc) == 0)
		sc = NULL;
	if (sz && hwrt_tensor_count(sz) == 0)
		sz = NULL;
	if (roi && hwrt_tensor_count(roi) == 0)
		roi = NULL;
	if (!sc == !sz)
		return rt_fail(e, "exactly one of scales and sizes must be given");
	for (int k = 1; k < n->n_in; k++)
		if (in[k] && !in[k]->data && (in[k] == sc || in[k] == sz || in[k] == roi))
			return RT_NEED_VALUE;
	int r = x->rank;
	for (int d = 0; d < r; d++) {
		gm->r0[d] = 0;
		gm->r1[d] = 1;
	}
	if (roi && c->ctm == TF_CROP_AND_RESIZE) {
		if (roi->dtype != HWRT_FLOAT && roi->dtype != HWRT_DOUBLE &&
		    roi->dtype != HWRT_FLOAT16)
			return rt_fail(e, "roi must be a float tensor");
		if (hwrt_tensor_count(roi) != 2 * r)
			return rt_fail(e, "roi has %lld values for rank %d",
				       (long long)hwrt_tensor_count(roi), r);
		for (int d = 0; d < r; d++) {
			gm->r0[d] = rt_num_at(roi, d);
			gm->r1[d] = rt_num_at(roi, r + d);
		}
	}
	if (sc) {
		if (sc->dtype != HWRT_FLOAT || sc->rank != 1)
			return rt_fail(e, "scales must be a 1-D float tensor");
		if (sc->dims[0] != r)
			return rt_fail(e, "scales has %lld values for rank %d",
				       (long long)sc->dims[0], r);
		for (int d = 0; d < r; d++) {
			double s = ((const float *)sc->data)[d];
			if (!(s > 0) || !isfinite(s) || s * (double)x->dims[d] > (double)(1ll << 40))
				return rt_fail(e, "scale %g of dim %d is invalid", s, d);
			gm->scale[d] = s;
			gm->out[d] = (int64_t)floor(s * (double)x->dims[d]);
		}
	} else {
		if (sz->dtype != HWRT_INT64 || sz->rank != 1)
			return rt_fail(e, "sizes must be a 1-D int64 tensor");
		if (sz->dims[0] != r)
			return rt_fail(e, "sizes has %lld values for rank %d",
				       (long long)sz->dims[0], r);
		for (int d = 0; d < r; d++) {
			int64_t v = ((const int64_t *)sz->data)[d];
			if (v < 0)
				return rt_fail(e, "size %lld of dim %d is negative", (long long)v, d);
			if (x->dims[d] == 0 && v)
				return rt_fail(e, "cannot resize an empty dim %d", d);
			gm->out[d] = v;
			gm->scale[d] = x->dims[d] ? (double)v / (double)x->dims[d] : 1;
		}
	}
	for (int d = 0; d < r; d++)
		if (x->dims[d] == 0 && gm->out[d])
			return rt_fail(e, "cannot resize an empty dim %d", d);
	return su_check_dims(r, gm->out, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	struct cfg c;
	struct geom gm;
	const struct hwrt_tensor *x = in[0];
	if (config(n, &c, e) || su_check_dtype(x, "the input", e))
		return -1;
	if (c.mode != NEAREST && x->dtype != HWRT_FLOAT && x->dtype != HWRT_DOUBLE &&
	    x->dtype != HWRT_FLOAT16 && x->dtype != HWRT_UINT8 && x->dtype != HWRT_INT8)
		return rt_fail(e, "%s resize of %s is not supported",
			       c.mode == LINEAR ? "linear" : "cubic", hwrt_dtype_name(x->dtype));
	int rc = geometry(n, in, &c, &gm, e);
	if (rc)
		return rc;
	rt_set_shape(out[0], x->dtype, x->rank, gm.out);
	return 0;
}

/* The source coordinate of output index j along one dim; *outside when
 * tf_crop_and_resize lands outside the input. */
static double coord(const struct cfg *c, int64_t j, double scale, int64_t in_len, double r0,
		    double r1, bool *outside)
{
	double x = (double)j, len_out = scale * (double)in_len, v;
	*outside = false;
	switch (c->ctm) {
	case PYTORCH_HALF_PIXEL: return len_out == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
	case ALIGN_CORNERS: return len_out == 1 ? 0 : x * (double)(in_len - 1) / (len_out - 1);
	case ASYMMETRIC: case OPSET10: return x / scale;
	case TF_HALF_PIXEL_FOR_NN: return (x + 0.5) / scale;
	case TF_CROP_AND_RESIZE:
		if (len_out == 1)
			v = (r1 - r0) * (double)(in_len - 1) / 2;
		else
			v = x * (r1 - r0) * (double)(in_len - 1) / (len_out - 1);
		v += r0 * (double)(in_len - 1);
		*outside = v < 0 || v > (double)(in_len - 1);
		return v;
	default: return (x + 0.5) / scale - 0.5;
	}
}

static int64_t nearest_index(const struct cfg *c, double v, double scale, int64_t in_len)
{
	double f = floor(v);
	int64_t i;
	if (c->ctm == OPSET10)
		i = scale < 1 ? (int64_t)ceil(v) : (int64_t)f;
	else if (v == f)
		i = (int64_t)f;
	else {
		double r = v - f;
		bool up;
		switch (c->nearest) {
		case ROUND_PREFER_FLOOR: up = r > 0.5; break;
		case ROUND_PREFER_CEIL: up = r >= 0.5; break;
		case FLOOR: up = false; break;
		default: up = true;
		}
		i = (int64_t)f + up;
	}
	return i < 0 ? 0 : i >= in_len ? in_len - 1 : i;
}

static void to_dtype(double v, enum hwrt_dtype dt, void *o)
{
	switch (dt) {
	case HWRT_FLOAT: *(float *)o = (float)v; break;
	case HWRT_DOUBLE: *(double *)o = v; break;
	case HWRT_FLOAT16: *(uint16_t *)o = rt_f32_to_f16((float)v); break;
	case HWRT_BFLOAT16: *(uint16_t *)o = rt_f32_to_bf16((float)v); break;
	case HWRT_UINT8: *(uint8_t *)o = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : nearbyint(v)); break;
	case HWRT_INT8:
		*(int8_t *)o = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : nearbyint(v));
		break;
	case HWRT_BOOL: *(uint8_t *)o = v != 0; break;
	case HWRT_INT16: *(int16_t *)o = (int16_t)v; break;
	case HWRT_UINT16: *(uint16_t *)o = (uint16_t)v; break;
	case HWRT_INT32: *(int32_t *)o = (int32_t)v; break;
	case HWRT_UINT32: *(uint32_t *)o = (uint32_t)v; break;
	case HWRT_INT64: *(int64_t *)o = (int64_t)v; break;
	case HWRT_UINT64: *(uint64_t *)o = (uint64_t)v; break;
	default: break;
	}
}

static int run_nearest(const struct cfg *c, const struct geom *gm, const struct hwrt_tensor *t,
		       const struct hwrt_tensor *o, const struct hwk_parallel *par,
		       struct rt_err *e)
{
	int64_t total = 0, st[HWRT_MAX_RANK];
	for (int d = 0; d < t->rank; d++)
		total += o->dims[d];
	int64_t *maps = malloc(((size_t)total + 1) * sizeof(int64_t)), *m = maps;
	if (!maps)
		return rt_fail(e, "out of memory");
	su_strides(t, st);
	struct su_gather g = { .rank = t->rank };
	for (int d = 0; d < t->rank; d++) {
		for (int64_t j = 0; j < o->dims[d]; j++) {
			bool outside;
			double v = coord(c, j, gm->scale[d], t->dims[d], gm->r0[d], gm->r1[d],
					 &outside);
			m[j] = outside ? -1 : nearest_index(c, v, gm->scale[d], t->dims[d]);
		}
		g.dims[d] = o->dims[d];
		g.stride[d] = st[d];
		g.map[d] = m;
		m += o->dims[d];
	}
	char fill[16] = { 0 };
	to_dtype(c->extrap, t->dtype, fill);
	int rc = su_gather_run(&g, t->data, o->data, hwrt_dtype_size(t->dtype), fill, par, e);
	free(maps);
	return rc;
}

/* One separable pass along a dim: taps per output index. */
struct pass {
	const float *src;
	float *dst;
	int64_t outer, in_len, out_len, inner, ntap;
	const int64_t *idx; /* out_len * ntap, clamped; -1 row: extrapolate */
	const float *w;
	float extrap;
	int64_t rows_per_task;
};

static void pass_task(void *ctx, size_t t)
{
	const struct pass *p = ctx;
	int64_t r0 = (int64_t)t * p->rows_per_task, r1 = r0 + p->rows_per_task;
	if (r1 > p->outer * p->out_len)
		r1 = p->outer * p->out_len;
	for (int64_t r = r0; r < r1; r++) {
		int64_t o = r / p->out_len, j = r % p->out_len;
		float *y = p->dst + r * p->inner;
		const int64_t *ix = p->idx + j * p->ntap;
		const float *w = p->w + j * p->ntap;
		if (ix[0] < 0) {
			for (int64_t i = 0; i < p->inner; i++)
				y[i] = p->extrap;
			continue;
		}
		const float *base = p->src + o * p->in_len * p->inner;
		for (int64_t i = 0; i < p->inner; i++)
			y[i] = 0;
		for (int64_t k = 0; k < p->ntap; k++) {
			const float *s = base + ix[k] * p->inner;
			float wk = w[k];
			if (wk == 0)
				continue;
			for (int64_t i = 0; i < p->inner; i++)
				y[i] += wk * s[i];
		}
	}
}

static int run_interp(const struct cfg *c, const struct geom *gm, const struct hwrt_tensor *t,
		      const struct hwrt_tensor *o, const struct hwk_parallel *par,
		      struct rt_err *e)
{
	int r = t->rank;
	int64_t cur[HWRT_MAX_RANK], n_in = hwrt_tensor_count(t), n_out = hwrt_tensor_count(o);
	memcpy(cur, t->dims, sizeof(int64_t) * (size_t)r);
	int64_t maxn = n_in;
	/* the largest intermediate: dims resized in order */
	for (int d = 0; d < r; d++) {
		if (!cur[d])
			return 0;
		cur[d] = gm->out[d];
		int64_t now = 1;
		for (int k = 0; k < r; k++)
			now *= cur[k];
		if (now > maxn)
			maxn = now;
	}
	if (!n_out)
		return 0;
	memcpy(cur, t->dims, sizeof(int64_t) * (size_t)r);
	float *buf[2] = { rt_alloc((size_t)maxn * sizeof(float)),
			  rt_alloc((size_t)maxn * sizeof(float)) };
	int64_t maxo = 0;
	for (int d = 0; d < r; d++)
		if (gm->out[d] > maxo)
			maxo = gm->out[d];
	int64_t *idx = malloc((size_t)(maxo * 4 + 1) * sizeof(int64_t));
	float *w = malloc((size_t)(maxo * 4 + 1) * sizeof(float));
	if (!buf[0] || !buf[1] || !idx || !w) {
		rt_free(buf[0]), rt_free(buf[1]), free(idx), free(w);
		return rt_fail(e, "out of memory");
	}
	float *src = buf[0];
	if (t->dtype == HWRT_FLOAT)
		memcpy(src, t->data, (size_t)n_in * sizeof(float));
	else
		for (int64_t i = 0; i < n_in; i++)
			src[i] = (float)rt_num_at(t, i);
	int cb = 0, ntap = c->mode == LINEAR ? 2 : 4;
	for (int d = 0; d < r; d++) {
		int64_t L = t->dims[d], M = gm->out[d];
		bool ident = L == M && gm->scale[d] == 1 &&
			     (c->ctm != TF_CROP_AND_RESIZE || (gm->r0[d] == 0 && gm->r1[d] == 1));
		if (ident)
			continue;
		for (int64_t j = 0; j < M; j++) {
			bool outside;
			double v = coord(c, j, gm->scale[d], L, gm->r0[d], gm->r1[d], &outside);
			int64_t *ix = idx + j * ntap;
			float *wj = w + j * ntap;
			if (outside) {
				ix[0] = -1;
				continue;
			}
			double f = floor(v);
			if (f == v)
				f -= 1; /* the reference puts an exact hit at ratio 1 */
			double q = v - f, cw[4];
			int64_t first = (int64_t)f - (ntap == 4);
			if (ntap == 2) {
				cw[0] = 1 - q;
				cw[1] = q;
			} else {
				double A = c->a, p = q + 1, s = 1 - q, u = 2 - q;
				cw[0] = ((A * p - 5 * A) * p + 8 * A) * p - 4 * A;
				cw[1] = ((A + 2) * q - (A + 3)) * q * q + 1;
				cw[2] = ((A + 2) * s - (A + 3)) * s * s + 1;
				cw[3] = ((A * u - 5 * A) * u + 8 * A) * u - 4 * A;
			}
			double sum = 0;
			for (int k = 0; k < ntap; k++) {
				int64_t i = first + k;
				if (c->exclude && (i < 0 || i >= L))
					cw[k] = 0;
				sum += cw[k];
				ix[k] = i < 0 ? 0 : i >= L ? L - 1 : i;
			}
			for (int k = 0; k < ntap; k++)
				wj[k] = (float)(c->exclude && sum != 0 ? cw[k] / sum : cw[k]);
		}
		struct pass p = { .src = src, .dst = buf[cb ^ 1], .in_len = L, .out_len = M,
				  .ntap = ntap, .idx = idx, .w = w, .extrap = c->extrap };
		p.outer = 1;
		p.inner = 1;
		for (int k = 0; k < d; k++)
			p.outer *= cur[k];
		for (int k = d + 1; k < r; k++)
			p.inner *= cur[k];
		int64_t rows = p.outer * M;
		size_t th = hwk_parallel_threads(par);
		int64_t tasks = th > 1 && rows * p.inner > 16384 ? (int64_t)th * 4 : 1;
		if (tasks > rows)
			tasks = rows;
		p.rows_per_task = (rows + tasks - 1) / tasks;
		tasks = (rows + p.rows_per_task - 1) / p.rows_per_task;
		hwk_parallel_for(par, (size_t)tasks, pass_task, &p);
		cur[d] = M;
		cb ^= 1;
		src = buf[cb];
	}
	if (o->dtype == HWRT_FLOAT)
		memcpy(o->data, src, (size_t)n_out * sizeof(float));
	else
		for (int64_t i = 0; i < n_out; i++)
			to_dtype(src[i], o->dtype,
				 (char *)o->data + i * (int64_t)hwrt_dtype_size(o->dtype));
	rt_free(buf[0]), rt_free(buf[1]), free(idx), free(w);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	struct cfg c;
	struct geom gm;
	if (config(n, &c, e) || geometry(n, in, &c, &gm, e))
		return -1;
	if (c.mode == NEAREST)
		return run_nearest(&c, &gm, in[0], out[0], x->par, e);
	return run_interp(&c, &gm, in[0], out[0], x->par, e);
}

RT_OP_DEFINE(Resize) = { .name = "Resize", .since = 10, .check = check, .infer = infer,
			 .run = run };
