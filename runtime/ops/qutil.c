/* Shared machinery of the quantized operators (see qutil.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/qutil.h"

int32_t rt_q_int_at(const struct hwrt_tensor *t, int64_t i)
{
	if (!t)
		return 0;
	switch (t->dtype) {
	case HWRT_UINT8: return ((const uint8_t *)t->data)[i];
	case HWRT_INT8: return ((const int8_t *)t->data)[i];
	case HWRT_INT32: return ((const int32_t *)t->data)[i];
	default: return (int32_t)rt_num_at(t, i);
	}
}

int32_t rt_q_round_sat(float y, int32_t zp, enum hwrt_dtype dt)
{
	float lo = dt == HWRT_INT8 ? -128.0f : 0.0f, hi = dt == HWRT_INT8 ? 127.0f : 255.0f;
	if (isnan(y))
		return zp;
	float v = nearbyintf(y) + (float)zp; /* exact: |zp| <= 255 and v saturates anyway */
	if (v < lo)
		v = lo;
	if (v > hi)
		v = hi;
	return (int32_t)v;
}

int rt_q_scalar_input(const char *what, const struct hwrt_tensor *t, struct rt_err *e)
{
	if (t && hwrt_tensor_count(t) != 1)
		return rt_fail(e, "%s must be a scalar (one element), has %lld", what,
			       (long long)hwrt_tensor_count(t));
	return 0;
}

/* --- packed weights --- */

void rt_qw_free(struct rt_qw *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->count && w->p; i++)
		hwk_qs8_gemm_packed_free(w->p[i]);
	free(w->p);
	w->p = NULL;
	w->count = 0;
}

int rt_qw_pack(struct rt_qw *w, enum hwrt_dtype dt, const void *b, size_t count, size_t stride,
	       size_t k, size_t n, bool trans, const struct hwrt_tensor *zp, size_t zp_count,
	       size_t zp_stride, struct rt_err *e)
{
	size_t elems = k * n;
	int8_t *conv = NULL, zbuf[1] = { 0 };
	int8_t *zs = zp_count > 1 ? malloc(zp_count) : zbuf;
	w->count = 0;
	w->p = calloc(count ? count : 1, sizeof(*w->p));
	if (dt == HWRT_UINT8 && elems)
		conv = malloc(elems);
	if (!w->p || !zs || (dt == HWRT_UINT8 && elems && !conv)) {
		free(conv);
		if (zs != zbuf)
			free(zs);
		rt_qw_free(w);
		return rt_fail(e, "out of memory");
	}
	int rc = 0;
	for (size_t i = 0; i < count && !rc; i++) {
		const int8_t *src = (const int8_t *)b + i * stride;
		if (conv) {
			/* b - 128 as s8 is b's bit pattern with the top bit flipped */
			const uint8_t *u = (const uint8_t *)b + i * stride;
			for (size_t j = 0; j < elems; j++)
				conv[j] = (int8_t)(u[j] ^ 0x80);
			src = conv;
		}
		size_t nz = zp ? zp_count : 1;
		for (size_t j = 0; j < nz; j++) {
			int32_t z = zp ? rt_q_int_at(zp, (int64_t)(i * zp_stride + j)) : 0;
			zs[j] = (int8_t)(dt == HWRT_UINT8 ? z - 128 : z);
		}
		struct hwk_qs8_weights qw = {
			.k = k, .n = n, .b = src, .ldb = trans ? k : n, .trans = trans,
			.zp = zs, .zp_count = nz,
		};
		if (hwk_qs8_gemm_pack(&qw, &w->p[i]) < 0)
			rc = rt_fail(e, "out of memory packing weights");
		else
			w->count = i + 1;
	}
	free(conv);
	if (zs != zbuf)
		free(zs);
	if (rc)
		rt_qw_free(w);
	return rc;
}

void rt_qw_release(struct rt_node *n)
{
	rt_qw_free(n->state);
	free(n->state);
	n->state = NULL;
}

/* The constant input k as a tensor, or NULL. absent_ok: an absent input
 * counts as constant (sets *t NULL, returns 1). */
static int const_input(const struct rt_node *n, const struct rt_graph *g, int k,
		       const struct hwrt_tensor **t)
{
	*t = NULL;
	if (k >= n->n_in || n->in[k] < 0)
		return 1;
	*t = g->values[n->in[k]].konst;
	return *t != NULL;
}

