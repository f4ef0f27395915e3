/* qs8-gemm for AVX2: up to 4 rows x 16 columns (2 ymm) of s32
 * accumulators, B packed as s16 in pairs of K (KR 2).
 *
 * Exactness: no vpmaddubsw (its s16 sums saturate: 255*127*2 > 32767).
 * A's bytes are widened to s16 (0..255) and B was widened to s16
 * (-128..127) at pack time, so each vpmaddwd lane is a0*b0 + a1*b1 with
 * |a0*b0 + a1*b1| <= 2*255*128 = 65280: exact in 32 bits (vpmaddwd's one
 * overflow, -32768 * -32768 twice, cannot occur). The lanes are summed with
 * vpaddd, which wraps modulo 2^32 exactly like the reference. */
#if !defined(__AVX2__) || !defined(__FMA__)
#error "4x16c2-avx2.c needs -mavx2 -mfma"
#endif
#include <immintrin.h>
#include <string.h>

#include "kernels/qs8-gemm/qs8-gemm.h"

#define MR 4
#define NR 16
#define KC 256 /* K per chunk of A widened to s16 on the stack */

/* Widens kc bytes of a row (kc <= KC) to s16, zero-padded to an even
 * count. */
static inline void widen(const uint8_t *a, size_t kc, int16_t *out)
{
	size_t k = 0;
	for (; k + 16 <= kc; k += 16)
		_mm256_storeu_si256((__m256i *)(out + k),
				    _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(a + k))));
	if (k < kc) {
		uint8_t t[16] = { 0 };
		memcpy(t, a + k, kc - k);
		_mm256_storeu_si256((__m256i *)(out + k),
				    _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)t)));
	}
}

