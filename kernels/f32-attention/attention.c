/* hwk_f32_attention and the KV cache: argument checks, the split into
 * (batch, head, query block) tasks, and the registered op (variants best
 * first). */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "kernels/core/registry.h"
#include "kernels/f32-attention/attention.h"

#if defined(__x86_64__)
static const struct hwk_variant attention_variants[] = {
	{ HWK_ISA_AVX512F, "4x64-avx512f", (const void *)hwk_f32_attention_ukernel_4x64__avx512f },
	{ HWK_ISA_AVX2, "4x64-avx2", (const void *)hwk_f32_attention_ukernel_4x64__avx2 },
	{ HWK_ISA_SCALAR, "x1-scalar", (const void *)hwk_f32_attention_ukernel_x1__scalar },
};
#elif defined(__aarch64__)
static const struct hwk_variant attention_variants[] = {
	{ HWK_ISA_NEON, "4x64-neon", (const void *)hwk_f32_attention_ukernel_4x64__neon },
	{ HWK_ISA_SCALAR, "x1-scalar", (const void *)hwk_f32_attention_ukernel_x1__scalar },
};
#else
static const struct hwk_variant attention_variants[] = {
	{ HWK_ISA_SCALAR, "x1-scalar", (const void *)hwk_f32_attention_ukernel_x1__scalar },
};
#endif
struct hwk_op hwk_op_f32_attention = { "f32-attention", attention_variants,
				       sizeof(attention_variants) / sizeof(attention_variants[0]),
				       NULL };

/* Query rows per task: fixed, so the split never depends on the thread count. */
#define ATTN_QB 64

struct attn_job {
	const struct hwk_f32_attention *a;
	hwk_f32_attention_fn fn;
	size_t qblocks, group;
	float scale;
	atomic_int err;
};

static void attn_task(void *ctx, size_t t)
{
	struct attn_job *j = ctx;
	const struct hwk_f32_attention *a = j->a;
	size_t qb = t % j->qblocks, h = (t / j->qblocks) % a->num_heads;
	size_t bt = t / j->qblocks / a->num_heads, kh = h / j->group;
	size_t r0 = qb * ATTN_QB;
	struct hwk_f32_attention_block blk = {
		.rows = a->q_len - r0 < ATTN_QB ? a->q_len - r0 : ATTN_QB,
		.kv_len = a->kv_len,
		.d = a->head_dim,
		.q = a->q + bt * a->q_strides[0] + h * a->q_strides[1] + r0 * a->q_strides[2],
		.k = a->kv_len ? a->k + bt * a->k_strides[0] + kh * a->k_strides[1] : NULL,
		.v = a->kv_len ? a->v + bt * a->v_strides[0] + kh * a->v_strides[1] : NULL,
		.ldq = a->q_strides[2],
		.ldk = a->k_strides[2],
		.ldv = a->v_strides[2],
		.o = a->o + bt * a->o_strides[0] + h * a->o_strides[1] + r0 * a->o_strides[2],
		.ldo = a->o_strides[2],
		.mask = a->mask ? a->mask + bt * a->mask_batch_stride + r0 * a->mask_ld : NULL,
		.ldm = a->mask_ld,
		.scale = j->scale,
		.causal = a->causal,
		.vis0 = (ptrdiff_t)a->kv_len - (ptrdiff_t)a->q_len + 1 + (ptrdiff_t)r0,
	};
	int rc = j->fn(&blk);
	if (rc)
		atomic_store(&j->err, rc);
}

int hwk_f32_attention(const struct hwk_f32_attention *a, const struct hwk_parallel *par)
{
	if (!a || a->num_heads == 0 || a->num_kv_heads == 0 || a->num_heads % a->num_kv_heads)
		return -EINVAL;
	if (!isfinite(a->scale))
		return -EINVAL;
	if (a->batch == 0 || a->q_len == 0 || a->head_dim == 0)
		return 0;
	if (a->q_len > PTRDIFF_MAX / 2 || a->kv_len > PTRDIFF_MAX / 2)
		return -EINVAL;
	if (!a->q || !a->o || a->q_strides[2] < a->head_dim || a->o_strides[2] < a->head_dim)
		return -EINVAL;
	if (a->kv_len && (!a->k || !a->v || a->k_strides[2] < a->head_dim ||
			  a->v_strides[2] < a->head_dim))
		return -EINVAL;
	if (a->mask && a->mask_ld < a->kv_len)
		return -EINVAL;
	struct attn_job job = {
		.a = a,
		.fn = (hwk_f32_attention_fn)hwk_op_variant(&hwk_op_f32_attention)->impl,
		.qblocks = (a->q_len + ATTN_QB - 1) / ATTN_QB,
		.group = a->num_heads / a->num_kv_heads,
		.scale = a->scale != 0 ? a->scale : (float)(1.0 / sqrt((double)a->head_dim)),
	};
	atomic_init(&job.err, 0);
	hwk_parallel_for(par, a->batch * a->num_heads * job.qblocks, attn_task, &job);
	return atomic_load(&job.err);
}

void hwk_f32_attention_strides(size_t heads, size_t seq, size_t head_dim, size_t strides[3])
{
	strides[0] = heads * seq * head_dim;
	strides[1] = seq * head_dim;
	strides[2] = head_dim;
}