/* A u8 operand as the GEMM wants it: s8 data flipped to u8 (+128). */
static const uint8_t *as_u8(const struct hwrt_tensor *t, const void *p, size_t count,
			    uint8_t *buf)
{
	if (t->dtype == HWRT_UINT8)
		return p;
	const uint8_t *s = p;
	for (size_t i = 0; i < count; i++)
		buf[i] = s[i] ^ 0x80;
	return buf;
}

/* --- MatMul --- */

static void bshape(const struct hwrt_tensor *b, int64_t *k, int64_t *n, int64_t *batches)
{
	int r = b->rank;
	*k = b->dims[r == 1 ? 0 : r - 2];
	*n = r == 1 ? 1 : b->dims[r - 1];
	*batches = r <= 2 ? 1 : rt_count_dims(r - 2, b->dims);
}

int rt_qmm_shape(const struct hwrt_tensor *a, const struct hwrt_tensor *b, struct rt_qmm *q,
		 struct hwrt_tensor *out, enum hwrt_dtype odt, struct rt_err *e)
{
	memset(q, 0, sizeof(*q));
	if (a->rank < 1 || b->rank < 1)
		return rt_fail(e, "MatMul operands must have rank >= 1 (have %d and %d)", a->rank,
			       b->rank);
	int ar = a->rank, br = b->rank;
	q->m = ar == 1 ? 1 : a->dims[ar - 2];
	q->k = a->dims[ar - 1];
	int64_t bk;
	bshape(b, &bk, &q->n, &q->b_batches);
	if (bk != q->k)
		return rt_fail(e, "inner dimensions differ: a has %lld columns, b %lld rows",
			       (long long)q->k, (long long)bk);
	int abr = ar > 2 ? ar - 2 : 0, bbr = br > 2 ? br - 2 : 0;
	q->brank = abr > bbr ? abr : bbr;
	q->a_batches = abr ? rt_count_dims(abr, a->dims) : 1;
	int64_t dims[HWRT_MAX_RANK];
	int r = 0;
	q->batch = 1;
	for (int i = 0; i < q->brank; i++) {
		int ai = i - (q->brank - abr), bi = i - (q->brank - bbr);
		q->ab[i] = ai >= 0 ? a->dims[ai] : 1;
		q->bb[i] = bi >= 0 ? b->dims[bi] : 1;
		if (q->ab[i] != q->bb[i] && q->ab[i] != 1 && q->bb[i] != 1)
			return rt_fail(e, "batch dimensions %lld and %lld do not broadcast",
				       (long long)q->ab[i], (long long)q->bb[i]);
		q->ob[i] = q->ab[i] == 1 ? q->bb[i] : q->ab[i];
		dims[r++] = q->ob[i];
		q->batch *= q->ob[i];
	}
	if (ar > 1)
		dims[r++] = q->m;
	if (br > 1)
		dims[r++] = q->n;
	if (q->batch < 0 || q->a_batches < 0 || q->b_batches < 0 ||
	    rt_count_dims(r, dims) < 0)
		return rt_fail(e, "output too large");
	if (out)
		rt_set_shape(out, odt, r, dims);
	q->azp_count = q->bzp_count = 1;
	return 0;
}

int rt_qmm_param(const char *what, const struct hwrt_tensor *p, const struct hwrt_tensor *mat,
		 const struct rt_qmm *q, bool rows, int64_t *count, int64_t *stride,
		 struct rt_err *e)
{
	*count = 1;
	*stride = 0;
	if (!p)
		return 0;
	int64_t c = hwrt_tensor_count(p), len = rows ? q->m : q->n;
	if (c == 1)
		return 0;
	if (p->rank == 1 && p->dims[0] == len) {
		*count = len;
		return 0;
	}
	/* [D..., M, 1] for a, [D..., 1, N] for b: one set per batch matrix */
	if (p->rank == mat->rank && mat->rank >= 2) {
		int r = p->rank;
		bool ok = rows ? p->dims[r - 1] == 1 && p->dims[r - 2] == q->m
			       : p->dims[r - 2] == 1 && p->dims[r - 1] == q->n;
		for (int i = 0; i < r - 2; i++)
			ok = ok && p->dims[i] == mat->dims[i];
		if (ok) {
			*count = len;
			*stride = r > 2 ? len : 0;
			return 0;
		}
	}
	return rt_fail(e,
		       "%s must be a scalar, a 1-D tensor of %lld (one per %s) or shaped like "
		       "the matrix with the %s dimension 1",
		       what, (long long)len, rows ? "row" : "column", rows ? "last" : "row");
}

