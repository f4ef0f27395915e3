/* GEMM with reduced-precision weights: C = epilogue(alpha * A * B + beta*C)
 * with A f32 and B bf16, f16 or fp8 (times a per-tensor scale), B packed
 * once. ISA-free driver; two paths:
 *
 *  - pairs (bf16 with a bf16 dot-product variant, e.g. vdpbf16ps): B packed
 *    as bf16 pairs along k in panels of the variant's nr columns; A rounded
 *    to bf16 pairs once per call; the microkernel does 2 k per instruction.
 *  - decode (everything else, every architecture): B packed in its own
 *    format in the panel layout of the f32-gemm microkernel chosen at pack
 *    time; each task decodes its kc x nb block of B into an f32 buffer that
 *    stays in L2 (vector conversions of f32-cvt) and runs the f32
 *    microkernel over it. Decoding per block, not inside the microkernel,
 *    costs one conversion per weight per block of rows (amortized over up
 *    to all of M) and leaves the f32 microkernels untouched on every ISA;
 *    in-kernel F16C decode would redo the conversion for every 12 rows.
 *
 * Blocking and the task split follow f32-gemm: tasks own tiles of C and the
 * whole K range, kc depends only on K and the variant, so results are
 * bit-identical for any thread count. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "kernels/bf16-gemm/gemm.h"
#include "kernels/f32-gemm/gemm.h"
#include "kernels/core/scratch.h"
#include "kernels/hwk.h"
#include "kernels/rpw-gemm/decode.h"

#include "kernels/core/registry.h"

/* The bf16 op: the pairs variant where the CPU has one, else decoding to
 * f32 panels for whatever f32-gemm variant is chosen (impl NULL). */
static const struct hwk_variant variants[] = {
#if defined(__x86_64__)
	{ HWK_ISA_AVX512BF16, "12x32-avx512bf16", &hwk_bf16_gemm_ukr_12x32__avx512bf16 },
#endif
	{ HWK_ISA_SCALAR, "decode-f32", NULL },
};

struct hwk_op hwk_op_bf16_gemm = {
	.name = "bf16-gemm",
	.variants = variants,
	.n_variants = sizeof(variants) / sizeof(variants[0]),
};

/* Decoding for the decode path (every variant exact: same bits). */
static const struct hwk_variant decode_variants[] = {
#if defined(__x86_64__)
	{ HWK_ISA_AVX512F, "x32-avx512f", &hwk_rpw_decode_x32__avx512f },
#endif
	{ HWK_ISA_SCALAR, "x1-scalar", &hwk_rpw_decode_x1__scalar },
};

struct hwk_op hwk_op_rpw_decode = {
	.name = "rpw-decode",
	.variants = decode_variants,
	.n_variants = sizeof(decode_variants) / sizeof(decode_variants[0]),
};

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

static size_t div_up(size_t a, size_t b)
{
	return (a + b - 1) / b;
}

/* One packing buffer kept for reuse between calls (kernels/core/scratch.h). */
static struct hwk_scratch_slot scratch = HWK_SCRATCH_SLOT(((size_t)256 << 20));

/* ---- Packed B ------------------------------------------------------------ */

struct hwk_rpw_packed_b {
	enum hwk_rpw_type type;
	float scale;
	size_t K, N, nr, panels;
	size_t kpad;  /* k steps per panel: K, or 2*ceil(K/2) for pairs */
	size_t esz;   /* bytes per weight */
	const struct bf16_gemm_ukr *bu; /* pairs path, else NULL */
	const struct f32_gemm_ukr *fu;  /* decode path */
	const char *variant;
	unsigned char *data; /* panels x kpad x nr weights */
};

#define PACKED_HDR 128
_Static_assert(sizeof(struct hwk_rpw_packed_b) <= PACKED_HDR, "packed header");

static bool type_ok(enum hwk_rpw_type t)
{
	return (unsigned)t <= (unsigned)HWK_RPW_FP8_E5M2;
}