/* --- KV cache: [batch][kv_heads][capacity][head_dim], grown by doubling. */
struct hwk_f32_kv_cache {
	size_t batch, kv_heads, d, cap, len;
	float *k, *v;
};

struct hwk_f32_kv_cache *hwk_f32_kv_cache_create(size_t batch, size_t num_kv_heads,
						 size_t head_dim, size_t capacity)
{
	if (batch == 0 || num_kv_heads == 0 || head_dim == 0 ||
	    batch > SIZE_MAX / num_kv_heads / head_dim / sizeof(float)) {
		errno = EINVAL;
		return NULL;
	}
	struct hwk_f32_kv_cache *c = hwk_alloc(sizeof(*c));
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	*c = (struct hwk_f32_kv_cache){ batch, num_kv_heads, head_dim, 0, 0, NULL, NULL };
	if (capacity && hwk_f32_kv_cache_reserve(c, capacity)) {
		hwk_free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

void hwk_f32_kv_cache_free(struct hwk_f32_kv_cache *c)
{
	if (!c)
		return;
	hwk_free(c->k);
	hwk_free(c->v);
	hwk_free(c);
}

size_t hwk_f32_kv_cache_len(const struct hwk_f32_kv_cache *c)
{
	return c ? c->len : 0;
}

void hwk_f32_kv_cache_clear(struct hwk_f32_kv_cache *c)
{
	if (c)
		c->len = 0;
}

int hwk_f32_kv_cache_reserve(struct hwk_f32_kv_cache *c, size_t capacity)
{
	if (!c)
		return -EINVAL;
	if (capacity <= c->cap)
		return 0;
	size_t planes = c->batch * c->kv_heads;
	if (capacity > SIZE_MAX / sizeof(float) / c->d / planes)
		return -ENOMEM;
	size_t bytes = planes * capacity * c->d * sizeof(float);
	float *k = hwk_alloc(bytes), *v = hwk_alloc(bytes);
	if (!k || !v) {
		hwk_free(k);
		hwk_free(v);
		return -ENOMEM;
	}
	for (size_t p = 0; p < planes && c->len; p++) {
		memcpy(k + p * capacity * c->d, c->k + p * c->cap * c->d, c->len * c->d * sizeof(float));
		memcpy(v + p * capacity * c->d, c->v + p * c->cap * c->d, c->len * c->d * sizeof(float));
	}
	hwk_free(c->k);
	hwk_free(c->v);
	c->k = k;
	c->v = v;
	c->cap = capacity;
	return 0;
}

int hwk_f32_kv_cache_append(struct hwk_f32_kv_cache *c, size_t n, const float *k,
			    const size_t k_strides[3], const float *v, const size_t v_strides[3])
{
	if (!c)
		return -EINVAL;
	if (n == 0)
		return 0;
	if (!k || !v || !k_strides || !v_strides || k_strides[2] < c->d || v_strides[2] < c->d ||
	    n > SIZE_MAX / 4 - c->len)
		return -EINVAL;
	if (c->len + n > c->cap) {
		size_t want = c->cap * 2 > c->len + n ? c->cap * 2 : c->len + n;
		if (want < 16)
			want = 16;
		int rc = hwk_f32_kv_cache_reserve(c, want);
		if (rc)
			return rc;
	}
	for (size_t b = 0; b < c->batch; b++)
		for (size_t h = 0; h < c->kv_heads; h++) {
			float *kd = c->k + ((b * c->kv_heads + h) * c->cap + c->len) * c->d;
			float *vd = c->v + ((b * c->kv_heads + h) * c->cap + c->len) * c->d;
			for (size_t t = 0; t < n; t++) {
				memcpy(kd + t * c->d, k + b * k_strides[0] + h * k_strides[1] + t * k_strides[2],
				       c->d * sizeof(float));
				memcpy(vd + t * c->d, v + b * v_strides[0] + h * v_strides[1] + t * v_strides[2],
				       c->d * sizeof(float));
			}
		}
	c->len += n;
	return 0;
}

int hwk_f32_kv_cache_attention(const struct hwk_f32_kv_cache *c, size_t num_heads, size_t q_len,
			       const float *q, const size_t q_strides[3], float *o,
			       const size_t o_strides[3], float scale, bool causal,
			       const struct hwk_parallel *par)
{
	if (!c || !q_strides || !o_strides || q_len > c->len)
		return -EINVAL;
	struct hwk_f32_attention a = {
		.batch = c->batch,
		.num_heads = num_heads,
		.num_kv_heads = c->kv_heads,
		.head_dim = c->d,
		.q_len = q_len,
		.kv_len = c->len,
		.q = q,
		.k = c->k,
		.v = c->v,
		.o = o,
		.scale = scale,
		.causal = causal,
	};
	memcpy(a.q_strides, q_strides, sizeof(a.q_strides));
	memcpy(a.o_strides, o_strides, sizeof(a.o_strides));
	a.k_strides[0] = a.v_strides[0] = c->kv_heads * c->cap * c->d;
	a.k_strides[1] = a.v_strides[1] = c->cap * c->d;
	a.k_strides[2] = a.v_strides[2] = c->d;
	return hwk_f32_attention(&a, par);
}
