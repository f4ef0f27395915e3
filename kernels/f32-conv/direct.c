/* Direct convolution driver, for variants with a direct microkernel
 * (conv.h). Per image and group, y[co][pixel] = sum_k A[co][k] x(k, pixel)
 * as in the implicit GEMM, but the microkernel reads x(k, pixel) straight
 * from the input: output pixels go in vectors along an output row, so for
 * a fixed k = (ci, ky, kx) a vector's inputs are one contiguous run of a
 * (padded) input row, at a per-k offset (koff) from the vector's base.
 *
 * To make every run contiguous and in bounds, each task copies the input
 * rows its output rows need into a zero-padded band (pad columns and rows
 * are zeros, as im2col's are); with a horizontal stride s the band keeps
 * s phase planes (column j of phase r is padded column j*s + r), so taps
 * are contiguous for any stride. Unpadded stride-1 convolutions read x in
 * place (1x1 ones as one long row). No patch matrix, no bias pass: the
 * microkernel adds the per-channel bias in its epilogue.
 *
 * Tasks split images, groups, runs of output vectors (whole rows when a
 * band is copied) and blocks of output channels, never the reduction: k
 * blocks of w->kc (from the cache sizes only) are summed in order through
 * y, so results are identical for any thread count. */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "kernels/core/scratch.h"
#include "kernels/f32-conv/conv.h"

/* The koff table and the bands, kept for the next call. */
static struct hwk_scratch_slot scratch = HWK_SCRATCH_SLOT(((size_t)64 << 20));

#define MAX_NV 16 /* pixel vectors per microkernel call */

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

static size_t div_up(size_t a, size_t b)
{
	return (a + b - 1) / b;
}

static bool flat_1x1(const struct hwk_window2d *win)
{
	return win->kh == 1 && win->kw == 1 && win->sh == 1 && win->sw == 1 && !win->pad_t &&
	       !win->pad_l && !win->pad_b && !win->pad_r;
}

/* Padding or a horizontal stride: taps read a padded, phase-split copy. */
static bool needs_copy(const struct hwk_window2d *win)
{
	return win->sw != 1 || win->pad_t || win->pad_l || win->pad_b || win->pad_r;
}

bool f32_conv_direct_suits(const struct hwk_f32_conv2d_packed *w, size_t oh, size_t ow)
{
	if (!w->d || w->d->mr != w->mr)
		return false;
	const struct hwk_window2d *win = &w->p.win;
	if (flat_1x1(win))
		ow *= oh; /* one long row */
	/* At least 3/4 of the vector lanes do work (ow 16, 28, 32, 56, but
	 * not 7 or 20: those are left to the implicit GEMM). */
	size_t L = w->d->lanes;
	if (ow * 4 < div_up(ow, L) * L * 3)
		return false;
	if (!needs_copy(win))
		return true;
	/* A band of one output row must fit in half of L2 (the implicit GEMM
	 * bounds its patch blocks instead). */
	size_t wq = ow + (win->kw - 1) * win->dw / win->sw;
	size_t rows = (win->kh - 1) * win->dh + 1, phases = min_sz(win->sw, (win->kw - 1) * win->dw + 1);
	return w->cig * phases <= hwk_caches()->l2 / 2 / sizeof(float) / rows / wq;
}

struct job {
	const struct hwk_f32_conv2d_packed *w;
	const struct f32_conv_direct *d;
	size_t h, wd, oh, ow, ohw; /* 1x1: h = oh = 1, wd = ow = h*w */
	const float *x;
	float *y;
	const struct hwk_f32_gemm_epilogue *ep;
	const ptrdiff_t *koff;
	bool copy;       /* padded bands; else x in place */
	size_t phases;   /* phase planes per channel in a band */
	size_t wq;       /* band row length */
	size_t rb;       /* band rows (pitch of the phase planes) */
	size_t spr;      /* vectors per output row */
	size_t unit;     /* vectors per unit of work: a row when copying, else 1 */
	size_t units;    /* units per plane, split evenly into n_ch chunks */
	size_t n_ch, n_cb, cb; /* chunks per plane, channel blocks, couts per block */
	size_t band_floats;
	float *bands;
	_Atomic unsigned char *busy; /* one flag per band buffer */
	size_t slots;
};

