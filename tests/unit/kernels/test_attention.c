/* f32 scaled dot-product attention and the KV cache, every variant against
 * a naive double softmax(Q K^T scale + mask) V written here. */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "kernels/core/registry.h"
#include "tests/unit/kernels/harness.h"

/* Naive reference, [batch][heads][seq][d] dense, mask shared by batches
 * when mask_bs is 0. Fully masked rows give 0. */
static void ref_attention(size_t B, size_t H, size_t KH, size_t d, size_t S, size_t T,
			  const float *q, const float *k, const float *v, float scale, int causal,
			  const float *mask, size_t mask_ld, size_t mask_bs, float *o)
{
	double *s = malloc((T + 1) * sizeof(double));
	for (size_t b = 0; b < B; b++)
		for (size_t h = 0; h < H; h++) {
			size_t g = h / (H / KH);
			const float *kb = k + (b * KH + g) * T * d, *vb = v + (b * KH + g) * T * d;
			for (size_t i = 0; i < S; i++) {
				const float *qi = q + ((b * H + h) * S + i) * d;
				double m = -INFINITY;
				for (size_t j = 0; j < T; j++) {
					double x = 0;
					for (size_t c = 0; c < d; c++)
						x += (double)qi[c] * kb[j * d + c];
					x *= scale;
					if (mask)
						x += mask[b * mask_bs + i * mask_ld + j];
					if (causal && (long)j > (long)T - (long)S + (long)i)
						x = -INFINITY;
					s[j] = x;
					if (x > m)
						m = x;
				}
				float *oi = o + ((b * H + h) * S + i) * d;
				for (size_t c = 0; c < d; c++) {
					double acc = 0, sum = 0;
					if (m != -INFINITY)
						for (size_t j = 0; j < T; j++) {
							double p = exp(s[j] - m);
							sum += p;
							acc += p * vb[j * d + c];
						}
					oi[c] = sum > 0 ? (float)(acc / sum) : 0.0f;
				}
			}
		}
	free(s);
}

static struct hwk_f32_attention dense(size_t B, size_t H, size_t KH, size_t d, size_t S,
				      size_t T, const float *q, const float *k, const float *v,
				      float *o)
{
	struct hwk_f32_attention a = { .batch = B, .num_heads = H, .num_kv_heads = KH,
				       .head_dim = d, .q_len = S, .kv_len = T,
				       .q = q, .k = k, .v = v, .o = o };
	hwk_f32_attention_strides(H, S, d, a.q_strides);
	hwk_f32_attention_strides(KH, T, d, a.k_strides);
	hwk_f32_attention_strides(KH, T, d, a.v_strides);
	hwk_f32_attention_strides(H, S, d, a.o_strides);
	return a;
}

/* One case: random q, k, v in [-1, 1); tolerance 2e-5 + 1e-4 |ref| (f32
 * dot products over d <= 128 terms and f32 exp of relative error < 1e-8). */
static void one_case(size_t B, size_t H, size_t KH, size_t d, size_t S, size_t T, int causal,
		     float scale, unsigned long long seed)
{
	size_t nq = B * H * S * d, nk = B * KH * T * d;
	float *q = malloc(nq * 4), *k = malloc((nk + 1) * 4), *v = malloc((nk + 1) * 4);
	float *o = malloc(nq * 4), *r = malloc(nq * 4);
	ht_fill(q, nq, seed, -1, 1);
	ht_fill(k, nk, seed + 1, -1, 1);
	ht_fill(v, nk, seed + 2, -1, 1);
	for (size_t i = 0; i < nq; i++)
		o[i] = NAN;
	struct hwk_f32_attention a = dense(B, H, KH, d, S, T, q, k, v, o);
	a.causal = causal;
	a.scale = scale;
	int rc = hwk_f32_attention(&a, NULL);
	CHECK(rc == 0, "rc %d", rc);
	/* the reference is the same under every ISA ceiling: computed once */
	static float *refs[128];
	if (!refs[seed % 128]) {
		refs[seed % 128] = malloc(nq * 4);
		ref_attention(B, H, KH, d, S, T, q, k, v,
			      scale ? scale : (float)(1 / sqrt((double)d)), causal, NULL, 0, 0,
			      refs[seed % 128]);
	}
	memcpy(r, refs[seed % 128], nq * 4);
	long w = ht_close(o, r, nq, 2e-5f, 1e-4f);
	CHECK(w < 0, "%s B%zu H%zu KH%zu d%zu S%zu T%zu causal %d: [%ld] %g vs %g",
	      ht_variant(&hwk_op_f32_attention), B, H, KH, d, S, T, causal, w, o[w], r[w]);
	free(q), free(k), free(v), free(o), free(r);
}

