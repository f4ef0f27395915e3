/* qs8-gemm driver: packing B (with its column sums), cache blocking from
 * hwk_caches(), tasks over M x N tiles, the per-tile epilogue arguments.
 * ISA-free: the microkernels do the arithmetic. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "kernels/core/registry.h"
#include "kernels/qs8-gemm/qs8-gemm.h"

static const struct hwk_variant variants[] = {
#if defined(__x86_64__)
	{ HWK_ISA_AVX512VNNI, "6x64c4-avx512vnni", &hwk_qs8_gemm_ukernel_6x64c4__avx512vnni },
	{ HWK_ISA_AVX2, "4x16c2-avx2", &hwk_qs8_gemm_ukernel_4x16c2__avx2 },
#endif
#if defined(__aarch64__)
	{ HWK_ISA_NEONDOT, "4x16c4-neondot", &hwk_qs8_gemm_ukernel_4x16c4__neondot },
	{ HWK_ISA_NEON, "4x16-neon", &hwk_qs8_gemm_ukernel_4x16__neon },
#endif
	{ HWK_ISA_SCALAR, "4x8-scalar", &hwk_qs8_gemm_ukernel_4x8__scalar },
};

struct hwk_op hwk_op_qs8_gemm = {
	"qs8-gemm", variants, sizeof(variants) / sizeof(variants[0]), NULL,
};

struct hwk_qs8_packed {
	const struct hwk_variant *variant;
	const struct hwk_qs8_gemm_impl *uk;
	size_t k, n, kp, np;
	size_t panel_bytes;  /* kp * nr * b_bytes */
	void *w;             /* np / nr panels */
	int32_t *colsum;     /* np, zero padded */
	int32_t *bzp;        /* np, or NULL */
	float *bscale;       /* np, or NULL */
	float *bias;         /* np, zeros when none; NULL without bscale */
};

void hwk_qs8_gemm_packed_free(struct hwk_qs8_packed *p)
{
	if (!p)
		return;
	hwk_free(p->w);
	hwk_free(p->colsum);
	hwk_free(p->bzp);
	hwk_free(p->bscale);
	hwk_free(p->bias);
	hwk_free(p);
}

const char *hwk_qs8_gemm_packed_variant(const struct hwk_qs8_packed *p)
{
	return p ? p->variant->name : NULL;
}

static size_t round_up(size_t x, size_t m)
{
	return (x + m - 1) / m * m;
}

int hwk_qs8_gemm_pack(const struct hwk_qs8_weights *w, struct hwk_qs8_packed **out)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!w || (!w->b && w->k && w->n) || w->ldb < (w->trans ? w->k : w->n))
		return -EINVAL;
	if (w->k > (SIZE_MAX >> 8) || w->n > (SIZE_MAX >> 8) || (w->n && w->k > (SIZE_MAX >> 8) / w->n))
		return -EINVAL;
	if (!(w->zp_count == 0 || w->zp_count == 1 || w->zp_count == w->n) || (w->zp_count && !w->zp))
		return -EINVAL;
	if (!(w->scale_count == 0 || w->scale_count == 1 || w->scale_count == w->n) ||
	    (w->scale_count && !w->scale) || (w->bias && !w->scale_count))
		return -EINVAL;
	for (size_t i = 0; i < w->scale_count; i++)
		if (!isfinite(w->scale[i]) || !(w->scale[i] > 0.0f))
			return -EINVAL;
	for (size_t i = 0; w->bias && i < w->n; i++)
		if (!isfinite(w->bias[i]))
			return -EINVAL;

	const struct hwk_variant *v = hwk_op_variant(&hwk_op_qs8_gemm);
	const struct hwk_qs8_gemm_impl *uk = v->impl;
	struct hwk_qs8_packed *p = hwk_alloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	memset(p, 0, sizeof(*p));
	p->variant = v;
	p->uk = uk;
	p->k = w->k;
	p->n = w->n;
	p->kp = round_up(w->k, uk->kr);
	p->np = round_up(w->n, uk->nr);
	p->panel_bytes = p->kp * uk->nr * uk->b_bytes;
	/* (+64: K or N may be 0, and hwk_alloc(0) is NULL.) */
	p->w = hwk_alloc(p->panel_bytes * (p->np / uk->nr) + 64);
	p->colsum = hwk_alloc(p->np * sizeof(int32_t) + 64);
	if (w->zp_count)
		p->bzp = hwk_alloc(p->np * sizeof(int32_t) + 64);
	if (w->scale_count) {
		p->bscale = hwk_alloc(p->np * sizeof(float) + 64);
		p->bias = hwk_alloc(p->np * sizeof(float) + 64);
	}
	if (!p->w || !p->colsum || (w->zp_count && !p->bzp) ||
	    (w->scale_count && (!p->bscale || !p->bias))) {
		hwk_qs8_gemm_packed_free(p);
		return -ENOMEM;
	}
	memset(p->w, 0, p->panel_bytes * (p->np / uk->nr));
	const size_t nr = uk->nr, kr = uk->kr;
	for (size_t n = 0; n < p->np; n++) {
		int32_t sum = 0;
		if (n < w->n) {
			uint8_t *panel = (uint8_t *)p->w + (n / nr) * p->panel_bytes;
			size_t jn = n % nr;
			for (size_t k = 0; k < w->k; k++) {
				int8_t b = w->trans ? w->b[n * w->ldb + k] : w->b[k * w->ldb + n];
				size_t idx = ((k / kr) * nr + jn) * kr + k % kr;
				if (uk->b_bytes == 1)
					((int8_t *)panel)[idx] = b;
				else
					((int16_t *)panel)[idx] = b;
				sum += b;
			}
		}
		p->colsum[n] = sum;
		if (p->bzp)
			p->bzp[n] = n >= w->n ? 0 : w->zp_count == 1 ? w->zp[0] : w->zp[n];
		if (p->bscale) {
			p->bscale[n] = n >= w->n ? 1.0f : w->scale_count == 1 ? w->scale[0] : w->scale[n];
			p->bias[n] = n < w->n && w->bias ? w->bias[n] : 0.0f;
		}
	}
	*out = p;
	return 0;
}