/* Padded input rows of output rows [oy0, oy1) of one image and group. */
static void copy_band(const struct job *j, const float *xg, size_t oy0, size_t oy1, float *buf)
{
	const struct hwk_window2d *win = &j->w->p.win;
	size_t rows = (oy1 - 1 - oy0) * win->sh + (win->kh - 1) * win->dh + 1;
	size_t s = win->sw, W = j->wd, wq = j->wq, py0 = oy0 * win->sh;
	/* Band rows [0, top) are top padding, [top, top + mid) input rows
	 * from iy0, the rest bottom padding. */
	size_t top = win->pad_t > py0 ? min_sz(win->pad_t - py0, rows) : 0;
	size_t iy0 = py0 + top - win->pad_t;
	size_t mid = iy0 < j->h ? min_sz(rows - top, j->h - iy0) : 0;
	for (size_t ci = 0; ci < j->w->cig; ci++) {
		const float *plane = xg + ci * j->h * W;
		for (size_t r = 0; r < j->phases; r++) {
			float *dst = buf + (ci * j->phases + r) * j->rb * wq;
			/* Phase r, column q: input column q*s + r - pad_l, inside for
			 * q in [lo, hi). */
			size_t lo = win->pad_l > r ? div_up(win->pad_l - r, s) : 0;
			size_t hi = W + win->pad_l > r ? div_up(W + win->pad_l - r, s) : 0;
			lo = min_sz(lo, wq);
			hi = min_sz(hi < lo ? lo : hi, wq);
			j->d->rows(dst, wq, top, NULL, 0, s, 0, 0);
			if (mid)
				j->d->rows(dst + top * wq, wq, mid,
					   hi > lo ? plane + iy0 * W + (lo * s + r - win->pad_l) : NULL, W,
					   s, lo, hi);
			j->d->rows(dst + (top + mid) * wq, wq, rows - top - mid, NULL, 0, s, 0, 0);
		}
	}
}

