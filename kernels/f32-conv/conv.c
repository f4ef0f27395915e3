/* f32 convolution by implicit GEMM over the f32 GEMM microkernels, and the
 * event-driven spike-train conv1d. ISA-free: the arithmetic is the GEMM
 * variant files'. Variants with a direct microkernel take the shapes it
 * suits (direct.c) and come here for the rest.
 *
 * Per group, y[co][pixel] = sum_k W[co][k] * patch[k][pixel], with
 * k = (ci, ky, kx): the weights are the GEMM's A (packed once into mr-row
 * micro-panels), the patches its B (formed per task, per k block, into
 * nr-pixel panels of a scratch buffer), and C is y itself (row stride
 * oh*ow), so the output is NCHW with no transpose. The bias is per row of
 * C: it is written into the tile first and the first k block adds to it
 * (beta 1); the activation and clip come with the last k block. */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "kernels/f32-conv/conv.h"
#include "kernels/f32-gemm/gemm.h"
#include "kernels/core/scratch.h"
#include "kernels/hwk.h"

/* A variant: the GEMM microkernel, and the direct one when there is one. */
struct conv_ukr {
	const struct f32_gemm_ukr *gemm;
	const struct f32_conv_direct *direct;
};

#if defined(__x86_64__)
static const struct conv_ukr avx512f = { &hwk_f32_gemm_ukr_12x32__avx512f,
					 &hwk_f32_conv_direct_12x2v__avx512f };
static const struct conv_ukr avx2 = { &hwk_f32_gemm_ukr_6x16__avx2, NULL };
#endif
#if defined(__aarch64__)
static const struct conv_ukr sve = { &hwk_f32_gemm_ukr_8x2v__sve, NULL };
static const struct conv_ukr neon = { &hwk_f32_gemm_ukr_8x8__neon, NULL };
#endif
static const struct conv_ukr scalar = { &hwk_f32_gemm_ukr_4x8__scalar, NULL };

static const struct hwk_variant variants[] = {
#if defined(__x86_64__)
	{ HWK_ISA_AVX512F, "12x32-avx512f", &avx512f },
	{ HWK_ISA_AVX2, "6x16-avx2", &avx2 },
#endif
#if defined(__aarch64__)
	{ HWK_ISA_SVE, "8x2v-sve", &sve },
	{ HWK_ISA_NEON, "8x8-neon", &neon },
#endif
	{ HWK_ISA_SCALAR, "4x8-scalar", &scalar },
};

struct hwk_op hwk_op_f32_conv = {
	.name = "f32-conv",
	.variants = variants,
	.n_variants = sizeof(variants) / sizeof(variants[0]),
};

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

static size_t div_up(size_t a, size_t b)
{
	return (a + b - 1) / b;
}

static bool mul_ok(size_t a, size_t b, size_t *r)
{
	if (b && a > SIZE_MAX / b)
		return false;
	*r = a * b;
	return true;
}

/* One patch buffer kept for reuse between calls (kernels/core/scratch.h). */
static struct hwk_scratch_slot scratch = HWK_SCRATCH_SLOT(((size_t)64 << 20));

/* ---- Packing ------------------------------------------------------------ */

static bool geometry_ok(const struct hwk_conv2d *p)
{
	const struct hwk_window2d *w = &p->win;
	return p->groups && p->c_in && p->c_out && p->c_in % p->groups == 0 &&
	       p->c_out % p->groups == 0 && w->kh && w->kw && w->sh && w->sw && w->dh && w->dw &&
	       !w->ceil_mode && p->c_in / p->groups <= SIZE_MAX / w->kh / w->kw;
}

static bool is_depthwise(const struct hwk_conv2d *p)
{
	return p->groups > 1 && p->groups == p->c_in && p->groups == p->c_out;
}