static void test_shapes(void)
{
	static const size_t seqs[] = { 1, 2, 7, 64, 257 };
	static const size_t dims[] = { 1, 8, 16, 33, 64, 128 };
	unsigned long long seed = 1;
	for (size_t si = 0; si < 5; si++)
		for (size_t di = 0; di < 6; di++) {
			size_t S = seqs[si], d = dims[di];
			/* MHA and GQA, causal and not, alternating so each shape meets
			 * both; S 257 only with d <= 33 and once (keeps qemu quick) */
			if (S == 257 && d >= 64)
				continue;
			int gqa = (int)((si + di) & 1);
			one_case(1, 2, gqa ? 1 : 2, d, S, S, (int)(di & 1), 0, seed++);
			if (S != 257)
				one_case(1, 2, gqa ? 2 : 1, d, S, S, !(di & 1), 0, seed++);
		}
	/* kv longer than q (decode-like chunks), kv shorter (rows that see nothing
	 * under causal), batch > 1, explicit scale */
	one_case(2, 4, 2, 24, 5, 70, 1, 0, 101);
	one_case(2, 4, 1, 17, 70, 9, 1, 0, 102);
	one_case(3, 2, 1, 40, 9, 130, 0, 0.3f, 103);
	one_case(1, 1, 1, 64, 16, 0, 0, 0, 104); /* no keys: zeros */
	one_case(1, 2, 1, 128, 80, 80, 1, 0, 105);
}

/* Large logits: q and k integers times 64, so every score is exact in f32
 * and softmax is close to one-hot; -inf mask entries, and rows all -inf
 * (expected zeros). Tolerance 1e-5 + 1e-5 |ref|. */
static void test_extreme(void)
{
	size_t H = 2, d = 8, S = 37, T = 37;
	size_t nq = H * S * d, nk = T * d;
	float *q = malloc(nq * 4), *k = malloc(nk * 4), *v = malloc(nk * 4);
	float *o = malloc(nq * 4), *r = malloc(nq * 4), *mask = malloc(S * (T + 3) * 4);
	unsigned long long st = 7;
	for (size_t i = 0; i < nq; i++)
		q[i] = 64.0f * (float)(int)ht_randf(&st, -8, 9);
	for (size_t i = 0; i < nk; i++)
		k[i] = 64.0f * (float)(int)ht_randf(&st, -8, 9);
	ht_fill(v, nk, 9, -1, 1);
	for (size_t i = 0; i < S; i++)
		for (size_t j = 0; j < T + 3; j++) {
			float x = ht_randf(&st, -3, 3);
			/* integers, so score + mask is exact too */
			mask[i * (T + 3) + j] = (i % 5 == 2) ? -INFINITY : x < -2 ? -INFINITY : floorf(x);
		}
	for (int causal = 0; causal < 2; causal++)
		for (int use_mask = 0; use_mask < 2; use_mask++) {
			struct hwk_f32_attention a = dense(1, H, 1, d, S, T, q, k, v, o);
			a.scale = 1.0f / 64;
			a.causal = causal;
			if (use_mask) {
				a.mask = mask;
				a.mask_ld = T + 3;
			}
			int rc = hwk_f32_attention(&a, NULL);
			CHECK(rc == 0, "rc %d", rc);
			ref_attention(1, H, 1, d, S, T, q, k, v, 1.0f / 64, causal,
				      use_mask ? mask : NULL, T + 3, 0, r);
			long w = ht_close(o, r, nq, 1e-5f, 1e-5f);
			CHECK(w < 0, "causal %d mask %d: [%ld] %g vs %g", causal, use_mask, w, o[w], r[w]);
			if (use_mask)
				for (size_t h = 0; h < H; h++)
					for (size_t c = 0; c < d; c++)
						CHECK(o[(h * S + 2) * d + c] == 0.0f, "masked row not zero: %g",
						      o[(h * S + 2) * d + c]);
		}
	free(q), free(k), free(v), free(o), free(r), free(mask);
}

/* Decode: a prefill chunk of 5 tokens, then one token at a time for 40
 * steps through the KV cache (which grows from capacity 0); each step's new
 * rows against the double reference of causal attention over the whole
 * prefix (tolerance 2e-5 + 1e-4 |ref|), and the full causal prefill over
 * all 45 positions too. */