static void task(void *ctx, size_t t)
{
	const struct job *j = ctx;
	const struct hwk_f32_conv2d_packed *w = j->w;
	const struct hwk_conv2d *p = &w->p;
	const struct f32_conv_direct *d = j->d;
	size_t cb = t % j->n_cb;
	t /= j->n_cb;
	size_t ch = t % j->n_ch;
	t /= j->n_ch;
	size_t g = t % p->groups, img = t / p->groups;
	size_t s0 = ch * j->units / j->n_ch * j->unit;
	size_t s1 = min_sz(j->oh * j->spr, (ch + 1) * j->units / j->n_ch * j->unit);
	size_t co0 = cb * j->cb, co1 = min_sz(w->cog, co0 + j->cb);
	if (co0 >= co1 || s0 >= s1)
		return;
	const float *xg = j->x + (img * p->c_in + g * w->cig) * j->h * j->wd;
	float *yg = j->y + (img * p->c_out + g * w->cog) * j->ohw;
	const float *ag = w->a + g * w->group_floats;
	const size_t mr = w->mr, K = w->K, L = d->lanes, sh = p->win.sh;

	/* Vector bases relative to x (in place) or to the band: output row
	 * oy starts at input row oy*sh, or band row (oy - oy0)*sh. */
	size_t oy0 = s0 / j->spr, org = 0, slot = 0;
	const float *base = xg;
	size_t pitch = j->wd;
	if (j->copy) {
		for (;;) { /* claim a band buffer (at most `slots` run at once) */
			unsigned char zero = 0;
			if (atomic_compare_exchange_strong(&j->busy[slot], &zero, 1))
				break;
			slot = (slot + 1) % j->slots;
		}
		float *buf = j->bands + slot * j->band_floats;
		copy_band(j, xg, oy0, div_up(s1, j->spr), buf);
		base = buf;
		org = oy0;
		pitch = j->wq;
	}

	const struct hwk_f32_gemm_epilogue *ep = j->ep;
	size_t k0 = 0;
	do {
		size_t kcur = min_sz(w->kc, K - k0);
		bool last = k0 + kcur >= K;
		struct f32_conv_ep e = { NULL, k0 > 0, 0, 0, 0, 0 };
		if (last && ep) {
			e.act = (int)ep->act;
			e.clip = ep->clip;
			e.lo = ep->clip_min;
			e.hi = ep->clip_max;
		}
		for (size_t co = co0; co < co1; co += mr) {
			size_t mrr = min_sz(mr, co1 - co);
			size_t nv = min_sz(min_sz(d->nv_max, d->acc / mrr), MAX_NV);
			const float *ap = ag + (co / mr) * K * mr + k0 * mr;
			e.bias = last && ep && ep->bias ? ep->bias + g * w->cog + co : NULL;
			/* Tiles of nv vectors, and of nv - 1 where that covers the
			 * run exactly (16 = 3+3+3+3+2+2): no vector is masked off. */
			size_t tiles = div_up(s1 - s0, nv), short_tiles = 0;
			if (nv > 1 && s1 - s0 >= tiles * (nv - 1))
				short_tiles = tiles * nv - (s1 - s0);
			/* Vector s is at output row oy, column ox (no division per
			 * vector: these calls can be a few hundred cycles each). */
			size_t oy = s0 / j->spr, ox = s0 % j->spr * L;
			for (size_t s = s0, ti = 0; s < s1; ti++) {
				const float *xs[MAX_NV];
				float *ys[MAX_NV];
				unsigned n[MAX_NV];
				size_t cnt = min_sz(nv - (ti >= tiles - short_tiles), s1 - s);
				for (size_t v = 0; v < cnt; v++) {
					xs[v] = base + (oy - org) * sh * pitch + ox;
					ys[v] = yg + co * j->ohw + oy * j->ow + ox;
					n[v] = (unsigned)min_sz(L, j->ow - ox);
					ox += L;
					if (ox >= j->ow) {
						ox = 0;
						oy++;
					}
				}
				d->ukernel(mrr, cnt, kcur, ap, j->koff + k0, xs, n, ys, j->ohw, &e);
				s += cnt;
			}
		}
		k0 += kcur;
	} while (k0 < K);
	if (j->copy)
		atomic_store(&j->busy[slot], 0);
}

