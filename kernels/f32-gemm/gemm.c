/* f32 GEMM driver: argument checks, blocking from the cache sizes, packing,
 * the split into tasks over tiles of C, and the op's variants. ISA-free:
 * the arithmetic lives in the microkernel variant files. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/f32-gemm/gemm.h"
#include "kernels/core/scratch.h"
#include "kernels/hwk.h"

static const struct hwk_variant variants[] = {
#if defined(__x86_64__)
	{ HWK_ISA_AVX512F, "12x32-avx512f", &hwk_f32_gemm_ukr_12x32__avx512f },
	{ HWK_ISA_AVX2, "6x16-avx2", &hwk_f32_gemm_ukr_6x16__avx2 },
#endif
#if defined(__aarch64__)
	{ HWK_ISA_SVE, "8x2v-sve", &hwk_f32_gemm_ukr_8x2v__sve },
	{ HWK_ISA_NEON, "8x8-neon", &hwk_f32_gemm_ukr_8x8__neon },
#endif
	{ HWK_ISA_SCALAR, "4x8-scalar", &hwk_f32_gemm_ukr_4x8__scalar },
};

struct hwk_op hwk_op_f32_gemm = {
	.name = "f32-gemm",
	.variants = variants,
	.n_variants = sizeof(variants) / sizeof(variants[0]),
};

static const struct f32_gemm_ukr *chosen_ukr(void)
{
	return hwk_op_variant(&hwk_op_f32_gemm)->impl;
}

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

static size_t div_up(size_t a, size_t b)
{
	return (a + b - 1) / b;
}

/* ---- Blocking -----------------------------------------------------------
 * The loops, per task (a tile of C), outermost first:
 *   k blocks of kc   (C is finished block after block, in order of k)
 *   column blocks of nb   the kc x nb block of packed B stays in L2
 *   row panels of mr      the mr x kc A micro-panel stays in L1
 *   column panels of nr   one microkernel call streams a B panel from L2
 * kc depends only on K, the variant and the caches, never on M, N or the
 * thread count, so every C element sums its products in the same order
 * whatever the split, packed or not. */
struct plan {
	const struct f32_gemm_ukr *u;
	size_t mr, nr, kc, nb;
};

static void plan_blocking(const struct f32_gemm_ukr *u, size_t K, struct plan *p)
{
	const struct hwk_caches *cc = hwk_caches();
	p->u = u;
	p->mr = u->mr;
	p->nr = f32_gemm_ukr_nr(u);
	/* The A micro-panel takes about half of L1d; B streams through the
	 * rest with the C tile. */
	size_t kc_max = cc->l1d / 2 / (p->mr * sizeof(float));
	if (kc_max < 64)
		kc_max = 64;
	if (kc_max > 1024)
		kc_max = 1024;
	kc_max &= ~(size_t)7;
	/* Equal blocks rather than a full one and a sliver. */
	size_t nk = K ? div_up(K, kc_max) : 1;
	size_t kc = (div_up(K, nk) + 7) & ~(size_t)7;
	p->kc = kc ? kc : 8;
	/* The kc x nb block of B takes about half of L2. */
	size_t nb = cc->l2 / 2 / (p->kc * sizeof(float));
	nb = nb / p->nr * p->nr;
	p->nb = nb < p->nr ? p->nr : nb;
}

/* One packing buffer kept for reuse between calls (kernels/core/scratch.h). */
static struct hwk_scratch_slot scratch = HWK_SCRATCH_SLOT(((size_t)256 << 20));

/* ---- Packing ------------------------------------------------------------ */

struct packed_layout {
	size_t K, N, nr, panels;
};

struct hwk_f32_packed_b {
	const struct f32_gemm_ukr *u;
	struct packed_layout lay;
	float *data; /* panels x K x nr */
};

/* Packs op(B) (K x N) into panels of nr columns, panel q at dst + q*K*nr,
 * using up to `par` threads. */