static void test_kv_cache(void)
{
	size_t B = 2, H = 4, KH = 2, d = 33, P = 5, N = 40, T = P + N;
	float *q = malloc(B * H * T * d * 4), *k = malloc(B * KH * T * d * 4);
	float *v = malloc(B * KH * T * d * 4), *o = malloc(B * H * T * d * 4);
	float *r = malloc(B * H * T * d * 4), *os = malloc(B * H * P * d * 4);
	ht_fill(q, B * H * T * d, 21, -1, 1);
	ht_fill(k, B * KH * T * d, 22, -1, 1);
	ht_fill(v, B * KH * T * d, 23, -1, 1);
	struct hwk_f32_kv_cache *c = hwk_f32_kv_cache_create(B, KH, d, 0);
	CHECK(c != NULL, "create");
	if (!c)
		return;
	size_t qst[3], kst[3], ost[3];
	/* full tensors viewed as [B][H][T][d]: a step's rows start at row t */
	hwk_f32_attention_strides(H, T, d, qst);
	hwk_f32_attention_strides(KH, T, d, kst);
	size_t t = 0;
	while (t < T) {
		size_t n = t == 0 ? P : 1;
		int rc = hwk_f32_kv_cache_append(c, n, k + t * d, kst, v + t * d, kst);
		CHECK(rc == 0, "append rc %d", rc);
		hwk_f32_attention_strides(H, n, d, ost);
		rc = hwk_f32_kv_cache_attention(c, H, n, q + t * d, qst, os, ost, 0, true, NULL);
		CHECK(rc == 0 && hwk_f32_kv_cache_len(c) == t + n, "attention rc %d len %zu", rc,
		      hwk_f32_kv_cache_len(c));
		t += n;
		/* reference over the prefix [0, t): dense copies */
		float *kp = malloc(B * KH * t * d * 4), *vp = malloc(B * KH * t * d * 4);
		float *qp = malloc(B * H * n * d * 4), *rp = malloc(B * H * n * d * 4);
		for (size_t b = 0; b < B; b++) {
			for (size_t h = 0; h < KH; h++) {
				memcpy(kp + (b * KH + h) * t * d, k + (b * KH + h) * T * d, t * d * 4);
				memcpy(vp + (b * KH + h) * t * d, v + (b * KH + h) * T * d, t * d * 4);
			}
			for (size_t h = 0; h < H; h++)
				memcpy(qp + (b * H + h) * n * d, q + ((b * H + h) * T + t - n) * d,
				       n * d * 4);
		}
		static float *refs[64];
		if (!refs[t]) {
			refs[t] = malloc(B * H * n * d * 4);
			ref_attention(B, H, KH, d, n, t, qp, kp, vp, (float)(1 / sqrt(33.0)), 1,
				      NULL, 0, 0, refs[t]);
		}
		memcpy(rp, refs[t], B * H * n * d * 4);
		long w = ht_close(os, rp, B * H * n * d, 2e-5f, 1e-4f);
		CHECK(w < 0, "step t=%zu: [%ld] %g vs %g", t, w, os[w], rp[w]);
		free(kp), free(vp), free(qp), free(rp);
	}
	/* the full causal prefill over all T agrees with the steps' reference */
	struct hwk_f32_attention a = dense(B, H, KH, d, T, T, q, k, v, o);
	a.causal = true;
	CHECK(hwk_f32_attention(&a, NULL) == 0, "full");
	static float *full;
	if (!full) {
		full = malloc(B * H * T * d * 4);
		ref_attention(B, H, KH, d, T, T, q, k, v, (float)(1 / sqrt(33.0)), 1, NULL, 0, 0,
			      full);
	}
	memcpy(r, full, B * H * T * d * 4);
	CHECK(ht_close(o, r, B * H * T * d, 2e-5f, 1e-4f) < 0, "full prefill");
	CHECK(hwk_f32_kv_cache_attention(c, H, T + 1, q, qst, o, qst, 0, true, NULL) == -EINVAL,
	      "q_len > len");
	hwk_f32_kv_cache_clear(c);
	CHECK(hwk_f32_kv_cache_len(c) == 0, "clear");
	hwk_f32_kv_cache_free(c);
	free(q), free(k), free(v), free(o), free(r), free(os);
}