struct hwk_rpw_packed_b *hwk_rpw_gemm_pack_b(enum hwk_rpw_type type, size_t K, size_t N,
					     const void *B, size_t ldb, bool trans_b, float scale)
{
	if (!type_ok(type) || (K && N && (!B || ldb < (trans_b ? K : N)))) {
		errno = EINVAL;
		return NULL;
	}
	bool fp8 = type == HWK_RPW_FP8_E4M3FN || type == HWK_RPW_FP8_E5M2;
	if (fp8 && !(scale > 0.0f && scale <= 3.4028235e38f)) {
		errno = EINVAL;
		return NULL;
	}
	struct hwk_rpw_packed_b h;
	memset(&h, 0, sizeof(h));
	h.type = type;
	h.scale = fp8 ? scale : 1.0f;
	h.K = K;
	h.N = N;
	h.esz = fp8 ? 1 : 2;
	if (type == HWK_RPW_BF16) {
		const struct hwk_variant *v = hwk_op_variant(&hwk_op_bf16_gemm);
		h.bu = v->impl;
		h.variant = v->name;
	}
	if (h.bu) {
		h.nr = h.bu->nr;
		h.kpad = (K + 1) & ~(size_t)1;
	} else {
		const struct hwk_variant *v = hwk_op_variant(&hwk_op_f32_gemm);
		h.fu = v->impl;
		h.variant = v->name;
		h.nr = f32_gemm_ukr_nr(h.fu);
		h.kpad = K;
	}
	h.panels = div_up(N, h.nr);
	size_t per = h.panels * h.nr;
	if (h.kpad && per > (SIZE_MAX - PACKED_HDR - 64) / h.esz / h.kpad) {
		errno = ENOMEM;
		return NULL;
	}
	size_t data = per * h.kpad * h.esz;
	unsigned char *mem = hwk_alloc(PACKED_HDR + data + 64);
	if (!mem) {
		errno = ENOMEM;
		return NULL;
	}
	struct hwk_rpw_packed_b *pb = (struct hwk_rpw_packed_b *)(void *)mem;
	*pb = h;
	pb->data = mem + PACKED_HDR;
	memset(pb->data, 0, data);
	const size_t nr = h.nr;
	/* (k, j) of op(B) at B[k*ldb + j], or B[j*ldb + k] when trans_b. */
	for (size_t p = 0; p < h.panels; p++) {
		size_t j0 = p * nr, nj = min_sz(nr, N - j0);
		unsigned char *panel = pb->data + p * h.kpad * nr * h.esz;
		for (size_t k = 0; k < K; k++) {
			for (size_t jj = 0; jj < nj; jj++) {
				size_t j = j0 + jj;
				size_t src = trans_b ? j * ldb + k : k * ldb + j;
				size_t dst = h.bu ? (k / 2) * 2 * nr + 2 * jj + (k & 1) : k * nr + jj;
				if (h.esz == 2)
					((uint16_t *)(void *)panel)[dst] = ((const uint16_t *)B)[src];
				else
					panel[dst] = ((const uint8_t *)B)[src];
			}
		}
	}
	return pb;
}

void hwk_rpw_gemm_packed_b_free(struct hwk_rpw_packed_b *pb)
{
	hwk_free(pb);
}

const char *hwk_rpw_gemm_packed_variant(const struct hwk_rpw_packed_b *pb)
{
	return pb ? pb->variant : NULL;
}

/* ---- Compute ------------------------------------------------------------- */

struct job {
	const struct hwk_rpw_packed_b *pb;
	size_t mr, nr, kc, nb; /* kc in k steps (even for pairs) */
	size_t M, N, K;
	/* decode path: A panel p for k0 at a + p*a_ps + k0*a_cs */
	const float *a;
	size_t a_rs, a_cs, a_ps;
	/* pairs path: A row i, pair q at ab[i*kp + q] */
	const uint32_t *ab;
	size_t kp;
	const struct rpw_decode *dec_fn;
	float *dec;        /* decode buffers, dec_slot floats per task */
	size_t dec_slot;
	float *c;
	size_t ldc;
	float alpha, beta;
	const struct hwk_f32_gemm_epilogue *ep;
	size_t task_rows, task_cols, gn;
};