struct pack_job {
	const struct f32_gemm_ukr *u;
	const float *src;
	size_t ls_lane, ls_k;  /* element (lane, k) at src[lane*ls_lane + k*ls_k] */
	size_t lanes_total, K, width, panels_per_task;
	float *dst;
};

static void pack_task(void *ctx, size_t t)
{
	const struct pack_job *j = ctx;
	size_t p0 = t * j->panels_per_task;
	size_t np = div_up(j->lanes_total, j->width);
	size_t p1 = min_sz(np, p0 + j->panels_per_task);
	f32_gemm_pack_fn pack = j->u->pack ? j->u->pack : f32_gemm_pack;
	if (p0 >= p1)
		return;
	size_t l0 = p0 * j->width, l1 = min_sz(j->lanes_total, p1 * j->width);
	pack(l1 - l0, j->K, j->src + l0 * j->ls_lane, j->ls_lane, j->ls_k,
	     j->dst + p0 * j->K * j->width, j->width);
}

static void pack_panels(const struct f32_gemm_ukr *u, const float *src, size_t ls_lane,
			size_t ls_k, size_t lanes, size_t K, size_t width, float *dst,
			const struct hwk_parallel *par)
{
	if (lanes == 0 || K == 0)
		return;
	size_t np = div_up(lanes, width);
	size_t threads = hwk_parallel_threads(par);
	size_t tasks = lanes * K < ((size_t)1 << 16) ? 1 : min_sz(np, threads * 2);
	struct pack_job j = { u, src, ls_lane, ls_k, lanes, K, width, div_up(np, tasks), dst };
	hwk_parallel_for(par, div_up(np, j.panels_per_task), pack_task, &j);
}

static void pack_b_into(const struct f32_gemm_ukr *u, size_t nr, size_t K, size_t N,
			const float *B, size_t ldb, bool trans_b, float *dst,
			const struct hwk_parallel *par)
{
	/* Lanes are columns of op(B): (k, j) is B[k*ldb + j], or B[j*ldb + k]. */
	if (trans_b)
		pack_panels(u, B, ldb, 1, N, K, nr, dst, par);
	else
		pack_panels(u, B, 1, ldb, N, K, nr, dst, par);
}

/* ---- Compute ------------------------------------------------------------ */

struct job {
	struct plan pl;
	size_t M, N, K;
	/* A panel p (rows p*mr...) for k block k0 at a + p*a_ps + k0*a_cs. */
	const float *a;
	size_t a_rs, a_cs, a_ps;
	/* B panel q (columns q*nr...) at b + q*b_ps, element (k, j) of it at
	 * [k*b_ks + j]: packed panels (b_ks nr), or B read in place (b_ks ldb)
	 * with only a partial last panel packed, at b_tail. */
	const float *b, *b_tail;
	size_t b_ps, b_ks;
	float *c;
	size_t ldc;
	float alpha, beta;
	const struct hwk_f32_gemm_epilogue *ep;
	size_t task_rows, task_cols, gn;
};