void rt_qmm_batch(const struct rt_qmm *q, int64_t ob, int64_t *ai, int64_t *bi)
{
	int64_t a = 0, b = 0, as = 1, bs = 1;
	for (int i = q->brank - 1; i >= 0; i--) {
		int64_t c = ob % q->ob[i];
		ob /= q->ob[i];
		a += (q->ab[i] == 1 ? 0 : c) * as;
		b += (q->bb[i] == 1 ? 0 : c) * bs;
		as *= q->ab[i];
		bs *= q->bb[i];
	}
	*ai = a;
	*bi = b;
}

int rt_qmm_pack(const struct rt_qmm *q, const struct hwrt_tensor *b,
		const struct hwrt_tensor *bzp, struct rt_qw *w, struct rt_err *e)
{
	return rt_qw_pack(w, b->dtype, b->data, (size_t)q->b_batches, (size_t)(q->k * q->n),
			  (size_t)q->k, (size_t)q->n, false, bzp, (size_t)q->bzp_count,
			  (size_t)q->bzp_stride, e);
}

int rt_qmm_s32(const struct rt_qmm *q, const struct hwrt_tensor *a,
	       const struct hwrt_tensor *azp, const struct rt_qw *w, int32_t *c,
	       const struct hwk_parallel *par, struct rt_err *e)
{
	/* always a zero point: s8 data flipped to u8 has 128 for 0 */
	size_t mk = (size_t)(q->m * q->k), na = azp ? (size_t)q->azp_count : 1;
	uint8_t *abuf = a->dtype == HWRT_INT8 ? rt_alloc(mk) : NULL;
	uint8_t *zbuf = malloc(na);
	if ((a->dtype == HWRT_INT8 && mk && !abuf) || !zbuf) {
		rt_free(abuf);
		free(zbuf);
		return rt_fail(e, "out of memory");
	}
	int rc = 0;
	for (int64_t ob = 0; ob < q->batch && !rc; ob++) {
		int64_t ai, bi;
		rt_qmm_batch(q, ob, &ai, &bi);
		const uint8_t *ap = as_u8(a, (const uint8_t *)a->data + ai * mk, mk, abuf);
		for (size_t j = 0; j < na; j++) {
			int32_t z = rt_q_int_at(azp, ai * q->azp_stride + (int64_t)j);
			zbuf[j] = (uint8_t)(a->dtype == HWRT_INT8 ? z + 128 : z);
		}
		struct hwk_qs8_gemm_args args = {
			.m = (size_t)q->m, .a = ap, .lda = (size_t)q->k, .a_zp = zbuf,
			.a_zp_count = na, .out = HWK_QS8_S32, .c = c + ob * q->m * q->n,
			.ldc = (size_t)q->n,
		};
		if (hwk_qs8_gemm(w->p[bi], &args, par) < 0)
			rc = rt_fail(e, "int8 GEMM rejected its arguments");
	}
	rt_free(abuf);
	free(zbuf);
	return rc;
}

int rt_qmm_prepare(struct rt_node *n, const struct rt_graph *g, int ib, int ibzp,
		   struct rt_err *e)
{
	const struct hwrt_tensor *b, *bzp;
	if (!const_input(n, g, ib, &b) || !const_input(n, g, ibzp, &bzp) || b->rank < 1)
		return 0;
	struct rt_qmm q;
	memset(&q, 0, sizeof(q));
	bshape(b, &q.k, &q.n, &q.b_batches);
	if (q.b_batches < 0)
		return 0;
	/* b_zero_point's layout as rt_qmm_param reads it, from b alone */
	q.bzp_count = 1;
	if (bzp && hwrt_tensor_count(bzp) != 1) {
		q.bzp_count = q.n;
		q.bzp_stride = bzp->rank > 2 ? q.n : 0;
		/* a bad zero point is infer's to report: leave it to run */
		if (hwrt_tensor_count(bzp) != (q.bzp_stride ? q.b_batches : 1) * q.n)
			return 0;
	}
	struct rt_qw *w = calloc(1, sizeof(*w));
	if (!w)
		return rt_fail(e, "out of memory");
	if (rt_qmm_pack(&q, b, bzp, w, e) < 0) {
		free(w);
		return -1;
	}
	n->state = w;
	return 0;
}

