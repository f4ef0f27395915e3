/* qs8-gemm: u8 x s8 -> s32 GEMM against an int64 reference, exactly
 * (memcmp), under every ISA ceiling: shapes with 0, 1, primes and tails,
 * K = 4096 at the extremes, every zero-point kind, B transposed, each
 * epilogue, and 1, 2, 3 threads giving identical bits.
 *
 * The F32 epilogue is compared bit for bit with the formula the API states,
 * y = fmaf((float)acc, a_scale[m] * b_scale[n], bias[n]), and within
 * 2^-22 * (|acc * a_scale * b_scale| + |bias|) + 1e-30 of the same value in
 * double; U8 bit for bit with saturate(rne(y / c_scale) + c_zp). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "tests/unit/kernels/harness.h"

#if defined(__aarch64__)
#define BIG_K 1024 /* qemu is slow; 1024 * 255 * 255 still needs all 32 bits */
#else
#define BIG_K 4096
#endif

static unsigned long long rng = 1;
static uint32_t next_u32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

enum zpk { ZP_NONE, ZP_TENSOR, ZP_VEC };

struct problem {
	size_t m, n, k, lda, ldb, ldc;
	bool trans;
	uint8_t *a;
	int8_t *b;
	enum zpk akind, bkind;
	uint8_t a_zp[512];
	int8_t b_zp[512];
	float a_scale[512], b_scale[512], bias[512];
	size_t a_scale_count, b_scale_count;
	bool has_bias;
};

static int8_t bval(const struct problem *p, size_t k, size_t n)
{
	return p->trans ? p->b[n * p->ldb + k] : p->b[k * p->ldb + n];
}

static int32_t azp_of(const struct problem *p, size_t m)
{
	return p->akind == ZP_NONE ? 0 : p->akind == ZP_TENSOR ? p->a_zp[0] : p->a_zp[m];
}

static int32_t bzp_of(const struct problem *p, size_t n)
{
	return p->bkind == ZP_NONE ? 0 : p->bkind == ZP_TENSOR ? p->b_zp[0] : p->b_zp[n];
}

/* int64 reference, then the two's complement s32 (it always fits here). */
static void ref_s32(const struct problem *p, int32_t *c)
{
	for (size_t m = 0; m < p->m; m++)
		for (size_t n = 0; n < p->n; n++) {
			int64_t s = 0;
			for (size_t k = 0; k < p->k; k++)
				s += (int64_t)(p->a[m * p->lda + k] - azp_of(p, m)) *
				     (int64_t)(bval(p, k, n) - bzp_of(p, n));
			CHECK(s >= INT32_MIN && s <= INT32_MAX, "reference overflows at %zu,%zu", m, n);
			c[m * p->ldc + n] = (int32_t)s;
		}
}

static float ascale_of(const struct problem *p, size_t m)
{
	return p->a_scale_count == 1 ? p->a_scale[0] : p->a_scale[m];
}

static float bscale_of(const struct problem *p, size_t n)
{
	return p->b_scale_count == 1 ? p->b_scale[0] : p->b_scale[n];
}

static float ref_f32(const struct problem *p, int32_t acc, size_t m, size_t n)
{
	return fmaf((float)acc, ascale_of(p, m) * bscale_of(p, n), p->has_bias ? p->bias[n] : 0.0f);
}

/* Round half to even, written without the library's rounding. */
static double rne(double t)
{
	double f = floor(t), d = t - f;
	if (d > 0.5)
		return f + 1;
	if (d < 0.5)
		return f;
	return fmod(f, 2.0) == 0 ? f : f + 1;
}