static void compute_task(void *ctx, size_t t)
{
	const struct job *j = ctx;
	const struct plan *pl = &j->pl;
	const size_t mr = pl->mr, nr = pl->nr;
	size_t r0 = (t / j->gn) * j->task_rows, c0 = (t % j->gn) * j->task_cols;
	size_t r1 = min_sz(j->M, r0 + j->task_rows), c1 = min_sz(j->N, c0 + j->task_cols);
	if (r0 >= r1 || c0 >= c1)
		return;
	f32_gemm_ukernel_fn uk = pl->u->ukernel;
	size_t k0 = 0;
	do {
		size_t kcur = min_sz(pl->kc, j->K - k0);
		bool last = k0 + kcur >= j->K;
		struct f32_gemm_ep e = { j->alpha, k0 == 0 ? j->beta : 1.0f, NULL, 0, 0, 0, 0 };
		const float *bias = NULL;
		if (last && j->ep) {
			bias = j->ep->bias;
			e.act = (int)j->ep->act;
			e.clip = j->ep->clip;
			e.lo = j->ep->clip_min;
			e.hi = j->ep->clip_max;
		}
		for (size_t nb0 = c0; nb0 < c1; nb0 += pl->nb) {
			size_t nb1 = min_sz(c1, nb0 + pl->nb);
			for (size_t i = r0; i < r1; i += mr) {
				const float *ap = j->a + (i / mr) * j->a_ps + k0 * j->a_cs;
				size_t mrr = min_sz(mr, j->M - i);
				for (size_t jj = nb0; jj < nb1; jj += nr) {
					const float *bp = j->b + (jj / nr) * j->b_ps + k0 * j->b_ks;
					size_t b_ks = j->b_ks;
					if (j->b_tail && j->N - jj < nr) {
						bp = j->b_tail + k0 * nr;
						b_ks = nr;
					}
					e.bias = bias ? bias + jj : NULL;
					uk(mrr, min_sz(nr, j->N - jj), kcur, ap, j->a_rs, j->a_cs, bp, b_ks,
					   j->c + i * j->ldc + jj, j->ldc, &e);
				}
			}
		}
		k0 += kcur;
	} while (k0 < j->K);
}

/* Tasks are tiles of C: columns first (each task then streams its own part
 * of B), rows when there are not enough column panels. */
static void split_tasks(struct job *j, const struct hwk_parallel *par)
{
	size_t mr = j->pl.mr, nr = j->pl.nr;
	size_t mp = div_up(j->M, mr), np = div_up(j->N, nr);
	size_t threads = hwk_parallel_threads(par);
	double work = (double)j->M * (double)j->N * (double)(j->K + 16);
	size_t want = 1;
	if (threads > 1 && work > (double)(1 << 19))
		want = threads * (work > (double)(1 << 24) ? 4 : 2);
	size_t gn = min_sz(np, want);
	size_t gm = min_sz(mp, div_up(want, gn));
	j->task_cols = div_up(np, gn) * nr;
	j->task_rows = div_up(mp, gm) * mr;
	j->gn = div_up(j->N, j->task_cols);
}

static void run_job(struct job *j, const struct hwk_parallel *par)
{
	split_tasks(j, par);
	size_t gm = div_up(j->M, j->task_rows);
	hwk_parallel_for(par, gm * j->gn, compute_task, j);
}

/* ---- Arguments ---------------------------------------------------------- */

static int check_ep(const struct hwk_f32_gemm_epilogue *ep)
{
	if (!ep)
		return 0;
	if ((unsigned)ep->act > (unsigned)HWK_F32_GEMM_ACT_SILU)
		return -EINVAL;
	if (ep->clip && !(ep->clip_min <= ep->clip_max))
		return -EINVAL; /* also NaN bounds */
	return 0;
}

static int check_common(bool trans_a, size_t M, size_t N, size_t K, const float *A, size_t lda,
			float *C, size_t ldc, const struct hwk_f32_gemm_epilogue *ep)
{
	if (M && N && (!C || ldc < N))
		return -EINVAL;
	if (M && K && (!A || lda < (trans_a ? M : K)))
		return -EINVAL;
	return check_ep(ep);
}

static float dummy_src[16];

