/* Shared helpers of the compute operators: epilogues, windows, and the
 * float32 detour for other element types. */
#include "runtime/ops/compute.h"

#include <errno.h>
#include <math.h>
#include <string.h>

int rt_hwk_fail(struct rt_err *e, int rc, const char *what)
{
	if (rc == -ENOMEM)
		return rt_fail(e, "%s: out of memory", what);
	return rt_fail(e, "%s failed (error %d)", what, rc);
}

bool rt_make_epilogue(const struct rt_node *n, const float *bias, struct hwk_f32_gemm_epilogue *ep)
{
	memset(ep, 0, sizeof(*ep));
	ep->bias = bias;
	switch (n->act) {
	case RT_ACT_RELU:
		ep->act = HWK_F32_GEMM_ACT_RELU;
		break;
	case RT_ACT_CLIP:
		ep->clip = true;
		ep->clip_min = n->act_min;
		ep->clip_max = n->act_max;
		break;
	case RT_ACT_SIGMOID_MUL:
		ep->act = HWK_F32_GEMM_ACT_SILU;
		break;
	case RT_ACT_GELU:
		ep->act = HWK_F32_GEMM_ACT_GELU;
		break;
	case RT_ACT_HARDSWISH:
		return true;
	case RT_ACT_NONE:
		break;
	}
	return false;
}

int rt_post_act(const struct rt_node *n, float *y, size_t count, const struct hwk_parallel *par,
		struct rt_err *e)
{
	if (n->act != RT_ACT_HARDSWISH || !count)
		return 0;
	int rc = hwk_f32_vunary(HWK_VUNARY_HARDSWISH, NULL, count, y, y, par);
	return rc < 0 ? rt_hwk_fail(e, rc, "HardSwish") : 0;
}

static float act1(const struct rt_node *n, float v)
{
	switch (n->act) {
	case RT_ACT_RELU:
		return v > 0.0f ? v : 0.0f;
	case RT_ACT_CLIP:
		return v < n->act_min ? n->act_min : v > n->act_max ? n->act_max : v;
	case RT_ACT_SIGMOID_MUL:
		return v / (1.0f + expf(-v));
	case RT_ACT_GELU:
		return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
	case RT_ACT_HARDSWISH: {
		float t = v / 6.0f + 0.5f;
		return v * (t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t);
	}
	case RT_ACT_NONE:
		break;
	}
	return v;
}

int rt_bias_act(const struct rt_node *n, float *y, size_t outer, size_t channels, size_t inner,
		const float *bias, const struct hwk_parallel *par, struct rt_err *e)
{
	if (!bias && n->act == RT_ACT_NONE)
		return 0;
	for (size_t o = 0; o < outer; o++)
		for (size_t c = 0; c < channels; c++) {
			float *p = y + (o * channels + c) * inner, b = bias ? bias[c] : 0.0f;
			if (n->act == RT_ACT_NONE)
				for (size_t i = 0; i < inner; i++)
					p[i] += b;
			else
				for (size_t i = 0; i < inner; i++)
					p[i] = act1(n, p[i] + b);
		}
	return 0;
}

const float *rt_fused_bias(const struct rt_node *n, const struct rt_graph *g, int64_t count,
			   bool *bad)
{
	*bad = false;
	if (n->bias < 0 || !g)
		return NULL;
	const struct hwrt_tensor *b = g->values[n->bias].konst;
	if (!b || b->dtype != HWRT_FLOAT || hwrt_tensor_count(b) != count) {
		*bad = true;
		return NULL;
	}
	return b->data;
}

bool rt_compute_float_type(enum hwrt_dtype t)
{
	return t == HWRT_FLOAT || t == HWRT_FLOAT16 || t == HWRT_DOUBLE;
}

static bool detour(enum hwrt_dtype t)
{
	return t == HWRT_FLOAT16 || t == HWRT_DOUBLE || t == HWRT_INT8 || t == HWRT_UINT8;
}

