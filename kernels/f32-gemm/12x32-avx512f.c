/* AVX-512 microkernel: 12 rows x 32 columns, 24 zmm accumulators; each k
 * step loads two vectors of the packed B panel and broadcasts 12 elements
 * of A. Plus packing with AVX-512 moves and 16x16 transposes. */
#if !defined(__AVX512F__) || !defined(__AVX512DQ__) || !defined(__AVX512VL__) || !defined(__FMA__)
#error "12x32-avx512f.c needs AVX-512 F/DQ/VL and FMA (-mavx512f -mavx512dq -mavx512vl -mfma)"
#endif

#include <immintrin.h>
#include <string.h>

#include "kernels/f32-gemm/gemm.h"
#include "kernels/f32-gemm/store-avx512f.h"

#define MR 12
#define NR 32
#define PF_A_STEPS 16
#define PF_B_STEPS 8


/* The tile body, instantiated per row count (mr is a constant after
 * inlining) and per A layout. */
INLINE void tile(const size_t mr, size_t nr, size_t kc, const float *a, const size_t a_rs,
		 const size_t a_cs, const float *b, size_t b_ks, float *c, size_t ldc,
		 const struct f32_gemm_ep *ep)
{
	__m512 acc0[MR], acc1[MR];
#pragma GCC unroll 12
	for (size_t i = 0; i < mr; i++) {
		acc0[i] = _mm512_setzero_ps();
		acc1[i] = _mm512_setzero_ps();
	}
	/* The C tile is needed only at the end, but its lines are far away
	 * (L3 or memory): ask for them now. Measured on Zen 5: +6% in place. */
#pragma GCC unroll 12
	for (size_t i = 0; i < mr; i++) {
		_mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
		_mm_prefetch((const char *)(c + i * ldc + 16), _MM_HINT_T0);
	}
	for (size_t k = 0; k < kc; k++) {
		/* A packed panel 16 steps ahead, B (streaming from L2) 8 ahead. */
		if (a_rs == 1)
			_mm_prefetch((const char *)(a + PF_A_STEPS * a_cs), _MM_HINT_T0);
		_mm_prefetch((const char *)(b + PF_B_STEPS * b_ks), _MM_HINT_T0);
		_mm_prefetch((const char *)(b + PF_B_STEPS * b_ks + 16), _MM_HINT_T0);
		__m512 b0 = _mm512_loadu_ps(b);
		__m512 b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 12
		for (size_t i = 0; i < mr; i++) {
			__m512 ai = _mm512_set1_ps(a[i * a_rs]);
			acc0[i] = _mm512_fmadd_ps(ai, b0, acc0[i]);
			acc1[i] = _mm512_fmadd_ps(ai, b1, acc1[i]);
		}
		a += a_cs;
		b += b_ks;
	}
	__mmask16 m0 = nr >= 16 ? 0xffff : (__mmask16)((1u << nr) - 1);
	__mmask16 m1 = nr >= 32 ? 0xffff : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
	int flags = (ep->alpha != 1.0f ? 1 : 0) | (ep->bias ? 2 : 0) | (ep->act || ep->clip ? 4 : 0);
	__m512 bias0 = _mm512_setzero_ps(), bias1 = _mm512_setzero_ps();
	if (ep->bias) {
		bias0 = _mm512_maskz_loadu_ps(m0, ep->bias);
		bias1 = _mm512_maskz_loadu_ps(m1, ep->bias + 16);
	}
#pragma GCC unroll 12
	for (size_t i = 0; i < mr; i++) {
		store_vec(c + i * ldc, m0, acc0[i], bias0, ep, flags);
		if (m1)
			store_vec(c + i * ldc + 16, m1, acc1[i], bias1, ep, flags);
	}
}