/* Shared by both entry points once B is packed (or K is 0). */
static int gemm_core(const struct f32_gemm_ukr *u, bool trans_a, size_t M, size_t N, size_t K,
		     float alpha, const float *A, size_t lda, const float *pb, size_t ldb_direct,
		     const float *b_tail, float beta,
		     float *C, size_t ldc, const struct hwk_f32_gemm_epilogue *ep,
		     const struct hwk_parallel *par, float *scratch_a)
{
	struct job j;
	memset(&j, 0, sizeof(j));
	plan_blocking(u, K, &j.pl);
	j.M = M;
	j.N = N;
	j.K = K;
	j.c = C;
	j.ldc = ldc;
	j.alpha = alpha;
	j.beta = beta;
	j.ep = ep;
	size_t mr = j.pl.mr;
	if (K == 0) {
		j.a = dummy_src;
		j.a_rs = j.a_cs = 1;
		j.b = dummy_src;
	} else {
		j.b = pb;
		j.b_ps = K * j.pl.nr;
		j.b_ks = j.pl.nr;
		if (ldb_direct) { /* B in place: panel q starts q*nr columns in */
			j.b_ps = j.pl.nr;
			j.b_ks = ldb_direct;
			j.b_tail = b_tail;
		}
		if (scratch_a) {
			if (trans_a)
				pack_panels(u, A, 1, lda, M, K, mr, scratch_a, par);
			else
				pack_panels(u, A, lda, 1, M, K, mr, scratch_a, par);
			j.a = scratch_a;
			j.a_rs = 1;
			j.a_cs = mr;
			j.a_ps = K * mr;
		} else if (trans_a) {
			j.a = A;
			j.a_rs = 1;
			j.a_cs = lda;
			j.a_ps = mr;
		} else {
			j.a = A;
			j.a_rs = lda;
			j.a_cs = 1;
			j.a_ps = mr * lda;
		}
	}
	run_job(&j, par);
	return 0;
}

static bool pack_a_wanted(const struct f32_gemm_ukr *u, size_t M, size_t K)
{
	return K > 0 && M > u->direct_a_max_m;
}

static size_t packed_a_floats(const struct f32_gemm_ukr *u, size_t M, size_t K)
{
	return div_up(M, u->mr) * u->mr * K;
}

/* ---- API ---------------------------------------------------------------- */

int hwk_f32_gemm(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, float alpha,
		 const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
		 size_t ldc, const struct hwk_f32_gemm_epilogue *ep, const struct hwk_parallel *par)
{
	int rc = check_common(trans_a, M, N, K, A, lda, C, ldc, ep);
	if (rc)
		return rc;
	if (K && N && (!B || ldb < (trans_b ? K : N)))
		return -EINVAL;
	if (M == 0 || N == 0)
		return 0;
	if (alpha == 0.0f)
		K = 0; /* A and B are not read */
	const struct f32_gemm_ukr *u = chosen_ukr();
	size_t nr = f32_gemm_ukr_nr(u);
	if (K == 0)
		return gemm_core(u, trans_a, M, N, 0, alpha, A, lda, NULL, 0, NULL, beta, C, ldc, ep,
				 par, NULL);
	/* Few rows of A: each element of B is used by few microkernel calls,
	 * so packing B would cost as much as the product. Read B in place
	 * (rows of B are rows of panels) and pack only a partial last panel.
	 * Up to a few hundred rows that still wins, unless B's rows are a
	 * multiple of 4 KiB apart (they then crowd a few cache sets). */
	bool direct_b = !trans_b && (M <= u->direct_a_max_m ||
				     (M <= u->direct_b_max_m && ldb % 1024 != 0));
	size_t nb_floats = direct_b ? (N % nr ? nr * K : 0) : div_up(N, nr) * nr * K;
	size_t na_floats = pack_a_wanted(u, M, K) ? packed_a_floats(u, M, K) : 0;
	if ((!direct_b && nb_floats / K / nr != div_up(N, nr)) || nb_floats + na_floats < nb_floats ||
	    nb_floats + na_floats > SIZE_MAX / sizeof(float) - 64)
		return -ENOMEM;
	/* A's panels first, then B's, each 64-byte aligned. */
	size_t na_pad = (na_floats + 15) & ~(size_t)15;
	float *s = NULL;
	if (na_pad + nb_floats) {
		s = hwk_scratch_get(&scratch, (na_pad + nb_floats) * sizeof(float));
		if (!s)
			return -ENOMEM;
	}
	if (direct_b) {
		size_t full = N / nr * nr;
		if (N > full)
			pack_b_into(u, nr, K, N - full, B + full, ldb, false, s + na_pad, NULL);
		rc = gemm_core(u, trans_a, M, N, K, alpha, A, lda, B, ldb,
			       N > full ? s + na_pad : NULL, beta, C, ldc, ep, par,
			       na_floats ? s : NULL);
	} else {
		float *pb = s + na_pad;
		pack_b_into(u, nr, K, N, B, ldb, trans_b, pb, par);
		rc = gemm_core(u, trans_a, M, N, K, alpha, A, lda, pb, 0, NULL, beta, C, ldc, ep,
			       par, na_floats ? s : NULL);
	}
	hwk_scratch_put(&scratch, s);
	return rc;
}