struct hwk_f32_conv2d_packed *hwk_f32_conv2d_pack(const struct hwk_conv2d *p, const float *weights)
{
	if (!p || !weights || !geometry_ok(p)) {
		errno = EINVAL;
		return NULL;
	}
	struct hwk_f32_conv2d_packed *w = hwk_alloc(sizeof(*w));
	if (!w) {
		errno = ENOMEM;
		return NULL;
	}
	memset(w, 0, sizeof(*w));
	const struct hwk_variant *v = hwk_op_variant(&hwk_op_f32_conv);
	w->p = *p;
	w->variant = v->name;
	const struct conv_ukr *cu = v->impl;
	w->u = cu->gemm;
	w->d = cu->direct;
	w->mr = w->u->mr;
	w->nr = f32_gemm_ukr_nr(w->u);
	w->cig = p->c_in / p->groups;
	w->cog = p->c_out / p->groups;
	w->K = w->cig * p->win.kh * p->win.kw;
	/* Blocking as the GEMM's: the mr x kc weight micro-panel takes about
	 * half of L1d, the kc x pt patch block about half of L2. */
	const struct hwk_caches *cc = hwk_caches();
	size_t kc_max = cc->l1d / 2 / (w->mr * sizeof(float));
	kc_max = kc_max < 64 ? 64 : kc_max > 1024 ? 1024 : kc_max;
	kc_max &= ~(size_t)7;
	size_t nk = div_up(w->K, kc_max);
	w->kc = (div_up(w->K, nk) + 7) & ~(size_t)7;
	size_t pt = cc->l2 / 2 / (w->kc * sizeof(float)) / w->nr * w->nr;
	w->pt = pt < w->nr ? w->nr : pt;
	size_t panels = div_up(w->cog, w->mr), gf, total, bytes;
	if (!mul_ok(panels * w->mr, w->K, &gf) || !mul_ok(gf, p->groups, &total) ||
	    !mul_ok(total, sizeof(float), &bytes)) {
		hwk_free(w);
		errno = ENOMEM;
		return NULL;
	}
	w->group_floats = gf;
	w->a = hwk_alloc(bytes);
	if (!w->a) {
		hwk_free(w);
		errno = ENOMEM;
		return NULL;
	}
	f32_gemm_pack_fn pack = w->u->pack ? w->u->pack : f32_gemm_pack;
	for (size_t g = 0; g < p->groups; g++)
		pack(w->cog, w->K, weights + g * w->cog * w->K, w->K, 1, w->a + g * gf, w->mr);
	if (is_depthwise(p)) {
		w->raw = hwk_alloc(p->c_out * w->K * sizeof(float));
		if (!w->raw) {
			hwk_f32_conv2d_packed_free(w);
			errno = ENOMEM;
			return NULL;
		}
		memcpy(w->raw, weights, p->c_out * w->K * sizeof(float));
	}
	return w;
}

void hwk_f32_conv2d_packed_free(struct hwk_f32_conv2d_packed *w)
{
	if (!w)
		return;
	hwk_free(w->a);
	hwk_free(w->raw);
	hwk_free(w);
}

const char *hwk_f32_conv2d_packed_variant(const struct hwk_f32_conv2d_packed *w)
{
	return w ? w->variant : NULL;
}

/* ---- Compute ------------------------------------------------------------ */

struct job {
	const struct hwk_f32_conv2d_packed *w;
	size_t h, wd, oh, ow, ohw;
	const float *x;
	float *y;
	const struct hwk_f32_gemm_epilogue *ep;
	bool direct;             /* 1x1, stride 1, no padding: x read in place */
	size_t pt, n_pt, n_cb, cb; /* pixel tile, tiles, channel blocks, couts per block */
	float *shared;           /* when channel blocks split a tile: its patches,
				  * formed once, tile t at t*K*pt, k block at k0*pt */
	size_t buf_floats;       /* scratch floats per running task */
	float *scratch;
	_Atomic unsigned char *busy; /* one flag per scratch slot */
	size_t slots;
};

/* Writes n patch values for pixels idx.. of row kk of the k block into the
 * nr-wide panels (panel q at buf + q*kcur*nr); src NULL writes zeros. */
