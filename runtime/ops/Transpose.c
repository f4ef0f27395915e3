/* Transpose: permutes the dims by perm (reversed by default). Moves that
 * keep the innermost dim are row copies; ones that move it are done in
 * cache blocks, as a batch of 2-D transposes. */
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/shape_util.h"

static int perm_of(const struct rt_node *n, int rank, int *perm, struct rt_err *e)
{
	const int64_t *p;
	int np = rt_attr_ints(n, "perm", &p);
	if (np < 0) {
		for (int i = 0; i < rank; i++)
			perm[i] = rank - 1 - i;
		return 0;
	}
	if (np != rank)
		return rt_fail(e, "perm has %d entries for rank %d", np, rank);
	unsigned seen = 0;
	for (int i = 0; i < rank; i++) {
		int a = rt_axis(p[i], rank);
		if (a < 0 || a >= rank || (seen & (1u << a)))
			return rt_fail(e, "perm is not a permutation of 0..%d", rank - 1);
		seen |= 1u << a;
		perm[i] = a;
	}
	return 0;
}

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 1, 1, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0];
	int perm[HWRT_MAX_RANK];
	if (su_check_dtype(x, "the input", e) || perm_of(n, x->rank, perm, e))
		return -1;
	int64_t d[HWRT_MAX_RANK];
	for (int i = 0; i < x->rank; i++)
		d[i] = x->dims[perm[i]];
	rt_set_shape(out[0], x->dtype, x->rank, d);
	return 0;
}

/* A batch of blocked 2-D transposes: dims a (source stride 1, destination
 * stride lda) and b (source stride ldb, destination stride 1), repeated
 * over the other dims. */
#define BLK 32
/* few source rows per tile: power-of-two row pitches map them to one cache
 * set, and more than the associativity would thrash it */
#define BLKB 8
struct tjob {
	int nouter;
	int64_t odims[SU_MAX_DIMS], ostride_src[SU_MAX_DIMS], ostride_dst[SU_MAX_DIMS];
	int64_t A, B, lda, ldb, ablocks;
	const char *src;
	char *dst;
	size_t esz;
};

#define TBLOCK(T)                                                                        \
	static void tblock_##T(const T *s, T *d, int64_t a0, int64_t a1, int64_t B,       \
			       int64_t lda, int64_t ldb)                                   \
	{                                                                                 \
		for (int64_t b0 = 0; b0 < B; b0 += BLKB) {                                 \
			int64_t b1 = b0 + BLKB < B ? b0 + BLKB : B;                       \
			for (int64_t a = a0; a < a1; a++)                                 \
				for (int64_t b = b0; b < b1; b++)                         \
					d[a * lda + b] = s[a + b * ldb];                  \
		}                                                                         \
	}
TBLOCK(uint8_t)
TBLOCK(uint16_t)
TBLOCK(uint32_t)
TBLOCK(uint64_t)

static void ttask(void *ctx, size_t t)
{
	const struct tjob *j = ctx;
	int64_t outer = (int64_t)t / j->ablocks, ab = (int64_t)t % j->ablocks;
	int64_t so = 0, dof = 0;
	for (int d = j->nouter - 1; d >= 0; d--) {
		int64_t i = outer % j->odims[d];
		outer /= j->odims[d];
		so += i * j->ostride_src[d];
		dof += i * j->ostride_dst[d];
	}
	int64_t a0 = ab * BLK, a1 = a0 + BLK < j->A ? a0 + BLK : j->A;
	const char *s = j->src + so * (int64_t)j->esz;
	char *dd = j->dst + dof * (int64_t)j->esz;
	switch (j->esz) {
	case 1: tblock_uint8_t((const void *)s, (void *)dd, a0, a1, j->B, j->lda, j->ldb); break;
	case 2: tblock_uint16_t((const void *)s, (void *)dd, a0, a1, j->B, j->lda, j->ldb); break;
	case 4: tblock_uint32_t((const void *)s, (void *)dd, a0, a1, j->B, j->lda, j->ldb); break;
	case 8: tblock_uint64_t((const void *)s, (void *)dd, a0, a1, j->B, j->lda, j->ldb); break;
	}
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *t = in[0];
	int perm[HWRT_MAX_RANK];
	if (perm_of(n, t->rank, perm, e))
		return -1;
	int64_t st[HWRT_MAX_RANK];
	su_strides(t, st);
	/* the output's dims with their source strides, unit dims dropped and
	 * runs contiguous in the source merged */
	int64_t dims[HWRT_MAX_RANK], sst[HWRT_MAX_RANK];
	int r = 0;
	for (int i = 0; i < t->rank; i++) {
		int64_t dm = t->dims[perm[i]], s = st[perm[i]];
		if (dm == 0)
			return 0;
		if (dm == 1)
			continue;
		if (r > 0 && sst[r - 1] == s * dm) {
			dims[r - 1] *= dm;
			sst[r - 1] = s;
			continue;
		}
		dims[r] = dm;
		sst[r++] = s;
	}
	size_t esz = hwrt_dtype_size(t->dtype);
	if (r >= 2 && sst[r - 1] != 1 && (esz == 1 || esz == 2 || esz == 4 || esz == 8)) {
		struct tjob j = { .src = t->data, .dst = out[0]->data, .esz = esz };
		int64_t dst[HWRT_MAX_RANK];
		rt_strides(r, dims, dst);
		int ja = -1;
		for (int i = 0; i < r; i++)
			if (sst[i] == 1)
				ja = i;
		if (ja >= 0) {
			j.A = dims[ja];
			j.lda = dst[ja];
			j.B = dims[r - 1];
			j.ldb = sst[r - 1];
			int64_t nout = 1;
			for (int i = 0; i < r - 1; i++) {
				if (i == ja)
					continue;
				j.odims[j.nouter] = dims[i];
				j.ostride_src[j.nouter] = sst[i];
				j.ostride_dst[j.nouter++] = dst[i];
				nout *= dims[i];
			}
			j.ablocks = (j.A + BLK - 1) / BLK;
			hwk_parallel_for(x->par, (size_t)(nout * j.ablocks), ttask, &j);
			return 0;
		}
	}
	struct su_gather g = { .rank = r };
	for (int i = 0; i < r; i++) {
		g.dims[i] = dims[i];
		g.stride[i] = sst[i];
	}
	return su_gather_run(&g, t->data, out[0]->data, esz, NULL, x->par, e);
}

RT_OP_DEFINE(Transpose) = { .name = "Transpose", .since = 1, .check = check, .infer = infer,
			    .run = run };
