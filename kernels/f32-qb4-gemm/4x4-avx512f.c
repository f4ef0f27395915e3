/* AVX-512 int4 microkernel: up to 4 rows of x against 4 weight rows. Each
 * block is dequantized exactly once, through a 16-entry table of its own
 * weights (q*scale + min, or (q-8)*scale) that vpermps indexes with the
 * nibbles: the table costs one mul/fma per block, vpermps reads only the
 * low 4 bits of each index (no mask), and the products need no per-row
 * scale or offset term afterwards. Low nibbles give elements 0..15 of a
 * block, high ones 16..31. */
#if !defined(__AVX512F__)
#error "4x4-avx512f.c needs AVX-512F: build it through the Makefile"
#endif

#include <immintrin.h>

#include "kernels/f32-qb4-gemm/qb4.h"

/* The block's 16 dequantized weights, by nibble value. */
static inline __m512 block_lut(int asym, const float *scale, const float *min, size_t b)
{
	if (asym)
		return _mm512_fmadd_ps(_mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
						      14, 15),
				       _mm512_set1_ps(scale[b]), _mm512_set1_ps(min[b]));
	return _mm512_mul_ps(_mm512_setr_ps(-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7),
			     _mm512_set1_ps(scale[b]));
}

/* The body for a fixed tile (two or more rows of x): constant MR, NR and
 * ASYM let the compiler keep the accumulators in registers. */
static inline __attribute__((always_inline)) void
tile(const size_t MR, const size_t NR, const int ASYM, size_t kb, const float *x, size_t ldx,
     const uint8_t *q, size_t ldq, const float *scale, const float *min, size_t lds, float *y,
     size_t ldy)
{
	__m512 acc[4][4];
#pragma GCC unroll 4
	for (size_t i = 0; i < MR; i++)
#pragma GCC unroll 4
		for (size_t j = 0; j < NR; j++)
			acc[i][j] = _mm512_setzero_ps();

	for (size_t b = 0; b < kb; b++) {
		__m512 xl[4], xh[4];
#pragma GCC unroll 4
		for (size_t i = 0; i < MR; i++) {
			xl[i] = _mm512_loadu_ps(x + i * ldx + b * 32);
			xh[i] = _mm512_loadu_ps(x + i * ldx + b * 32 + 16);
		}
#pragma GCC unroll 4
		for (size_t j = 0; j < NR; j++) {
			const uint8_t *qb = q + j * ldq + b * 16;
			if ((b & 3) == 0)
				_mm_prefetch((const char *)(qb + 1024), _MM_HINT_T0);
			__m512 lut = block_lut(ASYM, scale + j * lds, ASYM ? min + j * lds : NULL, b);
			__m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)qb));
			__m512 wl = _mm512_permutexvar_ps(v, lut);
			__m512 wh = _mm512_permutexvar_ps(_mm512_srli_epi32(v, 4), lut);
#pragma GCC unroll 4
			for (size_t i = 0; i < MR; i++) {
				acc[i][j] = _mm512_fmadd_ps(wl, xl[i], acc[i][j]);
				acc[i][j] = _mm512_fmadd_ps(wh, xh[i], acc[i][j]);
			}
		}
	}
#pragma GCC unroll 4
	for (size_t i = 0; i < MR; i++)
#pragma GCC unroll 4
		for (size_t j = 0; j < NR; j++)
			y[i * ldy + j] = _mm512_reduce_add_ps(acc[i][j]);
}

/* One row of x (a GEMV) against R weight rows, 4 blocks (a cache line of
 * each row) a step, each block with its own accumulator so the FMA latency
 * does not bound the loop. Rows, scales and minimums are each prefetched PF
 * bytes ahead: the hardware prefetchers alone leave a GEMV well short of
 * DRAM bandwidth. A row's sum does not depend on R. */