/* --- Conv --- */

int rt_qconv_check(const struct rt_node *n, struct rt_err *e)
{
	const char *ap = rt_attr_string(n, "auto_pad", "NOTSET");
	if (strcmp(ap, "NOTSET") && strcmp(ap, "VALID") && strcmp(ap, "SAME_UPPER") &&
	    strcmp(ap, "SAME_LOWER"))
		return rt_fail(e, "unknown auto_pad '%s'", ap);
	if (rt_attr_int(n, "group", 1) < 1)
		return rt_fail(e, "group must be >= 1");
	return 0;
}

int rt_qconv_shape(const struct rt_node *n, const struct hwrt_tensor *x,
		   const struct hwrt_tensor *w, struct rt_qconv *q, struct hwrt_tensor *out,
		   enum hwrt_dtype odt, struct rt_err *e)
{
	memset(q, 0, sizeof(*q));
	if (x->rank < 3)
		return rt_fail(e, "x must be N x C x D1 [x D2 ...], has rank %d", x->rank);
	if (w->rank != x->rank)
		return rt_fail(e, "w has rank %d, x %d", w->rank, x->rank);
	int sp = q->sp = x->rank - 2;
	q->nb = x->dims[0];
	q->c = x->dims[1];
	q->m = w->dims[0];
	q->group = rt_attr_int(n, "group", 1);
	if (q->group < 1 || q->c % q->group || q->m % q->group)
		return rt_fail(e, "group %lld does not divide the %lld input and %lld output channels",
			       (long long)q->group, (long long)q->c, (long long)q->m);
	q->cg = q->c / q->group;
	q->mg = q->m / q->group;
	if (w->dims[1] != q->cg)
		return rt_fail(e, "w has %lld input channels per group, x gives %lld",
			       (long long)w->dims[1], (long long)q->cg);
	const int64_t *ks, *st, *di, *pd;
	int nks = rt_attr_ints(n, "kernel_shape", &ks), nst = rt_attr_ints(n, "strides", &st);
	int ndi = rt_attr_ints(n, "dilations", &di), npd = rt_attr_ints(n, "pads", &pd);
	if ((nks >= 0 && nks != sp) || (nst >= 0 && nst != sp) || (ndi >= 0 && ndi != sp) ||
	    (npd >= 0 && npd != 2 * sp))
		return rt_fail(e, "kernel_shape, strides, dilations need %d values and pads %d", sp,
			       2 * sp);
	const char *ap = rt_attr_string(n, "auto_pad", "NOTSET");
	int64_t dims[HWRT_MAX_RANK] = { q->nb, q->m };
	q->p_out = 1;
	q->k_sz = 1;
	for (int i = 0; i < sp; i++) {
		int64_t in = q->in[i] = x->dims[2 + i], k = q->ks[i] = w->dims[2 + i];
		if (nks >= 0 && ks[i] != k)
			return rt_fail(e, "kernel_shape[%d] = %lld but w has %lld", i,
				       (long long)ks[i], (long long)k);
		int64_t s = q->stride[i] = nst >= 0 ? st[i] : 1;
		int64_t d = q->dil[i] = ndi >= 0 ? di[i] : 1;
		if (s < 1 || d < 1 || k < 1 || s > (1 << 30) || d > (1 << 30) || k > (1 << 30))
			return rt_fail(e, "strides, dilations and kernel dims must be positive");
		int64_t dk = (k - 1) * d + 1, o, pb = 0, pe = 0;
		if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
			o = (in + s - 1) / s;
			int64_t tot = (o - 1) * s + dk - in;
			if (tot < 0)
				tot = 0;
			pb = !strcmp(ap, "SAME_UPPER") ? tot / 2 : tot - tot / 2;
			pe = tot - pb;
		} else if (!strcmp(ap, "VALID")) {
			o = in >= dk ? (in - dk) / s + 1 : 0;
		} else {
			if (npd >= 0) {
				pb = pd[i];
				pe = pd[sp + i];
			}
			if (pb < 0 || pe < 0 || pb > (1 << 30) || pe > (1 << 30))
				return rt_fail(e, "pads must be non-negative");
			o = in + pb + pe >= dk ? (in + pb + pe - dk) / s + 1 : 0;
		}
		q->pad[i] = pb;
		q->out[i] = o;
		dims[2 + i] = o;
		q->p_out *= o;
		q->k_sz *= k;
		if (q->p_out > ((int64_t)1 << 40) || q->k_sz > ((int64_t)1 << 30))
			return rt_fail(e, "output too large");
	}
	q->kg = q->cg * q->k_sz;
	if (rt_count_dims(x->rank, dims) < 0)
		return rt_fail(e, "output too large");
	if (out)
		rt_set_shape(out, odt, x->rank, dims);
	return 0;
}