static void plan(struct job *j)
{
	const struct hwk_caches *cc = hwk_caches();
	const struct hwk_rpw_packed_b *pb = j->pb;
	j->mr = pb->bu ? pb->bu->mr : pb->fu->mr;
	j->nr = pb->nr;
	/* The A micro-panel takes about half of L1d. */
	size_t a_bytes = pb->bu ? 2 : 4;
	size_t kc_max = cc->l1d / 2 / (j->mr * a_bytes);
	if (kc_max < 64)
		kc_max = 64;
	if (kc_max > 2048)
		kc_max = 2048;
	kc_max &= ~(size_t)7;
	size_t K = j->K;
	size_t nk = K ? div_up(K, kc_max) : 1;
	size_t kc = (div_up(K, nk) + 7) & ~(size_t)7;
	j->kc = kc ? kc : 8;
	/* The kc x nb block of B (decoded f32, or bf16 pairs) in half of L2. */
	size_t b_bytes = pb->bu ? 2 : 4;
	size_t nb = cc->l2 / 2 / (j->kc * b_bytes);
	nb = nb / j->nr * j->nr;
	j->nb = nb < j->nr ? j->nr : nb;
}

static void split_tasks(struct job *j, const struct hwk_parallel *par)
{
	size_t mr = j->mr, nr = j->nr;
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

static void decode(const struct rpw_decode *d, const struct hwk_rpw_packed_b *pb, size_t n,
		   const unsigned char *src, float *dst)
{
	switch (pb->type) {
	case HWK_RPW_BF16: d->bf16(n, (const uint16_t *)(const void *)src, dst); break;
	case HWK_RPW_F16: d->f16(n, (const uint16_t *)(const void *)src, dst); break;
	case HWK_RPW_FP8_E4M3FN: d->e4m3fn(n, src, pb->scale, dst); break;
	case HWK_RPW_FP8_E5M2: d->e5m2(n, src, pb->scale, dst); break;
	}
}

static void compute_task(void *ctx, size_t t)
{
	const struct job *j = ctx;
	const struct hwk_rpw_packed_b *pb = j->pb;
	const size_t mr = j->mr, nr = j->nr;
	size_t r0 = (t / j->gn) * j->task_rows, c0 = (t % j->gn) * j->task_cols;
	size_t r1 = min_sz(j->M, r0 + j->task_rows), c1 = min_sz(j->N, c0 + j->task_cols);
	if (r0 >= r1 || c0 >= c1)
		return;
	float *dec = j->dec ? j->dec + t * j->dec_slot : NULL;
	size_t k0 = 0;
	do {
		size_t kcur = min_sz(j->kc, j->K - k0);
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
		for (size_t nb0 = c0; nb0 < c1; nb0 += j->nb) {
			size_t nb1 = min_sz(c1, nb0 + j->nb);
			if (pb->bu) {
				size_t q0 = k0 / 2, qc = (kcur + 1) / 2;
				for (size_t i = r0; i < r1; i += mr) {
					size_t mrr = min_sz(mr, j->M - i);
					const uint32_t *ap = j->ab + i * j->kp + q0;
					if (mrr == 1 && pb->bu->gemv) {
						/* A lone row (GEMV): two panels at a time. */
						for (size_t jj = nb0; jj < nb1; jj += 2 * nr) {
							const uint16_t *bp =
								(const uint16_t *)(const void *)pb->data +
								(jj / nr) * pb->kpad * nr + q0 * 2 * nr;
							e.bias = bias ? bias + jj : NULL;
							pb->bu->gemv(min_sz(2 * nr, nb1 - jj), qc, ap,
								     bp, pb->kpad * nr, j->c + i * j->ldc + jj,
								     &e);
						}
						continue;
					}
					for (size_t jj = nb0; jj < nb1; jj += nr) {
						const uint16_t *bp = (const uint16_t *)(const void *)pb->data +
								     (jj / nr) * pb->kpad * nr + q0 * 2 * nr;
						e.bias = bias ? bias + jj : NULL;
						pb->bu->ukernel(mrr, min_sz(nr, j->N - jj), qc, ap, j->kp, bp,
								j->c + i * j->ldc + jj, j->ldc, &e);
					}
				}
				continue;
			}
			/* Decode this block's panels into dec, panel after panel. */
			for (size_t jj = nb0; jj < nb1; jj += nr)
				decode(j->dec_fn, pb, kcur * nr,
				       pb->data + ((jj / nr) * pb->kpad + k0) * nr * pb->esz,
				       dec + (jj - nb0) * kcur);
			for (size_t i = r0; i < r1; i += mr) {
				const float *ap = j->a + (i / mr) * j->a_ps + k0 * j->a_cs;
				size_t mrr = min_sz(mr, j->M - i);
				for (size_t jj = nb0; jj < nb1; jj += nr) {
					e.bias = bias ? bias + jj : NULL;
					pb->fu->ukernel(mrr, min_sz(nr, j->N - jj), kcur, ap, j->a_rs,
							j->a_cs, dec + (jj - nb0) * kcur, nr,
							j->c + i * j->ldc + jj, j->ldc, &e);
				}
			}
		}
		k0 += kcur;
	} while (k0 < j->K);
}

/* ---- API ----------------------------------------------------------------- */

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

int hwk_rpw_gemm(size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
		 const struct hwk_rpw_packed_b *B, float beta, float *C, size_t ldc,
		 const struct hwk_f32_gemm_epilogue *ep, const struct hwk_parallel *par)
{
	if (!B || B->K != K || B->N != N)
		return -EINVAL;
	if (M && N && (!C || ldc < N))
		return -EINVAL;
	if (M && K && (!A || lda < K))
		return -EINVAL;
	int rc = check_ep(ep);
	if (rc)
		return rc;
	if (M == 0 || N == 0)
		return 0;
	if (K == 0 || alpha == 0.0f) /* C = epilogue(beta*C): A and B not read */
		return hwk_f32_gemm(false, false, M, N, 0, alpha, A, lda, NULL, N, beta, C, ldc, ep,
				    par);
	struct job j;
	memset(&j, 0, sizeof(j));
	j.pb = B;
	j.M = M;
	j.N = N;
	j.K = K;
	j.c = C;
	j.ldc = ldc;
	j.alpha = alpha;
	j.beta = beta;
	j.ep = ep;
	plan(&j);
	split_tasks(&j, par);
	size_t ntasks = div_up(M, j.task_rows) * j.gn;
	/* Scratch: A (bf16 pairs, or packed f32 panels), then decode slots. */
	size_t a_bytes = 0, dec_bytes = 0;
	bool pack_a = false;
	if (B->bu) {
		j.kp = (K + 1) / 2;
		if (M > SIZE_MAX / 8 / j.kp)
			return -ENOMEM;
		a_bytes = M * j.kp * 4;
	} else {
		pack_a = M > B->fu->direct_a_max_m;
		if (pack_a) {
			size_t rows = div_up(M, j.mr) * j.mr;
			if (rows > SIZE_MAX / 8 / K)
				return -ENOMEM;
			a_bytes = rows * K * 4;
		}
		j.dec_slot = j.kc * min_sz(j.nb, j.task_cols);
		if (j.dec_slot > SIZE_MAX / 8 / ntasks)
			return -ENOMEM;
		dec_bytes = j.dec_slot * ntasks * 4;
	}
	a_bytes = (a_bytes + 63) & ~(size_t)63;
	if (a_bytes > SIZE_MAX / 2 - dec_bytes)
		return -ENOMEM;
	unsigned char *s = hwk_scratch_get(&scratch, a_bytes + dec_bytes);
	if (!s)
		return -ENOMEM;
	if (B->bu) {
		B->bu->cvt_a(M, K, A, lda, (uint32_t *)(void *)s, j.kp);
		j.ab = (const uint32_t *)(const void *)s;
	} else {
		j.dec = (float *)(void *)(s + a_bytes);
		j.dec_fn = hwk_op_variant(&hwk_op_rpw_decode)->impl;
		if (pack_a) {
			f32_gemm_pack_fn pk = B->fu->pack ? B->fu->pack : f32_gemm_pack;
			pk(M, K, A, lda, 1, (float *)(void *)s, j.mr);
			j.a = (const float *)(const void *)s;
			j.a_rs = 1;
			j.a_cs = j.mr;
			j.a_ps = K * j.mr;
		} else {
			j.a = A;
			j.a_rs = lda;
			j.a_cs = 1;
			j.a_ps = j.mr * lda;
		}
	}
	hwk_parallel_for(par, ntasks, compute_task, &j);
	hwk_scratch_put(&scratch, s);
	return 0;
}