static void to_f32(const struct hwrt_tensor *s, float *d)
{
	rt_to_f32(s->data, s->dtype, d, hwrt_tensor_count(s));
}

static void from_f32(const float *s, struct hwrt_tensor *d)
{
	rt_from_f32(s, d->dtype, d->data, hwrt_tensor_count(d));
}

int rt_run_as_f32(const struct rt_node *n, const struct hwrt_tensor *const *in,
		  struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e,
		  rt_run_fn fn)
{
	struct hwrt_tensor *tin[16] = { 0 }, *tout[16] = { 0 };
	const struct hwrt_tensor *fin[16];
	struct hwrt_tensor *fout[16];
	int rc = 0;
	if (n->n_in > 16 || n->n_out > 16)
		return rt_fail(e, "too many inputs or outputs");
	for (int k = 0; k < n->n_in && rc == 0; k++) {
		fin[k] = in[k];
		if (!in[k] || !detour(in[k]->dtype))
			continue;
		tin[k] = rt_tensor_new(HWRT_FLOAT, in[k]->rank, in[k]->dims);
		if (!tin[k])
			rc = rt_fail(e, "out of memory");
		else
			to_f32(in[k], tin[k]->data);
		fin[k] = tin[k];
	}
	for (int k = 0; k < n->n_out && rc == 0; k++) {
		fout[k] = out[k];
		if (!out[k] || !detour(out[k]->dtype))
			continue;
		tout[k] = rt_tensor_new(HWRT_FLOAT, out[k]->rank, out[k]->dims);
		if (!tout[k])
			rc = rt_fail(e, "out of memory");
		fout[k] = tout[k];
	}
	if (rc == 0)
		rc = fn(n, fin, fout, x, e);
	for (int k = 0; k < n->n_out; k++) {
		if (rc == 0 && tout[k])
			from_f32(tout[k]->data, out[k]);
		rt_tensor_free(tout[k]);
	}
	for (int k = 0; k < n->n_in; k++)
		rt_tensor_free(tin[k]);
	return rc;
}

int rt_spatial_ints(const struct rt_node *n, const char *name, int nd, int64_t dflt, int64_t *v,
		    struct rt_err *e)
{
	const int64_t *a;
	int c = rt_attr_ints(n, name, &a);
	if (c < 0) {
		for (int i = 0; i < nd; i++)
			v[i] = dflt;
		return 0;
	}
	if (c != nd)
		return rt_fail(e, "%s has %d values, expected %d (one per spatial axis)", name, c, nd);
	for (int i = 0; i < nd; i++)
		v[i] = a[i];
	return 0;
}

int rt_check_auto_pad(const struct rt_node *n, struct rt_err *e)
{
	const char *ap = rt_attr_string(n, "auto_pad", "NOTSET");
	if (strcmp(ap, "NOTSET") && strcmp(ap, "SAME_UPPER") && strcmp(ap, "SAME_LOWER") &&
	    strcmp(ap, "VALID"))
		return rt_fail(e, "unknown auto_pad '%s'", ap);
	return 0;
}