int rt_qconv_wparam(const char *what, const struct hwrt_tensor *p, int64_t m, struct rt_err *e)
{
	if (!p || hwrt_tensor_count(p) == 1 || (p->rank == 1 && p->dims[0] == m))
		return 0;
	return rt_fail(e, "%s must be a scalar or a 1-D tensor of %lld (one per output channel)",
		       what, (long long)m);
}

static int wpack(int64_t group, int64_t mg, int64_t kg, const struct hwrt_tensor *w,
		 const struct hwrt_tensor *wzp, struct rt_qw *pw, struct rt_err *e)
{
	bool per = wzp && hwrt_tensor_count(wzp) != 1;
	return rt_qw_pack(pw, w->dtype, w->data, (size_t)group, (size_t)(mg * kg), (size_t)kg,
			  (size_t)mg, true, wzp, per ? (size_t)mg : 1, per ? (size_t)mg : 0, e);
}

int rt_qconv_pack(const struct rt_qconv *q, const struct hwrt_tensor *w,
		  const struct hwrt_tensor *wzp, struct rt_qw *pw, struct rt_err *e)
{
	return wpack(q->group, q->mg, q->kg, w, wzp, pw, e);
}

int rt_qconv_prepare(struct rt_node *n, const struct rt_graph *g, int iw, int iwzp,
		     struct rt_err *e)
{
	const struct hwrt_tensor *w, *wzp;
	if (!const_input(n, g, iw, &w) || !const_input(n, g, iwzp, &wzp) || w->rank < 3)
		return 0;
	int64_t group = rt_attr_int(n, "group", 1);
	int64_t kg = hwrt_tensor_count(w) / (w->dims[0] ? w->dims[0] : 1);
	if (group < 1 || w->dims[0] % group || kg < 0 ||
	    (wzp && hwrt_tensor_count(wzp) != 1 && hwrt_tensor_count(wzp) != w->dims[0]))
		return 0;
	struct rt_qw *pw = calloc(1, sizeof(*pw));
	if (!pw)
		return rt_fail(e, "out of memory");
	if (wpack(group, w->dims[0] / group, kg, w, wzp, pw, e) < 0) {
		free(pw);
		return -1;
	}
	n->state = pw;
	return 0;
}

/* Patches of one image's group: col[p][c * k_sz + kidx], u8, padding
 * reading the zero point (a real 0). */
static void im2col(const struct rt_qconv *q, const uint8_t *x, bool flip, uint8_t zp,
		   uint8_t *col)
{
	int sp = q->sp;
	int64_t plane = 1;
	for (int i = 0; i < sp; i++)
		plane *= q->in[i];
	uint8_t f = flip ? 0x80 : 0;
	int64_t oc[HWRT_MAX_RANK] = { 0 };
	for (int64_t p = 0; p < q->p_out; p++) {
		uint8_t *row = col + p * q->kg;
		int64_t kc[HWRT_MAX_RANK] = { 0 };
		for (int64_t kidx = 0; kidx < q->k_sz; kidx++) {
			int64_t off = 0;
			bool in = true;
			for (int i = 0; i < sp; i++) {
				int64_t v = oc[i] * q->stride[i] - q->pad[i] + kc[i] * q->dil[i];
				in = in && v >= 0 && v < q->in[i];
				off = off * q->in[i] + v;
			}
			for (int64_t c = 0; c < q->cg; c++)
				row[c * q->k_sz + kidx] = in ? x[c * plane + off] ^ f : zp;
			for (int i = sp - 1; i >= 0; i--) {
				if (++kc[i] < q->ks[i])
					break;
				kc[i] = 0;
			}
		}
		for (int i = sp - 1; i >= 0; i--) {
			if (++oc[i] < q->out[i])
				break;
			oc[i] = 0;
		}
	}
}