static void put_run(float *buf, size_t kcur, size_t nr, size_t kk, size_t idx, size_t n,
		    const float *src, size_t stride)
{
	while (n) {
		size_t q = idx / nr, j = idx % nr, m = min_sz(n, nr - j);
		float *d = buf + q * kcur * nr + kk * nr + j;
		if (!src)
			memset(d, 0, m * sizeof(float));
		else if (stride == 1)
			memcpy(d, src, m * sizeof(float));
		else
			for (size_t i = 0; i < m; i++)
				d[i] = src[i * stride];
		if (src)
			src += m * stride;
		idx += m;
		n -= m;
	}
}

/* The patches of pixels [p0, p0+np) for k in [k0, k0+kcur), from the
 * c_in/groups planes at xg; panels padded with zeros to a multiple of nr. */
static void im2col(const struct job *j, const float *xg, size_t p0, size_t np, size_t k0,
		   size_t kcur, float *buf)
{
	const struct hwk_window2d *win = &j->w->p.win;
	size_t nr = j->w->nr, khw = win->kh * win->kw;
	size_t padded = div_up(np, nr) * nr;
	for (size_t kk = 0; kk < kcur; kk++) {
		size_t k = k0 + kk, c = k / khw, r = k % khw, ky = r / win->kw, kx = r % win->kw;
		const float *plane = xg + c * j->h * j->wd;
		size_t idx = 0;
		while (idx < np) {
			size_t pix = p0 + idx, oy = pix / j->ow, ox = pix % j->ow;
			size_t len = min_sz(j->ow - ox, np - idx);
			long iy = (long)(oy * win->sh + ky * win->dh) - (long)win->pad_t;
			if (iy < 0 || iy >= (long)j->h) {
				put_run(buf, kcur, nr, kk, idx, len, NULL, 0);
				idx += len;
				continue;
			}
			long ix0 = (long)(ox * win->sw + kx * win->dw) - (long)win->pad_l;
			long s = (long)win->sw, W = (long)j->wd;
			long lo = ix0 >= 0 ? 0 : (-ix0 + s - 1) / s;
			long hi = ix0 < W ? (W - 1 - ix0) / s + 1 : 0;
			if (hi > (long)len)
				hi = (long)len;
			if (lo > hi)
				lo = hi;
			put_run(buf, kcur, nr, kk, idx, (size_t)lo, NULL, 0);
			if (hi > lo)
				put_run(buf, kcur, nr, kk, idx + (size_t)lo, (size_t)(hi - lo),
					plane + iy * W + ix0 + lo * s, (size_t)s);
			put_run(buf, kcur, nr, kk, idx + (size_t)hi, len - (size_t)hi, NULL, 0);
			idx += len;
		}
		if (padded > np)
			put_run(buf, kcur, nr, kk, np, padded - np, NULL, 0);
	}
}