/* Multiply-adds (padded M x N x K) below which one thread does it all. */
#define SERIAL_WORK ((size_t)1 << 19)

struct gemm_ctx {
	const struct hwk_qs8_packed *b;
	const struct hwk_qs8_gemm_args *args;
	size_t mt, nt;   /* tiles of MR rows, panels of NR columns */
	size_t mb, nb;   /* tasks: mb x nb */
	size_t nc;       /* panels per cache block of B */
	size_t c_bytes;  /* output element size */
};

static void gemm_task(void *p, size_t t)
{
	const struct gemm_ctx *g = p;
	const struct hwk_qs8_packed *b = g->b;
	const struct hwk_qs8_gemm_args *x = g->args;
	const struct hwk_qs8_gemm_impl *uk = b->uk;
	const size_t MR = uk->mr, NR = uk->nr, K = b->k;
	size_t tm = t / g->nb, tn = t % g->nb;
	size_t m0 = tm * g->mt / g->mb, m1 = (tm + 1) * g->mt / g->mb;
	size_t n0 = tn * g->nt / g->nb, n1 = (tn + 1) * g->nt / g->nb;
	int32_t azp[16], arsum[16];
	float ascale[16];
	struct hwk_qs8_epilogue ep = { 0 };
	ep.out = x->out;
	ep.azp = azp;
	ep.arsum = arsum;
	ep.ascale = ascale;
	ep.cscale = x->c_scale;
	ep.czp = x->c_zp;
	for (size_t nb0 = n0; nb0 < n1; nb0 += g->nc) {
		size_t nb1 = nb0 + g->nc < n1 ? nb0 + g->nc : n1;
		for (size_t mt = m0; mt < m1; mt++) {
			size_t row = mt * MR;
			size_t mr = x->m - row < MR ? x->m - row : MR;
			const uint8_t *a = x->a + row * x->lda;
			for (size_t i = 0; i < mr; i++) {
				azp[i] = x->a_zp_count == 0 ? 0
					 : x->a_zp_count == 1 ? x->a_zp[0] : x->a_zp[row + i];
				if (x->out != HWK_QS8_S32)
					ascale[i] = x->a_scale_count == 1 ? x->a_scale[0]
									  : x->a_scale[row + i];
				if (b->bzp) {
					const uint8_t *ar = a + i * x->lda;
					uint32_t s = 0;
					for (size_t k = 0; k < K; k++)
						s += ar[k];
					arsum[i] = (int32_t)(s - (uint32_t)azp[i] * (uint32_t)K);
				}
			}
			for (size_t pn = nb0; pn < nb1; pn++) {
				size_t col = pn * NR;
				size_t nr = b->n - col < NR ? b->n - col : NR;
				ep.colsum = b->colsum + col;
				ep.bzp = b->bzp ? b->bzp + col : NULL;
				if (b->bscale) {
					ep.bscale = b->bscale + col;
					ep.bias = b->bias + col;
				}
				void *c = (uint8_t *)x->c + (row * x->ldc + col) * g->c_bytes;
				uk->gemm(mr, nr, K, a, x->lda, (const uint8_t *)b->w + pn * b->panel_bytes,
					 c, x->ldc, &ep);
			}
		}
	}
}