int rt_window_infer(const struct rt_node *n, struct rt_window *w, bool dilations_ok,
		    struct rt_err *e)
{
	int nd = w->nd;
	if (rt_check_auto_pad(n, e) < 0)
		return -1;
	if (rt_spatial_ints(n, "strides", nd, 1, w->s, e) < 0)
		return -1;
	if (dilations_ok) {
		if (rt_spatial_ints(n, "dilations", nd, 1, w->d, e) < 0)
			return -1;
	} else {
		for (int i = 0; i < nd; i++)
			w->d[i] = 1;
	}
	const int64_t *pads;
	int np = rt_attr_ints(n, "pads", &pads);
	if (np >= 0 && np != 2 * nd)
		return rt_fail(e, "pads has %d values, expected %d", np, 2 * nd);
	const char *ap = rt_attr_string(n, "auto_pad", "NOTSET");
	for (int i = 0; i < nd; i++) {
		if (w->k[i] < 1)
			return rt_fail(e, "kernel_shape[%d] = %lld must be >= 1", i, (long long)w->k[i]);
		if (w->s[i] < 1)
			return rt_fail(e, "strides[%d] = %lld must be >= 1", i, (long long)w->s[i]);
		if (w->d[i] < 1)
			return rt_fail(e, "dilations[%d] = %lld must be >= 1", i, (long long)w->d[i]);
		int64_t ek = (w->k[i] - 1) * w->d[i] + 1, in = w->in[i], out;
		if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
			out = (in + w->s[i] - 1) / w->s[i];
			int64_t total = (out - 1) * w->s[i] + ek - in;
			if (total < 0)
				total = 0;
			int64_t small = total / 2;
			w->pb[i] = !strcmp(ap, "SAME_UPPER") ? small : total - small;
			w->pe[i] = total - w->pb[i];
		} else {
			w->pb[i] = w->pe[i] = 0;
			if (!strcmp(ap, "NOTSET") && np > 0) {
				w->pb[i] = pads[i];
				w->pe[i] = pads[i + nd];
				if (w->pb[i] < 0 || w->pe[i] < 0)
					return rt_fail(e, "negative pads on axis %d", i);
			}
			int64_t span = in + w->pb[i] + w->pe[i] - ek;
			if (span < 0)
				return rt_fail(e,
					       "the window (%lld with dilation) exceeds the padded "
					       "input (%lld) on spatial axis %d",
					       (long long)ek, (long long)(in + w->pb[i] + w->pe[i]), i);
			if (w->ceil_mode) {
				out = (span + w->s[i] - 1) / w->s[i] + 1;
				if ((out - 1) * w->s[i] >= in + w->pb[i])
					out--;
			} else {
				out = span / w->s[i] + 1;
			}
		}
		w->out[i] = out;
	}
	return 0;
}

void rt_window_cols(int nd, const int64_t *k, const int64_t *s, const int64_t *d,
		    const int64_t *pb, const int64_t *grid, const int64_t *sig, bool scatter,
		    float *x, float *col)
{
	int64_t taps = 1, P = 1, sst[RT_MAX_SPATIAL];
	for (int i = 0; i < nd; i++) {
		taps *= k[i];
		P *= grid[i];
	}
	int last = nd - 1;
	int64_t gl = grid[last];
	if (!P)
		return;
	sst[last] = 1;
	for (int i = last - 1; i >= 0; i--)
		sst[i] = sst[i + 1] * sig[i + 1];
	int64_t outer = P / gl;
	for (int64_t t = 0; t < taps; t++) {
		int64_t kk[RT_MAX_SPATIAL], r = t, idx[RT_MAX_SPATIAL] = { 0 };
		for (int i = last; i >= 0; i--) {
			kk[i] = r % k[i];
			r /= k[i];
		}
		float *c = col + t * P;
		int64_t base = kk[last] * d[last] - pb[last], sl = s[last], nl = sig[last];
		for (int64_t o = 0; o < outer; o++) {
			bool ok = true;
			int64_t off = 0;
			for (int i = 0; i < last; i++) {
				int64_t pos = idx[i] * s[i] + kk[i] * d[i] - pb[i];
				if (pos < 0 || pos >= sig[i])
					ok = false;
				off += pos * sst[i];
			}
			float *cr = c + o * gl;
			if (!ok) {
				if (!scatter)
					memset(cr, 0, (size_t)gl * sizeof(float));
			} else if (scatter) {
				float *xr = x + off;
				for (int64_t j = 0; j < gl; j++) {
					int64_t p = j * sl + base;
					if (p >= 0 && p < nl)
						xr[p] += cr[j];
				}
			} else {
				const float *xr = x + off;
				for (int64_t j = 0; j < gl; j++) {
					int64_t p = j * sl + base;
					cr[j] = p >= 0 && p < nl ? xr[p] : 0.0f;
				}
			}
			for (int i = last - 1; i >= 0; i--) {
				if (++idx[i] < grid[i])
					break;
				idx[i] = 0;
			}
		}
	}
}