static void conv_task(void *ctx, size_t t)
{
	const struct job *j = ctx;
	const struct hwk_f32_conv2d_packed *w = j->w;
	const struct hwk_conv2d *p = &w->p;
	size_t cb = t % j->n_cb;
	t /= j->n_cb;
	const size_t tile = t; /* (img * groups + g) * n_pt + pti */
	size_t pti = t % j->n_pt;
	t /= j->n_pt;
	size_t g = t % p->groups, img = t / p->groups;
	size_t p0 = pti * j->pt, np = min_sz(j->ohw - p0, j->pt);
	size_t co0 = cb * j->cb, co1 = min_sz(w->cog, co0 + j->cb);
	if (co0 >= co1)
		return;
	const float *xg = j->x + (img * p->c_in + g * w->cig) * j->h * j->wd;
	float *yg = j->y + (img * p->c_out + g * w->cog) * j->ohw;
	const float *ag = w->a + g * w->group_floats;
	const size_t mr = w->mr, nr = w->nr, K = w->K;

	/* Claim a scratch slot (at most `slots` tasks run at once). */
	size_t slot = 0;
	for (; !j->shared;) {
		unsigned char zero = 0;
		if (atomic_compare_exchange_strong(&j->busy[slot], &zero, 1))
			break;
		slot = (slot + 1) % j->slots;
	}
	float *buf = j->shared ? NULL : j->scratch + slot * j->buf_floats;
	const float *tile_patches = j->shared ? j->shared + tile * K * j->pt : NULL;

	const float *bias = j->ep ? j->ep->bias : NULL;
	if (bias)
		for (size_t co = co0; co < co1; co++) {
			float b = bias[g * w->cog + co], *row = yg + co * j->ohw + p0;
			for (size_t i = 0; i < np; i++)
				row[i] = b;
		}
	f32_gemm_ukernel_fn uk = w->u->ukernel;
	size_t k0 = 0;
	do {
		size_t kcur = min_sz(w->kc, K - k0);
		bool last = k0 + kcur >= K;
		struct f32_gemm_ep e = { 1.0f, k0 == 0 && !bias ? 0.0f : 1.0f, NULL, 0, 0, 0, 0 };
		if (last && j->ep) {
			e.act = (int)j->ep->act;
			e.clip = j->ep->clip;
			e.lo = j->ep->clip_min;
			e.hi = j->ep->clip_max;
		}
		const float *b = buf;
		size_t b_ps = kcur * nr, b_ks = nr, full = np / nr;
		if (j->direct) {
			/* Full panels straight from x; a partial last one copied. */
			b = xg + k0 * j->ohw + p0;
			b_ps = nr;
			b_ks = j->ohw;
			if (np % nr)
				im2col(j, xg, p0 + full * nr, np % nr, k0, kcur, buf);
		} else {
			if (tile_patches)
				b = tile_patches + k0 * j->pt;
			else
				im2col(j, xg, p0, np, k0, kcur, buf);
			full = div_up(np, nr);
		}
		for (size_t co = co0; co < co1; co += mr) {
			const float *ap = ag + (co / mr) * K * mr + k0 * mr;
			size_t mrr = min_sz(mr, co1 - co);
			for (size_t q = 0; q * nr < np; q++) {
				const float *bp = b + q * b_ps;
				size_t ks = b_ks;
				if (q >= full) { /* direct: the copied tail */
					bp = buf;
					ks = nr;
				}
				uk(mrr, min_sz(nr, np - q * nr), kcur, ap, 1, mr, bp, ks,
				   yg + co * j->ohw + p0 + q * nr, j->ohw, &e);
			}
		}
		k0 += kcur;
	} while (k0 < K);
	if (!j->shared)
		atomic_store(&j->busy[slot], 0);
}

/* Shared patches: task t forms k block t % nk of tile t / nk. */
static void patch_task(void *ctx, size_t t)
{
	const struct job *j = ctx;
	const struct hwk_f32_conv2d_packed *w = j->w;
	size_t nk = div_up(w->K, w->kc), kb = t % nk, tile = t / nk;
	size_t pti = tile % j->n_pt, g = (tile / j->n_pt) % w->p.groups;
	size_t img = tile / j->n_pt / w->p.groups;
	size_t p0 = pti * j->pt, np = min_sz(j->ohw - p0, j->pt), k0 = kb * w->kc;
	const float *xg = j->x + (img * w->p.c_in + g * w->cig) * j->h * j->wd;
	im2col(j, xg, p0, np, k0, min_sz(w->kc, w->K - k0),
	       j->shared + tile * w->K * j->pt + k0 * j->pt);
}

static int check_ep(const struct hwk_f32_gemm_epilogue *ep)
{
	if (!ep)
		return 0;
	if ((unsigned)ep->act > (unsigned)HWK_F32_GEMM_ACT_SILU)
		return -EINVAL;
	if (ep->clip && !(ep->clip_min <= ep->clip_max))
		return -EINVAL;
	return 0;
}

/* Depthwise with an epilogue hwk_f32_dwconv2d can express as its clip. */
static bool dw_bounds(const struct hwk_f32_gemm_epilogue *ep, float *lo, float *hi)
{
	*lo = -INFINITY;
	*hi = INFINITY;
	if (!ep)
		return true;
	if (ep->act == HWK_F32_GEMM_ACT_NONE) {
		if (ep->clip) {
			*lo = ep->clip_min;
			*hi = ep->clip_max;
		}
		return true;
	}
	if (ep->act == HWK_F32_GEMM_ACT_RELU) {
		*lo = 0.0f;
		if (!ep->clip)
			return true;
		if (ep->clip_min < 0.0f)
			return false;
		*lo = ep->clip_min;
		*hi = ep->clip_max;
		return true;
	}
	return false;
}