/* The same for 2-D windows, row by row: the tap loops hoisted out of the
 * pixel loop, which then only tests the column. */
static void im2col2d(const struct rt_qconv *q, const uint8_t *x, bool flip, uint8_t zp,
		     uint8_t *col)
{
	/* locals: the byte stores below may alias anything, q included */
	int64_t H = q->in[0], W = q->in[1], KH = q->ks[0], KW = q->ks[1];
	int64_t OH = q->out[0], OW = q->out[1], kg = q->kg, cg = q->cg, k_sz = q->k_sz;
	int64_t sh = q->stride[0], sw = q->stride[1], dh = q->dil[0], dw = q->dil[1];
	int64_t ph = q->pad[0], pw = q->pad[1];
	uint8_t f = flip ? 0x80 : 0;
	for (int64_t oy = 0; oy < OH; oy++) {
		uint8_t *row = col + oy * OW * kg;
		for (int64_t c = 0; c < cg; c++)
			for (int64_t ky = 0; ky < KH; ky++) {
				int64_t iy = oy * sh - ph + ky * dh;
				uint8_t *dst = row + c * k_sz + ky * KW;
				if (iy < 0 || iy >= H) {
					for (int64_t ox = 0; ox < OW; ox++)
						for (int64_t kx = 0; kx < KW; kx++)
							dst[ox * kg + kx] = zp;
					continue;
				}
				const uint8_t *src = x + (c * H + iy) * W;
				for (int64_t kx = 0; kx < KW; kx++) {
					/* ix = ox * sw + off lies inside for ox in [lo, hi) */
					int64_t off = kx * dw - pw;
					int64_t lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
					int64_t hi = W > off ? (W - off + sw - 1) / sw : 0;
					hi = hi < OW ? hi : OW;
					lo = lo < hi ? lo : hi;
					uint8_t *d = dst + kx;
					int64_t ox = 0;
					for (; ox < lo; ox++)
						d[ox * kg] = zp;
					for (; ox < hi; ox++)
						d[ox * kg] = src[ox * sw + off] ^ f;
					for (; ox < OW; ox++)
						d[ox * kg] = zp;
				}
			}
	}
}

int rt_qconv_s32(const struct rt_qconv *q, const struct hwrt_tensor *x,
		 const struct hwrt_tensor *xzp, const struct rt_qw *pw, int32_t *y,
		 const struct hwk_parallel *par, struct rt_err *e)
{
	if (!q->nb || !q->m || !q->p_out)
		return 0;
	bool flip = x->dtype == HWRT_INT8;
	int32_t z = rt_q_int_at(xzp, 0);
	uint8_t zp = (uint8_t)(flip ? z + 128 : z);
	int64_t plane = q->c ? hwrt_tensor_count(x) / (q->nb * q->c) : 0;
	uint8_t *col = rt_alloc((size_t)(q->p_out * (q->kg ? q->kg : 1)));
	int32_t *c = rt_alloc((size_t)(q->p_out * q->mg) * sizeof(int32_t));
	if (!col || !c) {
		rt_free(col);
		rt_free(c);
		return rt_fail(e, "out of memory");
	}
	int rc = 0;
	for (int64_t b = 0; b < q->nb && !rc; b++)
		for (int64_t g = 0; g < q->group && !rc; g++) {
			const uint8_t *xp = (const uint8_t *)x->data + (b * q->c + g * q->cg) * plane;
			if (q->sp == 2)
				im2col2d(q, xp, flip, zp, col);
			else
				im2col(q, xp, flip, zp, col);
			struct hwk_qs8_gemm_args args = {
				.m = (size_t)q->p_out, .a = col, .lda = (size_t)q->kg, .a_zp = &zp,
				.a_zp_count = 1, .out = HWK_QS8_S32, .c = c, .ldc = (size_t)q->mg,
			};
			if (hwk_qs8_gemm(pw->p[g], &args, par) < 0) {
				rc = rt_fail(e, "int8 GEMM rejected its arguments");
				break;
			}
			/* positions x channels -> channels x positions */
			int32_t *yo = y + (b * q->m + g * q->mg) * q->p_out;
			/* by output channel: contiguous stores, short-stride loads
			 * (the other order strides stores by whole planes) */
			for (int64_t o = 0; o < q->mg; o++)
				for (int64_t p = 0; p < q->p_out; p++)
					yo[o * q->p_out + p] = c[p * q->mg + o];
		}
	rt_free(col);
	rt_free(c);
	return rc;
}