static uint8_t ref_u8(float y, float cs, int32_t czp)
{
	float t = y / cs;
	if (isnan(t))
		return (uint8_t)czp;
	double q = rne((double)t) + czp;
	return (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
}

static struct hwk_qs8_packed *pack(const struct problem *p, bool scales)
{
	struct hwk_qs8_weights w = { 0 };
	w.k = p->k;
	w.n = p->n;
	w.b = p->b;
	w.ldb = p->ldb;
	w.trans = p->trans;
	w.zp = p->b_zp;
	w.zp_count = p->bkind == ZP_NONE ? 0 : p->bkind == ZP_TENSOR ? 1 : p->n;
	if (scales) {
		w.scale = p->b_scale;
		w.scale_count = p->b_scale_count;
		w.bias = p->has_bias ? p->bias : NULL;
	}
	struct hwk_qs8_packed *pk = NULL;
	int rc = hwk_qs8_gemm_pack(&w, &pk);
	CHECK(rc == 0 && pk, "pack %zux%zu rc %d", p->k, p->n, rc);
	return pk;
}

static int run(const struct problem *p, const struct hwk_qs8_packed *pk, enum hwk_qs8_output out,
	       void *c, float cs, uint8_t czp, const struct hwk_parallel *par)
{
	struct hwk_qs8_gemm_args x = { 0 };
	x.m = p->m;
	x.a = p->a;
	x.lda = p->lda;
	x.a_zp = p->a_zp;
	x.a_zp_count = p->akind == ZP_NONE ? 0 : p->akind == ZP_TENSOR ? 1 : p->m;
	x.a_scale = p->a_scale;
	x.a_scale_count = p->a_scale_count;
	x.out = out;
	x.c = c;
	x.ldc = p->ldc;
	x.c_scale = cs;
	x.c_zp = czp;
	return hwk_qs8_gemm(pk, &x, par);
}

enum fill { FILL_RANDOM, FILL_MAX, FILL_MIN };

static void make(struct problem *p, size_t m, size_t n, size_t k, bool trans, enum zpk ak,
		 enum zpk bk, enum fill f)
{
	memset(p, 0, sizeof(*p));
	p->m = m;
	p->n = n;
	p->k = k;
	p->trans = trans;
	p->lda = k + (next_u32() % 3) * 5;
	p->ldb = (trans ? k : n) + next_u32() % 4;
	p->ldc = n + next_u32() % 3;
	p->akind = ak;
	p->bkind = bk;
	p->a = malloc(m * p->lda + 1);
	size_t bn = trans ? n * p->ldb : k * p->ldb;
	p->b = malloc(bn + 1);
	for (size_t i = 0; i < m * p->lda; i++)
		p->a[i] = f == FILL_MAX ? 255 : f == FILL_MIN ? 0 : (uint8_t)next_u32();
	for (size_t i = 0; i < bn; i++)
		p->b[i] = f == FILL_MAX ? 127 : f == FILL_MIN ? -128 : (int8_t)next_u32();
	for (size_t i = 0; i < 512; i++) {
		p->a_zp[i] = f == FILL_MIN ? 255 : (uint8_t)next_u32();
		p->b_zp[i] = f == FILL_MIN ? 127 : f == FILL_MAX ? -128 : (int8_t)next_u32();
		p->a_scale[i] = 0.001f + (float)(next_u32() % 1000) * 1e-5f;
		p->b_scale[i] = 0.002f + (float)(next_u32() % 1000) * 1e-5f;
		p->bias[i] = ((float)(next_u32() % 2001) - 1000.0f) * 0.01f;
	}
	p->a_scale_count = (next_u32() & 1) && m ? m : 1;
	p->b_scale_count = (next_u32() & 1) && n ? n : 1;
	p->has_bias = next_u32() & 1;
}

static void drop(struct problem *p)
{
	free(p->a);
	free(p->b);
}

static struct hwk_pool *pools[4];

/* One problem through every epilogue, checked, at 1, 2 and 3 threads. */
static void check_problem(struct problem *p, const char *what)
{
	size_t cn = p->m * p->ldc + 1;
	int32_t *want = calloc(cn, 4), *got = calloc(cn, 4);
	float *fwant = calloc(cn, 4), *fgot = calloc(cn, 4);
	uint8_t *qwant = calloc(cn, 1), *qgot = calloc(cn, 1);
	ref_s32(p, want);
	struct hwk_qs8_packed *raw = pack(p, false), *sc = pack(p, true);
	if (!raw || !sc)
		goto out;
	float cs = 0.05f + (float)(next_u32() % 100) * 0.01f;
	uint8_t czp = (uint8_t)next_u32();
	for (size_t m = 0; m < p->m; m++)
		for (size_t n = 0; n < p->n; n++) {
			float y = ref_f32(p, want[m * p->ldc + n], m, n);
			fwant[m * p->ldc + n] = y;
			qwant[m * p->ldc + n] = ref_u8(y, cs, czp);
			double yd = (double)want[m * p->ldc + n] * ascale_of(p, m) * bscale_of(p, n) +
				    (p->has_bias ? p->bias[n] : 0.0);
			double tol = ldexp(fabs(yd) + (p->has_bias ? fabs(p->bias[n]) : 0), -22) + 1e-30;
			CHECK(fabs(y - yd) <= tol, "%s: f32 formula far from double at %zu,%zu", what, m, n);
		}
	for (int t = 1; t <= 3; t++) {
		const struct hwk_parallel *par = t == 1 ? NULL : hwk_pool_parallel(pools[t]);
		memset(got, 0xa5, cn * 4);
		CHECK(run(p, raw, HWK_QS8_S32, got, 0, 0, par) == 0, "%s: s32 rc", what);
		for (size_t m = 0; m < p->m; m++) {
			if (memcmp(got + m * p->ldc, want + m * p->ldc, p->n * 4) != 0) {
				size_t n = 0;
				while (got[m * p->ldc + n] == want[m * p->ldc + n])
					n++;
				CHECK(0, "%s [%s] threads %d: s32 at %zu,%zu: %d want %d", what,
				      hwk_qs8_gemm_packed_variant(raw), t, m, n, got[m * p->ldc + n],
				      want[m * p->ldc + n]);
				break;
			}
			/* Padding between rows untouched. */
			for (size_t n = p->n; n < p->ldc && m + 1 < p->m; n++)
				CHECK(got[m * p->ldc + n] == (int32_t)0xa5a5a5a5, "%s: wrote ldc pad", what);
		}
		memset(fgot, 0xa5, cn * 4);
		CHECK(run(p, sc, HWK_QS8_F32, fgot, 0, 0, par) == 0, "%s: f32 rc", what);
		for (size_t m = 0; m < p->m; m++)
			if (memcmp(fgot + m * p->ldc, fwant + m * p->ldc, p->n * 4) != 0) {
				size_t n = 0;
				while (fgot[m * p->ldc + n] == fwant[m * p->ldc + n])
					n++;
				CHECK(0, "%s threads %d: f32 at %zu,%zu: %.9g want %.9g", what, t, m, n,
				      fgot[m * p->ldc + n], fwant[m * p->ldc + n]);
				break;
			}
		memset(qgot, 0xa5, cn);
		CHECK(run(p, sc, HWK_QS8_U8, qgot, cs, czp, par) == 0, "%s: u8 rc", what);
		for (size_t m = 0; m < p->m; m++)
			if (memcmp(qgot + m * p->ldc, qwant + m * p->ldc, p->n) != 0) {
				size_t n = 0;
				while (qgot[m * p->ldc + n] == qwant[m * p->ldc + n])
					n++;
				CHECK(0, "%s threads %d: u8 at %zu,%zu: %d want %d", what, t, m, n,
				      qgot[m * p->ldc + n], qwant[m * p->ldc + n]);
				break;
			}
	}
out:
	hwk_qs8_gemm_packed_free(raw);
	hwk_qs8_gemm_packed_free(sc);
	free(want);
	free(got);
	free(fwant);
	free(fgot);
	free(qwant);
	free(qgot);
}

static void shapes(void)
{
	static const size_t ms[] = { 1, 2, 5, 6, 7, 13, 19 };
	static const size_t ns[] = { 1, 3, 16, 17, 48, 63, 64, 65, 100, 131 };
	static const size_t ks[] = { 1, 2, 3, 4, 5, 7, 8, 16, 31, 64, 67, 255, 258 };
	char what[128];
	size_t i = 0;
	for (size_t a = 0; a < sizeof(ms) / sizeof(ms[0]); a++)
		for (size_t b = 0; b < sizeof(ns) / sizeof(ns[0]); b++)
			for (size_t c = 0; c < sizeof(ks) / sizeof(ks[0]); c++, i++) {
				/* A third of the grid, every row, column and depth still met. */
				if (i % 3 != 0)
					continue;
				struct problem p;
				enum zpk ak = (enum zpk)(i / 3 % 3), bk = (enum zpk)(i / 9 % 3);
				bool trans = (i / 27) & 1;
				make(&p, ms[a], ns[b], ks[c], trans, ak, bk, FILL_RANDOM);
				snprintf(what, sizeof(what), "m%zu n%zu k%zu azp%d bzp%d%s", p.m, p.n, p.k,
					 ak, bk, trans ? " trans" : "");
				check_problem(&p, what);
				drop(&p);
			}
}

/* Every zero-point kind with every layout on one mid-size shape. */
static void zero_points(void)
{
	char what[128];
	for (int ak = 0; ak < 3; ak++)
		for (int bk = 0; bk < 3; bk++)
			for (int trans = 0; trans < 2; trans++) {
				struct problem p;
				make(&p, 23, 97, 129, trans, (enum zpk)ak, (enum zpk)bk, FILL_RANDOM);
				snprintf(what, sizeof(what), "zp a%d b%d%s", ak, bk, trans ? " trans" : "");
				check_problem(&p, what);
				drop(&p);
			}
}

/* 255 * 127 * K and (0 - 255) * (-128 - 127) * K: the s32 results are near
 * their limits, so any 16-bit saturation or lost carry shows. */
static void large_k_extremes(void)
{
	struct problem p;
	make(&p, 7, 67, BIG_K, false, ZP_NONE, ZP_NONE, FILL_MAX);
	check_problem(&p, "K big, 255 x 127");
	drop(&p);
	make(&p, 7, 67, BIG_K, false, ZP_TENSOR, ZP_TENSOR, FILL_MIN);
	check_problem(&p, "K big, (0-255) x (-128-127)");
	drop(&p);
	make(&p, 3, 20, BIG_K + 3, true, ZP_VEC, ZP_VEC, FILL_RANDOM);
	check_problem(&p, "K big + 3, random");
	drop(&p);
	/* A = 255, B = -128: 255 * -128 pairs, the vpmaddubsw saturation case. */
	make(&p, 5, 33, BIG_K, false, ZP_NONE, ZP_NONE, FILL_MAX);
	memset(p.b, 0x80, p.k * p.ldb);
	check_problem(&p, "K big, 255 x -128");
	drop(&p);
}

/* M, N or K of 0: nothing written, or zeros (K = 0). */
static void empty(void)
{
	struct problem p;
	make(&p, 4, 5, 0, false, ZP_TENSOR, ZP_TENSOR, FILL_RANDOM);
	check_problem(&p, "K = 0");
	drop(&p);
	make(&p, 4, 0, 9, false, ZP_NONE, ZP_NONE, FILL_RANDOM);
	check_problem(&p, "N = 0");
	drop(&p);
	make(&p, 0, 5, 9, false, ZP_NONE, ZP_NONE, FILL_RANDOM);
	check_problem(&p, "M = 0");
	drop(&p);
}

static void bad_arguments(void)
{
	int8_t b[16] = { 0 };
	uint8_t a[16] = { 0 };
	int32_t c[16];
	float s = 1.0f, inf = INFINITY, zero = 0.0f;
	struct hwk_qs8_packed *pk = NULL;
	struct hwk_qs8_weights w = { .k = 4, .n = 4, .b = b, .ldb = 3 };
	CHECK(hwk_qs8_gemm_pack(&w, &pk) == -EINVAL && !pk, "ldb < n");
	w.ldb = 4;
	w.zp_count = 2;
	CHECK(hwk_qs8_gemm_pack(&w, &pk) == -EINVAL, "zp_count 2");
	w.zp_count = 0;
	w.scale = &inf;
	w.scale_count = 1;
	CHECK(hwk_qs8_gemm_pack(&w, &pk) == -EINVAL, "inf scale");
	w.scale = &zero;
	CHECK(hwk_qs8_gemm_pack(&w, &pk) == -EINVAL, "zero scale");
	w.scale_count = 0;
	CHECK(hwk_qs8_gemm_pack(NULL, &pk) == -EINVAL, "NULL weights");
	CHECK(hwk_qs8_gemm_pack(&w, &pk) == 0 && pk, "good pack");
	struct hwk_qs8_gemm_args x = { .m = 4, .a = a, .lda = 4, .c = c, .ldc = 4 };
	CHECK(hwk_qs8_gemm(pk, &x, NULL) == 0, "good gemm");
	x.lda = 3;
	CHECK(hwk_qs8_gemm(pk, &x, NULL) == -EINVAL, "lda < k");
	x.lda = 4;
	x.ldc = 3;
	CHECK(hwk_qs8_gemm(pk, &x, NULL) == -EINVAL, "ldc < n");
	x.ldc = 4;
	x.out = HWK_QS8_F32;
	x.a_scale = &s;
	x.a_scale_count = 1;
	CHECK(hwk_qs8_gemm(pk, &x, NULL) == -EINVAL, "f32 output without B scales");
	x.out = (enum hwk_qs8_output)7;
	CHECK(hwk_qs8_gemm(pk, &x, NULL) == -EINVAL, "bad output kind");
	x.out = HWK_QS8_S32;
	x.a_zp_count = 3;
	x.a_zp = a;
	CHECK(hwk_qs8_gemm(pk, &x, NULL) == -EINVAL, "a_zp_count 3");
	CHECK(hwk_qs8_gemm(NULL, &x, NULL) == -EINVAL, "NULL packed");
	hwk_qs8_gemm_packed_free(pk);
	w.scale = &s;
	w.scale_count = 1;
	CHECK(hwk_qs8_gemm_pack(&w, &pk) == 0, "pack with scale");
	x.a_zp_count = 0;
	x.out = HWK_QS8_U8;
	x.c_scale = 0.0f;
	CHECK(hwk_qs8_gemm(pk, &x, NULL) == -EINVAL, "zero c_scale");
	x.c_scale = 1.0f;
	x.a_scale = &zero;
	CHECK(hwk_qs8_gemm(pk, &x, NULL) == -EINVAL, "zero a_scale");
	hwk_qs8_gemm_packed_free(pk);
}

/* Dynamic per-row quantization, then the GEMM with per-row zero points
 * and scales: close to the f32 product (an end-to-end use). */
static void dynamic_then_gemm(void)
{
	enum { M = 9, N = 37, K = 70 };
	float x[M * K], wf[K * N], y[M * N];
	uint8_t q[M * K], zp[M];
	float as[M];
	int8_t wq[K * N];
	float ws = 0.01f;
	ht_fill(x, M * K, 3, -2.0f, 3.0f);
	ht_fill(wf, K * N, 4, -1.2f, 1.2f);
	for (size_t i = 0; i < K * N; i++) {
		wq[i] = (int8_t)lrintf(wf[i] / ws);
		wf[i] = wq[i] * ws;
	}
	CHECK(hwk_qu8_dynamic_quantize_rows(M, K, x, K, q, K, as, zp, NULL) == 0, "dynamic");
	struct hwk_qs8_weights w = { .k = K, .n = N, .b = wq, .ldb = N, .scale = &ws, .scale_count = 1 };
	struct hwk_qs8_packed *pk = NULL;
	CHECK(hwk_qs8_gemm_pack(&w, &pk) == 0, "pack");
	struct hwk_qs8_gemm_args a = { .m = M, .a = q, .lda = K, .a_zp = zp, .a_zp_count = M,
				       .a_scale = as, .a_scale_count = M, .out = HWK_QS8_F32,
				       .c = y, .ldc = N };
	CHECK(hwk_qs8_gemm(pk, &a, NULL) == 0, "gemm");
	for (size_t m = 0; m < M; m++)
		for (size_t n = 0; n < N; n++) {
			double s = 0;
			for (size_t k = 0; k < K; k++)
				s += (double)x[m * K + k] * wf[k * N + n];
			/* Each of K products is off by at most a_scale/2 * |w|. */
			double tol = K * as[m] * 0.5 * 1.2 + 1e-4;
			CHECK(fabs(y[m * N + n] - s) <= tol, "%zu,%zu: %g want %g", m, n, y[m * N + n], s);
		}
	hwk_qs8_gemm_packed_free(pk);
}

int main(void)
{
	for (int t = 2; t <= 3; t++)
		if (!(pools[t] = hwk_pool_create((size_t)t)))
			return 1;
	static const struct ht_test tests[] = {
		{ "shapes", shapes },
		{ "zero_points", zero_points },
		{ "large_k_extremes", large_k_extremes },
		{ "empty", empty },
		{ "bad_arguments", bad_arguments },
		{ "dynamic_then_gemm", dynamic_then_gemm },
	};
	int rc = ht_run("int8_gemm", tests, sizeof(tests) / sizeof(tests[0]));
	for (int t = 2; t <= 3; t++)
		hwk_pool_destroy(pools[t]);
	return rc;
}