int f32_conv_direct(const struct hwk_f32_conv2d_packed *w, size_t n, size_t h, size_t wd,
		    size_t oh, size_t ow, const float *x, float *y,
		    const struct hwk_f32_gemm_epilogue *ep, const struct hwk_parallel *par)
{
	const struct hwk_conv2d *p = &w->p;
	const struct hwk_window2d *win = &p->win;
	struct job j;
	memset(&j, 0, sizeof(j));
	j.w = w;
	j.d = w->d;
	j.x = x;
	j.y = y;
	j.ep = ep;
	j.ohw = oh * ow;
	if (flat_1x1(win)) {
		h = oh = 1;
		wd = ow = j.ohw;
	}
	j.h = h;
	j.wd = wd;
	j.oh = oh;
	j.ow = ow;
	size_t L = j.d->lanes, cig = w->cig, K = w->K;
	j.spr = div_up(ow, L);
	j.copy = needs_copy(win);
	/* Only the phases some tap reads: (kx*dw) % sw for kx < kw. */
	j.phases = min_sz(win->sw, (win->kw - 1) * win->dw + 1);
	j.wq = j.copy ? ow + (win->kw - 1) * win->dw / win->sw : wd;

	/* Chunks of units: the input a task reads (its band, or one k block of
	 * its pixels in place) takes about a quarter of L2, as the implicit
	 * GEMM's patch block does, and stays there while every channel panel
	 * passes over it. Chunks are even (sizes differ by one unit at most)
	 * and the tasks a multiple of the threads: on small layers one task
	 * per thread measured best (2 threads, 16x16x16-32: 6.6 us median
	 * against 7.2 with two each); a late worker's task is run by the
	 * caller. */
	size_t budget = hwk_caches()->l2 / 4 / sizeof(float), per_plane = oh * j.spr, fit;
	bool by_rows = j.copy && oh > 1; /* a band is whole rows */
	j.unit = by_rows ? j.spr : 1;
	j.units = per_plane / j.unit;
	if (!by_rows) {
		fit = budget / (min_sz(K, w->kc) * L);
	} else {
		size_t per_row = cig * j.phases * win->sh * j.wq;
		size_t halo = cig * j.phases * ((win->kh - 1) * win->dh + 1) * j.wq;
		fit = budget > halo ? (budget - halo) / per_row : 0;
	}
	j.n_ch = div_up(j.units, fit < 1 ? 1 : fit);
	size_t ng = n * p->groups, cpan = div_up(w->cog, w->mr);
	size_t threads = hwk_parallel_threads(par);
	j.n_ch = min_sz(div_up(div_up(ng * j.n_ch, threads) * threads, ng), j.units);
	/* Too few rows for the threads: channel blocks too (which copy their
	 * band again). */
	size_t base = ng * j.n_ch;
	j.n_cb = base < threads ? min_sz(cpan, div_up(threads, base)) : 1;
	j.cb = div_up(cpan, j.n_cb) * w->mr;
	j.n_cb = div_up(w->cog, j.cb);
	size_t tasks = base * j.n_cb;

	size_t band_rows = by_rows ? div_up(j.units, j.n_ch) : 1;
	j.rb = (band_rows - 1) * win->sh + (win->kh - 1) * win->dh + 1;
	j.band_floats = j.copy ? (cig * j.phases * j.rb * j.wq + 15) & ~(size_t)15 : 0;
	j.slots = j.copy ? min_sz(min_sz(threads, tasks), 64) : 0;
	size_t koff_floats = (K * sizeof(ptrdiff_t) / sizeof(float) + 15) & ~(size_t)15;
	if (j.band_floats && j.band_floats > (SIZE_MAX / sizeof(float) - koff_floats) / j.slots)
		return -ENOMEM;
	float *s = hwk_scratch_get(&scratch, (koff_floats + j.slots * j.band_floats) * sizeof(float));
	if (!s)
		return -ENOMEM;
	ptrdiff_t *koff = (ptrdiff_t *)s;
	size_t plane = j.copy ? j.phases * j.rb * j.wq : h * wd, row = j.copy ? j.wq : wd;
	size_t phase = j.copy ? j.rb * j.wq : 0;
	/* k = (ci, ky, kx): the kx part (phase plane, column) first, in
	 * koff[0, kw), which the (ci, ky) = (0, 0) pass leaves as it is. */
	for (size_t kx = 0; kx < win->kw; kx++) {
		size_t c = kx * win->dw;
		koff[kx] = (ptrdiff_t)(c % win->sw * phase + c / win->sw);
	}
	for (size_t k = 0, ci = 0; ci < cig; ci++)
		for (size_t ky = 0; ky < win->kh; ky++) {
			ptrdiff_t o = (ptrdiff_t)(ci * plane + ky * win->dh * row);
			for (size_t kx = 0; kx < win->kw; kx++)
				koff[k++] = o + koff[kx];
		}
	j.koff = koff;
	j.bands = s + koff_floats;
	_Atomic unsigned char busy[64];
	for (size_t i = 0; i < j.slots; i++)
		atomic_init(&busy[i], 0);
	j.busy = busy;
	hwk_parallel_for(par, tasks, task, &j);
	hwk_scratch_put(&scratch, s);
	return 0;
}