/* --- QuantizeLinear / DequantizeLinear --- */

int rt_qaxis_check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	if (rt_check_io(n, 2, 3, 1, 1, e) < 0)
		return -1;
	if (g->opset >= 13)
		return 0;
	if (rt_attr_find(n, "axis"))
		return rt_fail(e, "the axis attribute needs opset 13 (model has %d)", g->opset);
	/* before opset 13 scale and zero point are scalars */
	for (int k = 1; k < n->n_in; k++) {
		if (n->in[k] < 0)
			continue;
		const struct rt_value *v = &g->values[n->in[k]];
		if (v->rank > 1 || (v->rank == 1 && v->dims[0] > 1))
			return rt_fail(e, "input %d must be a scalar before opset 13", k);
	}
	return 0;
}

int rt_qaxis_layout(const struct rt_node *n, const struct hwrt_tensor *x,
		    const struct hwrt_tensor *scale, const struct hwrt_tensor *zp, const char *pfx,
		    struct rt_qaxis *a, struct rt_err *e)
{
	if (scale->dtype != HWRT_FLOAT)
		return rt_fail(e, "%s_scale must be float, not %s", pfx,
			       hwrt_dtype_name(scale->dtype));
	int64_t count = hwrt_tensor_count(x);
	if (count < 0)
		return rt_fail(e, "x is too large");
	a->outer = 1;
	a->ch = 1;
	a->inner = count;
	if (hwrt_tensor_count(scale) == 1 && scale->rank <= 1) {
		if (zp && (hwrt_tensor_count(zp) != 1 || zp->rank > 1))
			return rt_fail(e, "%s_zero_point must have %s_scale's shape (one element)",
				       pfx, pfx);
		return 0;
	}
	if (scale->rank != 1)
		return rt_fail(e, "%s_scale must be a scalar or a 1-D tensor, has rank %d", pfx,
			       scale->rank);
	int ax = rt_axis(rt_attr_int(n, "axis", 1), x->rank);
	if (ax < 0 || x->rank == 0)
		return rt_fail(e, "axis %lld is out of range for rank %d",
			       (long long)rt_attr_int(n, "axis", 1), x->rank);
	if (scale->dims[0] != x->dims[ax])
		return rt_fail(e, "%s_scale has %lld values but x has %lld along axis %d", pfx,
			       (long long)scale->dims[0], (long long)x->dims[ax], ax);
	if (zp && (zp->rank != 1 || zp->dims[0] != scale->dims[0]))
		return rt_fail(e, "%s_zero_point must have %s_scale's shape [%lld]", pfx, pfx,
			       (long long)scale->dims[0]);
	a->ch = x->dims[ax];
	a->outer = rt_count_dims(ax, x->dims);
	a->inner = rt_count_dims(x->rank - ax - 1, x->dims + ax + 1);
	return 0;
}

/* Scales libhwk accepts: finite and positive. */
static bool scales_ok(const float *s, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		if (!(s[i] > 0.0f) || isinf(s[i]))
			return false;
	return true;
}