int hwk_f32_conv2d(const struct hwk_f32_conv2d_packed *w, size_t n, size_t h, size_t wd,
		   const float *x, float *y, const struct hwk_f32_gemm_epilogue *ep,
		   const struct hwk_parallel *par)
{
	if (!w || check_ep(ep))
		return -EINVAL;
	const struct hwk_conv2d *p = &w->p;
	struct job j;
	memset(&j, 0, sizeof(j));
	int rc = hwk_window2d_output(&p->win, h, wd, &j.oh, &j.ow);
	if (rc)
		return rc;
	size_t ohw, xs, ys;
	if (!mul_ok(j.oh, j.ow, &ohw) || !mul_ok(h, wd, &xs) || !mul_ok(xs, p->c_in, &xs) ||
	    !mul_ok(ohw, p->c_out, &ys) || !mul_ok(xs, n, &xs) || !mul_ok(ys, n, &ys) ||
	    xs > SIZE_MAX / sizeof(float) || ys > SIZE_MAX / sizeof(float))
		return -EINVAL;
	if (n == 0 || ohw == 0)
		return n && !y ? -EINVAL : 0;
	if (!x || !y)
		return -EINVAL;
	float lo, hi;
	if (w->raw && dw_bounds(ep, &lo, &hi))
		return hwk_f32_dwconv2d(&p->win, n, p->c_in, h, wd, x, w->raw, ep ? ep->bias : NULL,
					lo, hi, y, par);
	if (f32_conv_direct_suits(w, j.oh, j.ow))
		return f32_conv_direct(w, n, h, wd, j.oh, j.ow, x, y, ep, par);
	j.w = w;
	j.h = h;
	j.wd = wd;
	j.ohw = ohw;
	j.x = x;
	j.y = y;
	j.ep = ep;
	const struct hwk_window2d *win = &p->win;
	j.direct = win->kh == 1 && win->kw == 1 && win->sh == 1 && win->sw == 1 && !win->pad_t &&
		   !win->pad_l && !win->pad_b && !win->pad_r;
	/* Tasks: smaller pixel tiles first (the tile size does not change the
	 * arithmetic), then blocks of output channels sharing patches formed
	 * once. Neither changes any output's order of summation. */
	size_t threads = hwk_parallel_threads(par), want = threads > 1 ? threads * 4 : 1;
	size_t ng = n * p->groups, cpan = div_up(w->cog, w->mr);
	j.pt = w->pt;
	if (ng * div_up(ohw, j.pt) < want)
		j.pt = min_sz(w->pt, div_up(div_up(ohw, div_up(want, ng)), w->nr) * w->nr);
	j.n_pt = div_up(ohw, j.pt);
	size_t base = ng * j.n_pt;
	j.n_cb = 1;
	if (base < want && threads > 1)
		j.n_cb = min_sz(cpan, div_up(want, base));
	j.cb = div_up(cpan, j.n_cb) * w->mr;
	j.n_cb = div_up(w->cog, j.cb);
	j.buf_floats = (j.pt * w->kc + 15) & ~(size_t)15;
	size_t tasks = base * j.n_cb;
	if (j.n_cb > 1 && !j.direct) {
		size_t sf;
		if (!mul_ok(base * w->K, j.pt, &sf) || sf > SIZE_MAX / sizeof(float))
			return -ENOMEM;
		j.shared = hwk_scratch_get(&scratch, sf * sizeof(float));
		if (!j.shared)
			return -ENOMEM;
		hwk_parallel_for(par, base * div_up(w->K, w->kc), patch_task, &j);
		hwk_parallel_for(par, tasks, conv_task, &j);
		hwk_scratch_put(&scratch, j.shared);
		return 0;
	}
	j.slots = min_sz(threads, tasks);
	_Atomic unsigned char busy[64];
	if (j.slots > 64)
		j.slots = 64; /* more running tasks than that simply wait their turn */
	for (size_t i = 0; i < j.slots; i++)
		atomic_init(&busy[i], 0);
	j.busy = busy;
	j.scratch = hwk_scratch_get(&scratch, j.slots * j.buf_floats * sizeof(float));
	if (!j.scratch)
		return -ENOMEM;
	hwk_parallel_for(par, tasks, conv_task, &j);
	hwk_scratch_put(&scratch, j.scratch);
	return 0;
}