/* Threads 1, 2, 3: bit-identical (memcmp). */
static void test_threads(void)
{
	size_t B = 1, H = 3, KH = 1, d = 24, S = 100; /* 2 query blocks per head */
	size_t nq = B * H * S * d, nk = B * KH * S * d;
	float *q = malloc(nq * 4), *k = malloc(nk * 4), *v = malloc(nk * 4);
	float *o[3];
	ht_fill(q, nq, 31, -1, 1);
	ht_fill(k, nk, 32, -1, 1);
	ht_fill(v, nk, 33, -1, 1);
	for (int causal = 0; causal < 2; causal++) {
		for (int t = 0; t < 3; t++) {
			o[t] = malloc(nq * 4);
			struct hwk_pool *pool = hwk_pool_create((size_t)t + 1);
			struct hwk_f32_attention a = dense(B, H, KH, d, S, S, q, k, v, o[t]);
			a.causal = causal;
			CHECK(hwk_f32_attention(&a, hwk_pool_parallel(pool)) == 0, "threads %d", t + 1);
			hwk_pool_destroy(pool);
		}
		CHECK(!memcmp(o[0], o[1], nq * 4) && !memcmp(o[0], o[2], nq * 4),
		      "causal %d: differs by thread count", causal);
		for (int t = 0; t < 3; t++)
			free(o[t]);
	}
	free(q), free(k), free(v);
}

static void test_bad_args(void)
{
	float q[64] = { 0 }, k[64] = { 0 }, v[64] = { 0 }, o[64];
	struct hwk_f32_attention a = dense(1, 2, 2, 4, 2, 2, q, k, v, o);
	CHECK(hwk_f32_attention(&a, NULL) == 0, "good");
	CHECK(hwk_f32_attention(NULL, NULL) == -EINVAL, "NULL");
	struct hwk_f32_attention x = a;
	x.num_kv_heads = 0;
	CHECK(hwk_f32_attention(&x, NULL) == -EINVAL, "kv heads 0");
	x = a;
	x.num_heads = 3;
	CHECK(hwk_f32_attention(&x, NULL) == -EINVAL, "kv heads not a divisor");
	x = a;
	x.q = NULL;
	CHECK(hwk_f32_attention(&x, NULL) == -EINVAL, "q NULL");
	x = a;
	x.v = NULL;
	CHECK(hwk_f32_attention(&x, NULL) == -EINVAL, "v NULL");
	x = a;
	x.k_strides[2] = 3;
	CHECK(hwk_f32_attention(&x, NULL) == -EINVAL, "row stride < d");
	x = a;
	x.scale = NAN;
	CHECK(hwk_f32_attention(&x, NULL) == -EINVAL, "scale NaN");
	x.scale = INFINITY;
	CHECK(hwk_f32_attention(&x, NULL) == -EINVAL, "scale inf");
	x = a;
	x.mask = q;
	x.mask_ld = 1;
	CHECK(hwk_f32_attention(&x, NULL) == -EINVAL, "mask_ld < kv_len");
	x = a;
	x.k = x.v = NULL;
	x.kv_len = 0;
	CHECK(hwk_f32_attention(&x, NULL) == 0 && o[0] == 0, "no keys");
	errno = 0;
	CHECK(hwk_f32_kv_cache_create(1, 0, 4, 0) == NULL && errno == EINVAL, "cache heads 0");
	struct hwk_f32_kv_cache *c = hwk_f32_kv_cache_create(1, 2, 4, 3);
	size_t st[3];
	hwk_f32_attention_strides(2, 1, 4, st);
	CHECK(hwk_f32_kv_cache_append(NULL, 1, k, st, v, st) == -EINVAL, "append NULL cache");
	CHECK(hwk_f32_kv_cache_append(c, 1, NULL, st, v, st) == -EINVAL, "append NULL k");
	size_t bad[3] = { 8, 4, 2 };
	CHECK(hwk_f32_kv_cache_append(c, 1, k, bad, v, st) == -EINVAL, "append stride");
	CHECK(hwk_f32_kv_cache_len(c) == 0, "unchanged");
	CHECK(hwk_f32_kv_cache_attention(c, 2, 1, q, st, o, st, 0, true, NULL) == -EINVAL,
	      "q_len > len");
	CHECK(hwk_f32_kv_cache_attention(c, 3, 0, q, st, o, st, 0, true, NULL) == -EINVAL,
	      "heads not a multiple");
	hwk_f32_kv_cache_free(c);
}

int main(void)
{
	static const struct ht_test tests[] = {
		{ "shapes", test_shapes },     { "extreme", test_extreme },
		{ "kv_cache", test_kv_cache }, { "threads", test_threads },
		{ "bad_args", test_bad_args },
	};
	return ht_run("attention", tests, sizeof(tests) / sizeof(tests[0]));
}