/* Calls f on the (rows x cols, per-row or per-column) blocks of the layout. */
static int qaxis_blocks(const struct rt_qaxis *a, bool quant, enum hwk_qtype t, const void *src,
			void *dst, const float *s, const int32_t *zp,
			const struct hwk_parallel *par)
{
	int64_t count = a->outer * a->ch * a->inner;
	if (!count)
		return 0;
	size_t qsz = 1;
	if (a->ch == 1 || a->inner == 1) {
		size_t rows = a->ch == 1 ? 1 : (size_t)a->outer;
		size_t cols = (size_t)(count / (int64_t)rows);
		enum hwk_qaxis ax = a->ch == 1 ? HWK_QAXIS_TENSOR : HWK_QAXIS_COL;
		return quant ? hwk_quantize_f32(t, rows, cols, src, cols, dst, cols, ax, s, zp, par)
			     : hwk_dequantize_f32(t, rows, cols, src, cols, dst, cols, ax, s, zp,
						  par);
	}
	size_t blk = (size_t)(a->ch * a->inner);
	for (int64_t o = 0; o < a->outer; o++) {
		int rc;
		if (quant)
			rc = hwk_quantize_f32(t, (size_t)a->ch, (size_t)a->inner,
					      (const float *)src + o * blk, (size_t)a->inner,
					      (uint8_t *)dst + o * blk * qsz, (size_t)a->inner,
					      HWK_QAXIS_ROW, s, zp, par);
		else
			rc = hwk_dequantize_f32(t, (size_t)a->ch, (size_t)a->inner,
						(const uint8_t *)src + o * blk * qsz,
						(size_t)a->inner, (float *)dst + o * blk,
						(size_t)a->inner, HWK_QAXIS_ROW, s, zp, par);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int rt_qaxis_quantize(const struct rt_qaxis *a, const struct hwrt_tensor *x,
		      const struct hwrt_tensor *scale, const struct hwrt_tensor *zp,
		      struct hwrt_tensor *y, const struct hwk_parallel *par, struct rt_err *e)
{
	int64_t count = a->outer * a->ch * a->inner;
	const float *s = scale->data;
	int32_t *z = malloc((size_t)a->ch * sizeof(int32_t));
	float *xf = x->dtype == HWRT_FLOAT ? NULL : rt_alloc((size_t)count * sizeof(float));
	if (!z || (x->dtype != HWRT_FLOAT && !xf)) {
		free(z);
		rt_free(xf);
		return rt_fail(e, "out of memory");
	}
	for (int64_t c = 0; c < a->ch; c++)
		z[c] = rt_q_int_at(zp, c);
	const float *src = x->data;
	if (xf) { /* int32 x: divided as float, as ONNX Runtime does */
		for (int64_t i = 0; i < count; i++)
			xf[i] = (float)((const int32_t *)x->data)[i];
		src = xf;
	}
	enum hwrt_dtype dt = y->dtype;
	int rc = -1;
	if (scales_ok(s, a->ch))
		rc = qaxis_blocks(a, true, dt == HWRT_INT8 ? HWK_QS8 : HWK_QU8, src, y->data, s, z,
				  par);
	if (rc < 0) { /* scales libhwk refuses: the formula as it stands */
		for (int64_t i = 0; i < count; i++) {
			int64_t c = (i / a->inner) % a->ch;
			int32_t v = rt_q_round_sat(src[i] / s[c], z[c], dt);
			if (dt == HWRT_INT8)
				((int8_t *)y->data)[i] = (int8_t)v;
			else
				((uint8_t *)y->data)[i] = (uint8_t)v;
		}
	}
	free(z);
	rt_free(xf);
	return 0;
}

int rt_qaxis_dequantize(const struct rt_qaxis *a, const struct hwrt_tensor *x,
			const struct hwrt_tensor *scale, const struct hwrt_tensor *zp,
			struct hwrt_tensor *y, const struct hwk_parallel *par, struct rt_err *e)
{
	int64_t count = a->outer * a->ch * a->inner;
	const float *s = scale->data;
	int32_t *z = malloc((size_t)a->ch * sizeof(int32_t));
	if (!z)
		return rt_fail(e, "out of memory");
	for (int64_t c = 0; c < a->ch; c++)
		z[c] = rt_q_int_at(zp, c);
	int rc = -1;
	if (rt_q_is8(x->dtype) && scales_ok(s, a->ch))
		rc = qaxis_blocks(a, false, x->dtype == HWRT_INT8 ? HWK_QS8 : HWK_QU8, x->data,
				  y->data, s, z, par);
	if (rc < 0) {
		float *o = y->data;
		for (int64_t i = 0; i < count; i++) {
			int64_t c = (i / a->inner) % a->ch;
			o[i] = (float)((int64_t)rt_q_int_at(x, i) - z[c]) * s[c];
		}
	}
	free(z);
	return 0;
}