int hwk_qs8_gemm(const struct hwk_qs8_packed *b, const struct hwk_qs8_gemm_args *x,
		 const struct hwk_parallel *par)
{
	if (!b || !x)
		return -EINVAL;
	if (x->out != HWK_QS8_S32 && x->out != HWK_QS8_F32 && x->out != HWK_QS8_U8)
		return -EINVAL;
	if (x->m == 0 || b->n == 0)
		return 0;
	if (!x->a || !x->c || x->lda < b->k || x->ldc < b->n)
		return -EINVAL;
	if (!(x->a_zp_count == 0 || x->a_zp_count == 1 || x->a_zp_count == x->m) ||
	    (x->a_zp_count && !x->a_zp))
		return -EINVAL;
	if (x->out != HWK_QS8_S32) {
		if (!b->bscale || !x->a_scale ||
		    !(x->a_scale_count == 1 || x->a_scale_count == x->m))
			return -EINVAL;
		for (size_t i = 0; i < x->a_scale_count; i++)
			if (!isfinite(x->a_scale[i]) || !(x->a_scale[i] > 0.0f))
				return -EINVAL;
		if (x->out == HWK_QS8_U8 && (!isfinite(x->c_scale) || !(x->c_scale > 0.0f)))
			return -EINVAL;
	}
	const struct hwk_qs8_gemm_impl *uk = b->uk;
	struct gemm_ctx g = { b, x, 0, 0, 1, 1, 0, 0 };
	g.c_bytes = x->out == HWK_QS8_U8 ? 1 : 4;
	g.mt = (x->m + uk->mr - 1) / uk->mr;
	g.nt = b->np / uk->nr;
	/* A block of B (K x nc) stays in half of L2 while the row tiles of a
	 * task pass over it; the MR rows of A in use stay in L1. */
	size_t l2 = hwk_caches()->l2;
	size_t panel = b->panel_bytes;
	g.nc = panel ? l2 / 2 / panel : g.nt;
	if (g.nc < 1)
		g.nc = 1;
	size_t threads = hwk_parallel_threads(par);
	/* Multiply-adds; below SERIAL_WORK (a few microseconds on one core)
	 * handing half to another core costs about what it saves. */
	size_t work = x->m * b->np * b->kp;
	if (threads > 1 && work >= SERIAL_WORK) {
		/* Equal tasks, a few per thread so that a thread the shared
		 * machine slows down leaves its share to the others. Split M
		 * (each task sweeps all of B in L2-sized blocks) unless splitting
		 * N gives clearly smaller largest tasks, as when M is a few
		 * tiles (then each task keeps A's tiles in L1 and its panels in
		 * L2). The split never changes a result: tasks own whole tiles. */
		size_t target = threads * (work >= ((size_t)1 << 27) ? 4 : 2);
		size_t mb = g.mt < target ? g.mt : target;
		size_t nb_m = (target + mb - 1) / mb;
		nb_m = g.nt < nb_m ? g.nt : nb_m;
		size_t nb = g.nt < target ? g.nt : target;
		size_t mb_n = (target + nb - 1) / nb;
		mb_n = g.mt < mb_n ? g.mt : mb_n;
		/* Largest task in rows x panels, for each choice. */
		size_t rows_m = (g.mt + mb - 1) / mb * uk->mr, rows_n = (g.mt + mb_n - 1) / mb_n * uk->mr;
		rows_m = rows_m < x->m ? rows_m : x->m;
		rows_n = rows_n < x->m ? rows_n : x->m;
		size_t big_m = rows_m * ((g.nt + nb_m - 1) / nb_m);
		size_t big_n = rows_n * ((g.nt + nb - 1) / nb);
		if (10 * big_n < 9 * big_m) {
			g.mb = mb_n;
			g.nb = nb;
		} else {
			g.mb = mb;
			g.nb = nb_m;
		}
	}
	hwk_parallel_for(par, g.mb * g.nb, gemm_task, &g);
	return 0;
}
