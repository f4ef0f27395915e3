/* f32 GEMM internals: the microkernel contract shared by the driver
 * (gemm.c, pack.c) and the per-ISA variant files. Not installed. */
#ifndef HWK_F32_GEMM_INTERNAL_H
#define HWK_F32_GEMM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "kernels/hwk.h"

/* What a microkernel does with its tile once the k loop is done:
 *   r = alpha*acc                      (acc = sum over this k block)
 *   r += beta*C        unless beta == 0 (then C is not read)
 *   r += bias[j]       when bias (points at the tile's first column)
 *   r = act(r); r = clamp(r, lo, hi) when clip
 * The driver passes beta only for the first k block (1 afterwards) and the
 * bias, activation and clip only for the last. */
struct f32_gemm_ep {
	float alpha, beta;
	const float *bias;
	int act; /* enum hwk_f32_gemm_act */
	int clip;
	float lo, hi;
};

/* C[i][j] for i < mr <= MR, j < nr <= NR, over kc steps:
 *   A element (i, k) at a[i*a_rs + k*a_cs]  (packed A: a_rs 1, a_cs MR;
 *                                             A read in place otherwise)
 *   B element (k, j) at b[k*b_ks + j], j < NR always readable (packed
 *                                             panels are zero-padded)
 *   C element (i, j) at c[i*ldc + j]; nothing outside mr x nr is touched. */
typedef void (*f32_gemm_ukernel_fn)(size_t mr, size_t nr, size_t kc, const float *a, size_t a_rs,
				    size_t a_cs, const float *b, size_t b_ks, float *c, size_t ldc,
				    const struct f32_gemm_ep *ep);

/* Packs `lanes` lanes of kc steps into panels of `width` lanes: lane
 * l = p*width + q, step k goes to dst[p*kc*width + k*width + q], read from
 * src[l*ls + k*ks]; the last panel's lanes past `lanes` are zeroed. */
typedef void (*f32_gemm_pack_fn)(size_t lanes, size_t kc, const float *src, size_t ls, size_t ks,
				 float *dst, size_t width);

/* One microkernel variant and its packing layout: A in micro-panels of mr
 * rows, B in panels of nr columns, both k-major. */
struct f32_gemm_ukr {
	f32_gemm_ukernel_fn ukernel;
	f32_gemm_pack_fn pack; /* NULL: the portable f32_gemm_pack */
	unsigned mr;
	unsigned nr;               /* 0: vector-length agnostic, ask nr_fn() */
	unsigned (*nr_fn)(void);
	/* Largest M for which A is read in place rather than packed, and
	 * for which a non-transposed B is read in place by hwk_f32_gemm
	 * (direct_b_max_m: unless ldb is a multiple of 1024). */
	unsigned direct_a_max_m, direct_b_max_m;
};

/* Portable packing (pack.c). */
void f32_gemm_pack(size_t lanes, size_t kc, const float *src, size_t ls, size_t ks, float *dst,
		   size_t width);

static inline size_t f32_gemm_ukr_nr(const struct f32_gemm_ukr *u)
{
	return u->nr ? u->nr : u->nr_fn();
}

/* The variants (defined in their own files). */
#if defined(__x86_64__)
extern const struct f32_gemm_ukr hwk_f32_gemm_ukr_12x32__avx512f;
extern const struct f32_gemm_ukr hwk_f32_gemm_ukr_6x16__avx2;
#endif
#if defined(__aarch64__)
extern const struct f32_gemm_ukr hwk_f32_gemm_ukr_8x2v__sve;
extern const struct f32_gemm_ukr hwk_f32_gemm_ukr_8x8__neon;
#endif
extern const struct f32_gemm_ukr hwk_f32_gemm_ukr_4x8__scalar;

#endif