#define PACKED_HDR 64

static int packed_layout_of(const struct f32_gemm_ukr *u, size_t K, size_t N,
			    struct packed_layout *lay, size_t *bytes)
{
	lay->K = K;
	lay->N = N;
	lay->nr = f32_gemm_ukr_nr(u);
	lay->panels = div_up(N, lay->nr);
	size_t per = lay->panels * lay->nr;
	if (K && per > SIZE_MAX / sizeof(float) / K)
		return -ENOMEM;
	size_t data = per * K * sizeof(float);
	if (data > SIZE_MAX - PACKED_HDR - 64)
		return -ENOMEM;
	*bytes = PACKED_HDR + data;
	return 0;
}

size_t hwk_f32_gemm_packed_b_size(size_t K, size_t N)
{
	struct packed_layout lay;
	size_t bytes = 0;
	if (packed_layout_of(chosen_ukr(), K, N, &lay, &bytes))
		return 0;
	return bytes;
}

struct hwk_f32_packed_b *hwk_f32_gemm_pack_b(size_t K, size_t N, const float *B, size_t ldb,
					     bool trans_b)
{
	if (K && N && (!B || ldb < (trans_b ? K : N))) {
		errno = EINVAL;
		return NULL;
	}
	const struct f32_gemm_ukr *u = chosen_ukr();
	struct packed_layout lay;
	size_t bytes;
	if (packed_layout_of(u, K, N, &lay, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	char *mem = hwk_alloc(bytes);
	if (!mem) {
		errno = ENOMEM;
		return NULL;
	}
	struct hwk_f32_packed_b *pb = (struct hwk_f32_packed_b *)(void *)mem;
	_Static_assert(sizeof(struct hwk_f32_packed_b) <= PACKED_HDR, "packed header");
	pb->u = u;
	pb->lay = lay;
	pb->data = (float *)(void *)(mem + PACKED_HDR);
	pack_b_into(u, lay.nr, K, N, B, ldb, trans_b, pb->data, NULL);
	return pb;
}

void hwk_f32_gemm_packed_b_free(struct hwk_f32_packed_b *pb)
{
	hwk_free(pb);
}

int hwk_f32_gemm_packed(bool trans_a, size_t M, size_t N, size_t K, float alpha, const float *A,
			size_t lda, const struct hwk_f32_packed_b *B, float beta, float *C,
			size_t ldc, const struct hwk_f32_gemm_epilogue *ep,
			const struct hwk_parallel *par)
{
	if (!B || B->lay.K != K || B->lay.N != N)
		return -EINVAL;
	int rc = check_common(trans_a, M, N, K, A, lda, C, ldc, ep);
	if (rc)
		return rc;
	if (M == 0 || N == 0)
		return 0;
	if (alpha == 0.0f)
		K = 0;
	/* The layout is the packing variant's; prefer it over a later choice. */
	const struct f32_gemm_ukr *u = B->u;
	float *sa = NULL;
	if (pack_a_wanted(u, M, K)) {
		size_t na = packed_a_floats(u, M, K);
		if (na > SIZE_MAX / sizeof(float) - 64 || !(sa = hwk_scratch_get(&scratch, na * sizeof(float))))
			return -ENOMEM;
	}
	rc = gemm_core(u, trans_a, M, N, K, alpha, A, lda, K ? B->data : NULL, 0, NULL, beta, C,
		       ldc, ep, par, sa);
	hwk_scratch_put(&scratch, sa);
	return rc;
}