#define CASES(A_RS, A_CS)                                                                     \
	switch (mr) {                                                                         \
	case 12: tile(12, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                 \
	case 11: tile(11, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                 \
	case 10: tile(10, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                 \
	case 9: tile(9, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                   \
	case 8: tile(8, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                   \
	case 7: tile(7, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                   \
	case 6: tile(6, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                   \
	case 5: tile(5, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                   \
	case 4: tile(4, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                   \
	case 3: tile(3, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                   \
	case 2: tile(2, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                   \
	default: tile(1, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                  \
	}

void hwk_f32_gemm_ukernel_12x32__avx512f(size_t mr, size_t nr, size_t kc, const float *a,
					 size_t a_rs, size_t a_cs, const float *b, size_t b_ks,
					 float *c, size_t ldc, const struct f32_gemm_ep *ep);
void hwk_f32_gemm_ukernel_12x32__avx512f(size_t mr, size_t nr, size_t kc, const float *a,
					 size_t a_rs, size_t a_cs, const float *b, size_t b_ks,
					 float *c, size_t ldc, const struct f32_gemm_ep *ep)
{
	if (a_rs == 1 && a_cs == MR) {
		CASES(1, MR)
	} else {
		CASES(a_rs, a_cs)
	}
}

/* Packing: dst[p*kc*width + k*width + l] = src[(p*width + l)*ls + k*ks]
 * for panels p of `width` lanes (the last zero-padded). */

/* 16x16 transpose: r[i] holds row i; afterwards r[j] holds column j. */
static inline __attribute__((always_inline)) void transpose16(__m512 r[16])
{
	__m512 t[16], u[16];
#pragma GCC unroll 16
	for (int i = 0; i < 16; i += 2) {
		t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
		t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
	}
#pragma GCC unroll 16
	for (int i = 0; i < 16; i += 4) {
		u[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
		u[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
		u[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
		u[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
	}
	/* u[4q + c] holds rows 4q..4q+3 of columns c, c+4, c+8, c+12. */
#pragma GCC unroll 4
	for (int c = 0; c < 4; c++) {
		__m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);
		__m512 v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
		__m512 v2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
		__m512 v3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
		r[c] = _mm512_shuffle_f32x4(v0, v2, 0x88);
		r[c + 8] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
		r[c + 4] = _mm512_shuffle_f32x4(v1, v3, 0x88);
		r[c + 12] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
	}
}

static inline __mmask16 mask_n(size_t n)
{
	return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
}

/* Lanes along k (ks == 1): 16 lanes x 16 k steps at a time. */
static void pack_transpose(size_t lanes, size_t kc, const float *src, size_t ls, float *dst,
			   size_t width)
{
	for (size_t k0 = 0; k0 < kc; k0 += 16) {
		size_t kn = kc - k0 < 16 ? kc - k0 : 16;
		__mmask16 km = mask_n(kn);
		for (size_t l0 = 0; l0 < width; l0 += 16) {
			__m512 r[16];
#pragma GCC unroll 16
			for (size_t q = 0; q < 16; q++) {
				size_t l = l0 + q;
				if (l < lanes) {
					/* Each lane is its own stream (often 4 KiB apart,
					 * which defeats the hardware prefetcher). */
					_mm_prefetch((const char *)(src + l * ls + k0 + 64), _MM_HINT_T0);
					r[q] = _mm512_maskz_loadu_ps(km, src + l * ls + k0);
				} else {
					r[q] = _mm512_setzero_ps();
				}
			}
			transpose16(r);
			__mmask16 wm = mask_n(width - l0);
#pragma GCC unroll 16
			for (size_t k = 0; k < kn; k++)
				_mm512_mask_storeu_ps(dst + (k0 + k) * width + l0, wm, r[k]);
		}
	}
}

static void pack_avx512(size_t lanes, size_t kc, const float *src, size_t ls, size_t ks,
			float *dst, size_t width)
{
	size_t panels = (lanes + width - 1) / width;
	if (ls == 1 && width <= 32) {
		/* Runs of lanes along memory: k outermost so src is read
		 * row after row, each row spread over the panels. */
		for (size_t k = 0; k < kc; k++) {
			const float *s = src + k * ks;
			for (size_t p = 0; p < panels; p++) {
				size_t l0 = p * width, n = lanes - l0 < width ? lanes - l0 : width;
				float *d = dst + p * kc * width + k * width;
				_mm512_mask_storeu_ps(d, mask_n(width),
						      _mm512_maskz_loadu_ps(mask_n(n), s + l0));
				if (width > 16)
					_mm512_mask_storeu_ps(
						d + 16, mask_n(width - 16),
						_mm512_maskz_loadu_ps(mask_n(n > 16 ? n - 16 : 0), s + l0 + 16));
			}
		}
		return;
	}
	for (size_t p = 0; p < panels; p++) {
		size_t l0 = p * width, n = lanes - l0 < width ? lanes - l0 : width;
		if (ks == 1)
			pack_transpose(n, kc, src + l0 * ls, ls, dst + p * kc * width, width);
		else
			f32_gemm_pack(n, kc, src + l0 * ls, ls, ks, dst + p * kc * width, width);
	}
}

const struct f32_gemm_ukr hwk_f32_gemm_ukr_12x32__avx512f = {
	.ukernel = hwk_f32_gemm_ukernel_12x32__avx512f,
	.pack = pack_avx512,
	.mr = MR,
	.nr = NR,
	.direct_a_max_m = 48,
	.direct_b_max_m = 256,
};
