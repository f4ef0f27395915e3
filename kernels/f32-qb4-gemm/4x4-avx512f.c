/* AVX-512 int4 microkernel: up to 4 rows of x against 4 weight rows. A
 * block's 32 nibbles widen to two vectors of 16 (low nibbles are elements
 * 0..15, high ones 16..31), each reused by every row of x; the per-block
 * scale multiplies the block's dot product, and the offset term
 * (min or -8*scale) times the block sums of x is a dot product over blocks
 * done after the main loop. */
#if !defined(__AVX512F__)
#error "4x4-avx512f.c needs AVX-512F: build it through the Makefile"
#endif

#include <immintrin.h>

#include "kernels/f32-qb4-gemm/qb4.h"

static inline void unpack(const uint8_t *p, __m512 *lo, __m512 *hi)
{
	__m512i b = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p));
	*lo = _mm512_cvtepi32_ps(_mm512_and_si512(b, _mm512_set1_epi32(15)));
	*hi = _mm512_cvtepi32_ps(_mm512_srli_epi32(b, 4));
}

/* sum over b of off[b] * xs[b], off = min or -8*scale */
static inline float offset_dot(size_t kb, const float *scale, const float *min, const float *xs)
{
	__m512 acc = _mm512_setzero_ps();
	size_t b = 0;
	for (; b + 16 <= kb; b += 16) {
		__m512 o = min ? _mm512_loadu_ps(min + b)
			       : _mm512_mul_ps(_mm512_set1_ps(-8.0f), _mm512_loadu_ps(scale + b));
		acc = _mm512_fmadd_ps(o, _mm512_loadu_ps(xs + b), acc);
	}
	if (b < kb) {
		__mmask16 m = (__mmask16)((1u << (kb - b)) - 1);
		__m512 o = min ? _mm512_maskz_loadu_ps(m, min + b)
			       : _mm512_mul_ps(_mm512_set1_ps(-8.0f), _mm512_maskz_loadu_ps(m, scale + b));
		acc = _mm512_fmadd_ps(o, _mm512_maskz_loadu_ps(m, xs + b), acc);
	}
	return _mm512_reduce_add_ps(acc);
}

/* The body for a fixed tile: constant MR and NR let the compiler keep the
 * accumulators in registers. */
static inline __attribute__((always_inline)) void
tile(const size_t MR, const size_t NR, size_t kb, const float *x, size_t ldx, const float *xsum,
     const uint8_t *q, size_t ldq, const float *scale, const float *min, size_t lds, float *y,
     size_t ldy)
{
	__m512 acc[4][4];
	for (size_t i = 0; i < MR; i++)
		for (size_t j = 0; j < NR; j++)
			acc[i][j] = _mm512_setzero_ps();

	for (size_t b = 0; b < kb; b++) {
		__m512 xl[4], xh[4];
		for (size_t i = 0; i < MR; i++) {
			xl[i] = _mm512_loadu_ps(x + i * ldx + b * 32);
			xh[i] = _mm512_loadu_ps(x + i * ldx + b * 32 + 16);
		}
		for (size_t j = 0; j < NR; j++) {
			__m512 ql, qh;
			const uint8_t *qb = q + j * ldq + b * 16;
			_mm_prefetch((const char *)(qb + 512), _MM_HINT_T0);
			unpack(qb, &ql, &qh);
			__m512 s = _mm512_set1_ps(scale[j * lds + b]);
			for (size_t i = 0; i < MR; i++) {
				__m512 d = _mm512_fmadd_ps(qh, xh[i], _mm512_mul_ps(ql, xl[i]));
				acc[i][j] = _mm512_fmadd_ps(d, s, acc[i][j]);
			}
		}
	}
	for (size_t j = 0; j < NR; j++)
		for (size_t i = 0; i < MR; i++)
			y[i * ldy + j] = _mm512_reduce_add_ps(acc[i][j]) +
					 offset_dot(kb, scale + j * lds, min ? min + j * lds : NULL,
						    xsum + i * kb);
}

void hwk_f32_qb4_gemm_ukernel_4x4__avx512f(size_t mr, size_t nr, size_t kb, const float *x,
					   size_t ldx, const float *xsum, const uint8_t *q,
					   size_t ldq, const float *scale, const float *min,
					   size_t lds, float *y, size_t ldy)
{
#define TILE(M, N) tile(M, N, kb, x, ldx, xsum, q, ldq, scale, min, lds, y, ldy)
	switch (mr * 8 + nr) {
	case 8 + 1: TILE(1, 1); break;
	case 8 + 2: TILE(1, 2); break;
	case 8 + 3: TILE(1, 3); break;
	case 8 + 4: TILE(1, 4); break;
	case 16 + 1: TILE(2, 1); break;
	case 16 + 2: TILE(2, 2); break;
	case 16 + 3: TILE(2, 3); break;
	case 16 + 4: TILE(2, 4); break;
	case 24 + 1: TILE(3, 1); break;
	case 24 + 2: TILE(3, 2); break;
	case 24 + 3: TILE(3, 3); break;
	case 24 + 4: TILE(3, 4); break;
	case 32 + 1: TILE(4, 1); break;
	case 32 + 2: TILE(4, 2); break;
	case 32 + 3: TILE(4, 3); break;
	default: TILE(4, 4); break;
	}
#undef TILE
}