/* ---- 1D ----------------------------------------------------------------- */

static bool conv1d_to_2d(const struct hwk_conv1d *p, struct hwk_conv2d *q)
{
	if (!p)
		return false;
	memset(q, 0, sizeof(*q));
	q->c_in = p->c_in;
	q->c_out = p->c_out;
	q->groups = p->groups;
	q->win.kh = q->win.sh = q->win.dh = 1;
	q->win.kw = p->k;
	q->win.sw = p->stride;
	q->win.dw = p->dilation;
	q->win.pad_l = p->pad_begin;
	q->win.pad_r = p->pad_end;
	return geometry_ok(q);
}

struct hwk_f32_conv2d_packed *hwk_f32_conv1d_pack(const struct hwk_conv1d *p, const float *weights)
{
	struct hwk_conv2d q;
	if (!conv1d_to_2d(p, &q)) {
		errno = EINVAL;
		return NULL;
	}
	return hwk_f32_conv2d_pack(&q, weights);
}

int hwk_conv1d_output(const struct hwk_conv1d *p, size_t l, size_t *ol)
{
	struct hwk_conv2d q;
	size_t oh;
	if (!conv1d_to_2d(p, &q))
		return -EINVAL;
	return hwk_window2d_output(&q.win, 1, l, &oh, ol);
}

int hwk_f32_conv1d(const struct hwk_f32_conv2d_packed *w, size_t n, size_t l, const float *x,
		   float *y, const struct hwk_f32_gemm_epilogue *ep, const struct hwk_parallel *par)
{
	if (!w || w->p.win.kh != 1 || w->p.win.sh != 1 || w->p.win.dh != 1 || w->p.win.pad_t ||
	    w->p.win.pad_b)
		return -EINVAL;
	return hwk_f32_conv2d(w, n, 1, l, x, y, ep, par);
}

/* ---- Spike trains ------------------------------------------------------- */

struct hwk_f32_conv1d_spike_weights {
	struct hwk_conv1d p;
	size_t cig, cog;
	float *wt; /* c_in x k x cog: the weight columns of each (ci, tap) */
};

struct hwk_f32_conv1d_spike_weights *hwk_f32_conv1d_spike_pack(const struct hwk_conv1d *p,
							       const float *weights)
{
	struct hwk_conv2d q;
	if (!conv1d_to_2d(p, &q) || !weights) {
		errno = EINVAL;
		return NULL;
	}
	size_t cig = p->c_in / p->groups, cog = p->c_out / p->groups, total;
	if (!mul_ok(p->c_in * p->k, cog, &total) || total > SIZE_MAX / sizeof(float)) {
		errno = ENOMEM;
		return NULL;
	}
	struct hwk_f32_conv1d_spike_weights *w = hwk_alloc(sizeof(*w));
	float *wt = hwk_alloc(total * sizeof(float));
	if (!w || !wt) {
		hwk_free(w);
		hwk_free(wt);
		errno = ENOMEM;
		return NULL;
	}
	w->p = *p;
	w->cig = cig;
	w->cog = cog;
	w->wt = wt;
	for (size_t ci = 0; ci < p->c_in; ci++) {
		size_t g = ci / cig, cl = ci % cig;
		for (size_t kk = 0; kk < p->k; kk++)
			for (size_t o = 0; o < cog; o++)
				wt[(ci * p->k + kk) * cog + o] =
					weights[((g * cog + o) * cig + cl) * p->k + kk];
	}
	return w;
}

