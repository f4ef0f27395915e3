/* f32 scaled dot-product attention: one block of query rows of one
 * (batch, head) against its keys and values. Internal to libhwk. */
#ifndef HWK_F32_ATTENTION_H
#define HWK_F32_ATTENTION_H

#include <stdbool.h>
#include <stddef.h>

/* Row i (0 <= i < rows) of the block sees keys j < lim(i), where
 * lim(i) = clamp(vis0 + i, 0, kv_len) when causal, else kv_len. Scores are
 * dot(q_i, k_j) * scale + mask[i][j] (mask may be NULL). A row that sees no
 * key with a score above -inf gives zeros. */
struct hwk_f32_attention_block {
	size_t rows, kv_len, d;
	const float *q, *k, *v;
	size_t ldq, ldk, ldv;
	float *o;
	size_t ldo;
	const float *mask;
	size_t ldm;
	float scale;
	bool causal;
	ptrdiff_t vis0;
};

/* 0, or -ENOMEM (scratch). */
typedef int (*hwk_f32_attention_fn)(const struct hwk_f32_attention_block *b);

static inline size_t hwk_attn_lim(const struct hwk_f32_attention_block *b, size_t i)
{
	if (!b->causal)
		return b->kv_len;
	ptrdiff_t l = b->vis0 + (ptrdiff_t)i;
	if (l <= 0)
		return 0;
	return (size_t)l < b->kv_len ? (size_t)l : b->kv_len;
}

int hwk_f32_attention_ukernel_x1__scalar(const struct hwk_f32_attention_block *b);
#if defined(__x86_64__)
int hwk_f32_attention_ukernel_4x64__avx2(const struct hwk_f32_attention_block *b);
int hwk_f32_attention_ukernel_4x64__avx512f(const struct hwk_f32_attention_block *b);
#endif
#if defined(__aarch64__)
int hwk_f32_attention_ukernel_4x64__neon(const struct hwk_f32_attention_block *b);
#endif

#endif
