/* Scaled dot-product attention: GFLOPS (4 S T d heads per non-causal call:
 * Q K^T and P V) of hwk_f32_attention for prefill (S = T = 128, 512, 2048)
 * and decode (1 query row against 2048 cached positions through the KV
 * cache), 12 heads of d 64, on 1 and 2 threads. The peer, measured in the
 * same run, is our f32 GEMM doing the same math unfused: per head
 * S = Q K^T * scale (GEMM, trans_b), hwk_f32_softmax over the rows, O = P V
 * (GEMM), with the S x T matrix in memory. BENCH_REPS, BENCH_MIN_S as in
 * common.h. */
#include <math.h>

#include "bench/kernels/common.h"
#include "kernels/core/registry.h"

#define HEADS 12
#define D 64

struct ctx {
	size_t S, T;
	const float *q, *k, *v;
	float *o, *s;
	struct hwk_f32_kv_cache *cache;
	const struct hwk_parallel *par;
};

static void run_ours(void *p)
{
	struct ctx *c = p;
	int rc;
	size_t qs[3], ks[3];
	hwk_f32_attention_strides(HEADS, c->S, D, qs);
	if (c->cache) {
		rc = hwk_f32_kv_cache_attention(c->cache, HEADS, c->S, c->q, qs, c->o, qs, 0, false,
						c->par);
	} else {
		hwk_f32_attention_strides(HEADS, c->T, D, ks);
		struct hwk_f32_attention a = { .batch = 1, .num_heads = HEADS, .num_kv_heads = HEADS,
					       .head_dim = D, .q_len = c->S, .kv_len = c->T,
					       .q = c->q, .k = c->k, .v = c->v, .o = c->o };
		memcpy(a.q_strides, qs, sizeof(qs));
		memcpy(a.o_strides, qs, sizeof(qs));
		memcpy(a.k_strides, ks, sizeof(ks));
		memcpy(a.v_strides, ks, sizeof(ks));
		rc = hwk_f32_attention(&a, c->par);
	}
	if (rc) {
		fprintf(stderr, "attention failed: %d\n", rc);
		exit(1);
	}
}

static void run_peer(void *p)
{
	struct ctx *c = p;
	const float scale = 1.0f / sqrtf((float)D);
	for (size_t h = 0; h < HEADS; h++) {
		const float *q = c->q + h * c->S * D, *k = c->k + h * c->T * D;
		const float *v = c->v + h * c->T * D;
		float *o = c->o + h * c->S * D;
		if (hwk_f32_gemm(false, true, c->S, c->T, D, scale, q, D, k, D, 0, c->s, c->T, NULL,
				 c->par) ||
		    hwk_f32_softmax(c->S, c->T, c->s, c->T, c->s, c->T, c->par) ||
		    hwk_f32_gemm(false, false, c->S, D, c->T, 1, c->s, c->T, v, D, 0, o, D, NULL,
				 c->par)) {
			fprintf(stderr, "peer failed\n");
			exit(1);
		}
	}
}

int main(void)
{
	static const struct {
		const char *kind;
		size_t S, T;
	} shapes[] = { { "prefill", 128, 128 }, { "prefill", 512, 512 }, { "prefill", 2048, 2048 },
		       { "decode", 1, 2048 } };
	struct hwk_pool *pools[2] = { hwk_pool_create(1), hwk_pool_create(2) };
	if (!pools[0] || !pools[1]) {
		fprintf(stderr, "pool: out of memory\n");
		return 1;
	}
	int reps = bench_reps();
	double min_s = bench_min_s();
	printf("f32 attention (%s), GFLOPS (4 S T d heads), heads %d, d %d, median of %d; peer: "
	       "our f32 GEMM QK^T + softmax + GEMM PV\n",
	       hwk_op_variant(&hwk_op_f32_attention)->name, HEADS, D, reps);
	printf("%-8s %6s %6s %2s %9s %9s %7s\n", "kind", "S", "T", "t", "ours", "gemm+sm", "ratio");
	for (size_t si = 0; si < sizeof(shapes) / sizeof(shapes[0]); si++) {
		size_t S = shapes[si].S, T = shapes[si].T;
		float *q = hwk_alloc(HEADS * S * D * 4), *k = hwk_alloc(HEADS * T * D * 4);
		float *v = hwk_alloc(HEADS * T * D * 4), *o = hwk_alloc(HEADS * S * D * 4);
		float *s = hwk_alloc(S * T * 4);
		if (!q || !k || !v || !o || !s) {
			fprintf(stderr, "out of memory\n");
			return 1;
		}
		for (size_t i = 0; i < HEADS * S * D; i++)
			q[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
		for (size_t i = 0; i < HEADS * T * D; i++) {
			k[i] = (float)((i * 104729) % 1000) / 1000.0f - 0.5f;
			v[i] = (float)((i * 1299709) % 1000) / 1000.0f - 0.5f;
		}
		struct hwk_f32_kv_cache *cache = NULL;
		if (!strcmp(shapes[si].kind, "decode")) {
			size_t ks[3];
			hwk_f32_attention_strides(HEADS, T, D, ks);
			cache = hwk_f32_kv_cache_create(1, HEADS, D, T);
			if (!cache || hwk_f32_kv_cache_append(cache, T, k, ks, v, ks)) {
				fprintf(stderr, "kv cache failed\n");
				return 1;
			}
		}
		for (int t = 1; t <= 2; t++) {
			struct ctx c = { S, T, q, k, v, o, s, cache, hwk_pool_parallel(pools[t - 1]) };
			double flops = 4.0 * (double)S * (double)T * D * HEADS;
			double ours = flops / bench_time(run_ours, &c, reps, min_s) / 1e9;
			double peer = flops / bench_time(run_peer, &c, reps, min_s) / 1e9;
			printf("%-8s %6zu %6zu %2d %9.1f %9.1f %7.2f\n", shapes[si].kind, S, T, t, ours,
			       peer, ours / peer);
			bench_json("\"bench\":\"attention\",\"kind\":\"%s\",\"S\":%zu,\"T\":%zu,"
				   "\"heads\":%d,\"d\":%d,\"threads\":%d,\"variant\":\"%s\","
				   "\"gflops\":%.2f,\"peer\":\"hwk_f32_gemm+softmax\",\"peer_gflops\":%.2f",
				   shapes[si].kind, S, T, HEADS, D, t,
				   hwk_op_variant(&hwk_op_f32_attention)->name, ours, peer);
		}
		hwk_f32_kv_cache_free(cache);
		hwk_free(q), hwk_free(k), hwk_free(v), hwk_free(o), hwk_free(s);
	}
	hwk_pool_destroy(pools[0]);
	hwk_pool_destroy(pools[1]);
	return 0;
}