void hwk_f32_conv1d_spike_free(struct hwk_f32_conv1d_spike_weights *w)
{
	if (!w)
		return;
	hwk_free(w->wt);
	hwk_free(w);
}

#define SPIKE_TILE 64 /* output times per task */

struct spike_job {
	const struct hwk_f32_conv1d_spike_weights *w;
	size_t l, ol, n_tiles;
	const uint8_t *s;
	const float *bias;
	float *y;
};

/* One image, outputs [o0, o1): accumulate into acc[o][co] (time-major, so
 * one spike adds a contiguous weight column), then transpose into y. */
static void spike_task(void *ctx, size_t t)
{
	const struct spike_job *j = ctx;
	const struct hwk_conv1d *p = &j->w->p;
	size_t img = t / j->n_tiles, o0 = (t % j->n_tiles) * SPIKE_TILE;
	size_t o1 = min_sz(j->ol, o0 + SPIKE_TILE), cog = j->w->cog, co_all = p->c_out;
	float acc[SPIKE_TILE * 64];
	for (size_t cbase = 0; cbase < co_all; cbase += 64) {
		/* Output channels in blocks of 64 within the accumulator. */
		size_t cn = min_sz(64, co_all - cbase);
		for (size_t o = o0; o < o1; o++)
			for (size_t c = 0; c < cn; c++)
				acc[(o - o0) * 64 + c] = j->bias ? j->bias[cbase + c] : 0.0f;
		for (size_t ci = 0; ci < p->c_in; ci++) {
			size_t g = ci / j->w->cig, gc0 = g * cog, gc1 = gc0 + cog;
			if (gc1 <= cbase || gc0 >= cbase + cn)
				continue;
			size_t c_lo = gc0 > cbase ? gc0 : cbase, c_hi = min_sz(gc1, cbase + cn);
			const uint8_t *row = j->s + (img * p->c_in + ci) * j->l;
			/* Inputs that can reach outputs [o0, o1). */
			size_t t_lo = o0 * p->stride, t_hi = (o1 - 1) * p->stride +
							     (p->k - 1) * p->dilation + 1;
			t_lo = t_lo > p->pad_begin ? t_lo - p->pad_begin : 0;
			t_hi = t_hi > p->pad_begin ? t_hi - p->pad_begin : 0;
			t_hi = min_sz(t_hi, j->l);
			for (size_t tt = t_lo; tt < t_hi; tt++) {
				if (!row[tt])
					continue;
				size_t pos = tt + p->pad_begin;
				for (size_t kk = 0; kk < p->k && kk * p->dilation <= pos; kk++) {
					size_t d = pos - kk * p->dilation;
					if (d % p->stride)
						continue;
					size_t o = d / p->stride;
					if (o < o0 || o >= o1)
						continue;
					const float *col = j->w->wt + (ci * p->k + kk) * cog +
							   (c_lo - gc0);
					float *a = acc + (o - o0) * 64 + (c_lo - cbase);
					for (size_t c = 0; c < c_hi - c_lo; c++)
						a[c] += col[c];
				}
			}
		}
		for (size_t c = 0; c < cn; c++) {
			float *yr = j->y + (img * co_all + cbase + c) * j->ol;
			for (size_t o = o0; o < o1; o++)
				yr[o] = acc[(o - o0) * 64 + c];
		}
	}
}

int hwk_f32_conv1d_spikes(const struct hwk_f32_conv1d_spike_weights *w, size_t n, size_t l,
			  const uint8_t *spikes, const float *bias, float *y,
			  const struct hwk_parallel *par)
{
	if (!w)
		return -EINVAL;
	size_t ol;
	int rc = hwk_conv1d_output(&w->p, l, &ol);
	if (rc)
		return rc;
	if (n == 0 || ol == 0)
		return 0;
	if (!spikes || !y)
		return -EINVAL;
	struct spike_job j = { w, l, ol, div_up(ol, SPIKE_TILE), spikes, bias, y };
	hwk_parallel_for(par, n * j.n_tiles, spike_task, &j);
	return 0;
}