static inline __attribute__((always_inline)) void
gemv(const size_t R, const size_t PF, const int ASYM, size_t kb, const float *x,
     const uint8_t *q, size_t ldq, const float *scale, const float *min, size_t lds, float *y)
{
	__m512 acc[4][4];
#pragma GCC unroll 4
	for (size_t j = 0; j < R; j++)
#pragma GCC unroll 4
		for (size_t u = 0; u < 4; u++)
			acc[j][u] = _mm512_setzero_ps();
	size_t b = 0;
	for (; b + 4 <= kb; b += 4)
#pragma GCC unroll 4
		for (size_t j = 0; j < R; j++) {
			const uint8_t *qb = q + j * ldq + b * 16;
			const float *sj = scale + j * lds, *mj = ASYM ? min + j * lds : NULL;
			_mm_prefetch((const char *)(qb + PF), _MM_HINT_T0);
			_mm_prefetch((const char *)(sj + b + PF / 4), _MM_HINT_T0);
			if (ASYM)
				_mm_prefetch((const char *)(mj + b + PF / 4), _MM_HINT_T0);
#pragma GCC unroll 4
			for (size_t u = 0; u < 4; u++) {
				__m512 lut = block_lut(ASYM, sj, mj, b + u);
				__m512i v = _mm512_cvtepu8_epi32(
					_mm_loadu_si128((const __m128i *)(qb + u * 16)));
				__m512 wl = _mm512_permutexvar_ps(v, lut);
				__m512 wh = _mm512_permutexvar_ps(_mm512_srli_epi32(v, 4), lut);
				const float *xb = x + (b + u) * 32;
				acc[j][u] = _mm512_fmadd_ps(wl, _mm512_loadu_ps(xb), acc[j][u]);
				acc[j][u] = _mm512_fmadd_ps(wh, _mm512_loadu_ps(xb + 16), acc[j][u]);
			}
		}
	for (; b < kb; b++)
#pragma GCC unroll 4
		for (size_t j = 0; j < R; j++) {
			__m512 lut = block_lut(ASYM, scale + j * lds, ASYM ? min + j * lds : NULL, b);
			__m512i v = _mm512_cvtepu8_epi32(
				_mm_loadu_si128((const __m128i *)(q + j * ldq + b * 16)));
			__m512 wl = _mm512_permutexvar_ps(v, lut);
			__m512 wh = _mm512_permutexvar_ps(_mm512_srli_epi32(v, 4), lut);
			acc[j][0] = _mm512_fmadd_ps(wl, _mm512_loadu_ps(x + b * 32), acc[j][0]);
			acc[j][0] = _mm512_fmadd_ps(wh, _mm512_loadu_ps(x + b * 32 + 16), acc[j][0]);
		}
#pragma GCC unroll 4
	for (size_t j = 0; j < R; j++)
		y[j] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[j][0], acc[j][1]),
							  _mm512_add_ps(acc[j][2], acc[j][3])));
}

/* Measured beyond L3 on Zen 5: one weight row at a time (a single linear
 * stream) is fastest while x stays in L1 next to the stream; with longer
 * rows, 4 rows at once reuse each x load 4 times, and win. */
static inline __attribute__((always_inline)) void
gemv_rows(const int ASYM, size_t nr, size_t kb, const float *x, const uint8_t *q, size_t ldq,
	  const float *scale, const float *min, size_t lds, float *y)
{
	if (kb * 128 <= 24 * 1024 || nr < 4) {
		for (size_t j = 0; j < nr; j++)
			gemv(1, 4096, ASYM, kb, x, q + j * ldq, ldq, scale + j * lds,
			     ASYM ? min + j * lds : NULL, lds, y + j);
		return;
	}
	gemv(4, 2048, ASYM, kb, x, q, ldq, scale, min, lds, y);
}

void hwk_f32_qb4_gemm_ukernel_4x4__avx512f(size_t mr, size_t nr, size_t kb, const float *x,
					   size_t ldx, const float *xsum, const uint8_t *q,
					   size_t ldq, const float *scale, const float *min,
					   size_t lds, float *y, size_t ldy)
{
	(void)xsum; /* the tables hold the offsets */
#define TILE(M, N, A) tile(M, N, A, kb, x, ldx, q, ldq, scale, min, lds, y, ldy)
#define TILES(A)                                      \
	switch (mr * 8 + nr) {                        \
	case 16 + 1: TILE(2, 1, A); break;            \
	case 16 + 2: TILE(2, 2, A); break;            \
	case 16 + 3: TILE(2, 3, A); break;            \
	case 16 + 4: TILE(2, 4, A); break;            \
	case 24 + 1: TILE(3, 1, A); break;            \
	case 24 + 2: TILE(3, 2, A); break;            \
	case 24 + 3: TILE(3, 3, A); break;            \
	case 24 + 4: TILE(3, 4, A); break;            \
	case 32 + 1: TILE(4, 1, A); break;            \
	case 32 + 2: TILE(4, 2, A); break;            \
	case 32 + 3: TILE(4, 3, A); break;            \
	default: TILE(4, 4, A); break;                \
	}
	if (mr == 1 && min)
		gemv_rows(1, nr, kb, x, q, ldq, scale, min, lds, y);
	else if (mr == 1)
		gemv_rows(0, nr, kb, x, q, ldq, scale, min, lds, y);
	else if (min)
		TILES(1)
	else
		TILES(0)
#undef TILES
#undef TILE
}