static inline __attribute__((always_inline)) void
tile(const int mr, size_t nr, size_t k, const uint8_t *a, size_t lda, const int16_t *w, void *c,
     size_t ldc, const struct hwk_qs8_epilogue *ep)
{
	int16_t abuf[MR][KC + 16] __attribute__((aligned(32)));
	__m256i acc[MR][2];
	#pragma GCC unroll 16
	for (int i = 0; i < mr; i++)
		acc[i][0] = acc[i][1] = _mm256_setzero_si256();
	for (size_t k0 = 0; k0 < k; k0 += KC) {
		size_t kc = k - k0 < KC ? k - k0 : KC;
		#pragma GCC unroll 16
		for (int i = 0; i < mr; i++)
			widen(a + (size_t)i * lda + k0, kc, abuf[i]);
		size_t pairs = (kc + 1) / 2;
		for (size_t p = 0; p < pairs; p++) {
			__m256i b0 = _mm256_load_si256((const __m256i *)w);
			__m256i b1 = _mm256_load_si256((const __m256i *)(w + 16));
			w += 32;
			#pragma GCC unroll 16
			for (int i = 0; i < mr; i++) {
				int32_t pr;
				memcpy(&pr, &abuf[i][2 * p], 4);
				__m256i av = _mm256_set1_epi32(pr);
				acc[i][0] = _mm256_add_epi32(acc[i][0], _mm256_madd_epi16(av, b0));
				acc[i][1] = _mm256_add_epi32(acc[i][1], _mm256_madd_epi16(av, b1));
			}
		}
	}

	__m256i cs[2], bz[2];
	__m256 bs[2] = { 0 }, bi[2] = { 0 };
	#pragma GCC unroll 16
	for (int j = 0; j < 2; j++) {
		cs[j] = _mm256_loadu_si256((const __m256i *)(ep->colsum + 8 * j));
		bz[j] = ep->bzp ? _mm256_loadu_si256((const __m256i *)(ep->bzp + 8 * j))
				: _mm256_setzero_si256();
		if (ep->out != HWK_QS8_S32) {
			bs[j] = _mm256_loadu_ps(ep->bscale + 8 * j);
			bi[j] = _mm256_loadu_ps(ep->bias + 8 * j);
		}
	}
	const __m256 vcs = _mm256_set1_ps(ep->cscale);
	const __m256 lo = _mm256_set1_ps((float)(0 - ep->czp)), hi = _mm256_set1_ps((float)(255 - ep->czp));
	const __m256i vczp = _mm256_set1_epi32(ep->czp);
	#pragma GCC unroll 16
	for (int i = 0; i < mr; i++) {
		__m256i vaz = _mm256_set1_epi32(ep->azp[i]);
		__m256i vrs = ep->bzp ? _mm256_set1_epi32(ep->arsum[i]) : _mm256_setzero_si256();
		__m256i v[2];
		__m256 y[2];
		#pragma GCC unroll 16
		for (int j = 0; j < 2; j++) {
			v[j] = _mm256_sub_epi32(acc[i][j], _mm256_mullo_epi32(vaz, cs[j]));
			if (ep->bzp)
				v[j] = _mm256_sub_epi32(v[j], _mm256_mullo_epi32(bz[j], vrs));
			if (ep->out != HWK_QS8_S32) {
				__m256 s = _mm256_mul_ps(_mm256_set1_ps(ep->ascale[i]), bs[j]);
				y[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v[j]), s, bi[j]);
			}
			if (ep->out == HWK_QS8_U8) {
				__m256 t = _mm256_div_ps(y[j], vcs);
				t = _mm256_and_ps(t, _mm256_cmp_ps(t, t, _CMP_ORD_Q));
				t = _mm256_min_ps(_mm256_max_ps(t, lo), hi);
				v[j] = _mm256_add_epi32(_mm256_cvtps_epi32(t), vczp);
			}
		}
		if (ep->out == HWK_QS8_F32) {
			float *cr = (float *)c + (size_t)i * ldc;
			if (nr == NR) {
				_mm256_storeu_ps(cr, y[0]);
				_mm256_storeu_ps(cr + 8, y[1]);
			} else {
				float t[NR];
				_mm256_storeu_ps(t, y[0]);
				_mm256_storeu_ps(t + 8, y[1]);
				memcpy(cr, t, nr * sizeof(float));
			}
		} else if (ep->out == HWK_QS8_S32) {
			int32_t *cr = (int32_t *)c + (size_t)i * ldc;
			if (nr == NR) {
				_mm256_storeu_si256((__m256i *)cr, v[0]);
				_mm256_storeu_si256((__m256i *)(cr + 8), v[1]);
			} else {
				int32_t t[NR];
				_mm256_storeu_si256((__m256i *)t, v[0]);
				_mm256_storeu_si256((__m256i *)(t + 8), v[1]);
				memcpy(cr, t, nr * sizeof(int32_t));
			}
		} else {
			/* 0..255 in each lane: pack to 16 bytes, in order. */
			__m256i p16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(v[0], v[1]), 0xd8);
			__m128i p8 = _mm_packus_epi16(_mm256_castsi256_si128(p16),
						      _mm256_extracti128_si256(p16, 1));
			uint8_t *cr = (uint8_t *)c + (size_t)i * ldc;
			if (nr == NR) {
				_mm_storeu_si128((__m128i *)cr, p8);
			} else {
				uint8_t t[NR];
				_mm_storeu_si128((__m128i *)t, p8);
				memcpy(cr, t, nr);
			}
		}
	}
}

static void gemm(size_t mr, size_t nr, size_t k, const uint8_t *a, size_t lda, const void *w,
		 void *c, size_t ldc, const struct hwk_qs8_epilogue *ep)
{
	switch (mr) {
	case 1: tile(1, nr, k, a, lda, w, c, ldc, ep); break;
	case 2: tile(2, nr, k, a, lda, w, c, ldc, ep); break;
	case 3: tile(3, nr, k, a, lda, w, c, ldc, ep); break;
	default: tile(4, nr, k, a, lda, w, c, ldc, ep); break;
	}
}

const struct hwk_qs8_gemm_impl hwk_qs8_gemm_ukernel_4x16c2__avx2 = { MR, NR, 2, 2, gemm };
