/* qs8-gemm for AVX-512 VNNI: up to 6 rows x 64 columns (4 zmm) of s32
 * accumulators, K in groups of 4 (vpdpbusd: u8 x s8, four products summed
 * into each 32-bit lane, no saturation, wrapping like the reference).
 * A is read in place: each row's 4 bytes are broadcast. One instance per
 * row count (1..6) keeps the accumulators in registers. */
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || \
	!defined(__AVX512VNNI__)
#error "6x64c4-avx512vnni.c needs -mavx512f -mavx512bw -mavx512vl -mavx512vnni"
#endif
#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "kernels/qs8-gemm/qs8-gemm.h"

#define MR 6
#define NRV 4
#define NR (16 * NRV)

static inline __attribute__((always_inline)) int32_t load4(const uint8_t *p)
{
	int32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline __attribute__((always_inline)) void
tile(const int mr, size_t nr, size_t k, const uint8_t *a, size_t lda, const int8_t *w, void *c,
     size_t ldc, const struct hwk_qs8_epilogue *ep)
{
	__m512i acc[MR][NRV];
	const uint8_t *ap[MR];
	#pragma GCC unroll 16
	for (int i = 0; i < mr; i++) {
		ap[i] = a + (size_t)i * lda;
		#pragma GCC unroll 16
		for (int j = 0; j < NRV; j++)
			acc[i][j] = _mm512_setzero_si512();
	}
	size_t kk = 0;
	for (; kk + 4 <= k; kk += 4) {
		__m512i b[NRV];
		#pragma GCC unroll 16
		for (int j = 0; j < NRV; j++)
			b[j] = _mm512_load_si512((const void *)(w + 64 * j));
		w += NR * 4;
		#pragma GCC unroll 16
		for (int i = 0; i < mr; i++) {
			__m512i av = _mm512_set1_epi32(load4(ap[i] + kk));
			#pragma GCC unroll 16
			for (int j = 0; j < NRV; j++)
				acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], av, b[j]);
		}
	}
	if (kk < k) {
		/* The last 1..3 of K: B is zero-padded; read only A's real bytes. */
		__m512i b[NRV];
		#pragma GCC unroll 16
		for (int j = 0; j < NRV; j++)
			b[j] = _mm512_load_si512((const void *)(w + 64 * j));
		#pragma GCC unroll 16
		for (int i = 0; i < mr; i++) {
			const uint8_t *t = ap[i] + kk;
			uint32_t v = t[0];
			if (k - kk > 1)
				v |= (uint32_t)t[1] << 8;
			if (k - kk > 2)
				v |= (uint32_t)t[2] << 16;
			__m512i av = _mm512_set1_epi32((int32_t)v);
			#pragma GCC unroll 16
			for (int j = 0; j < NRV; j++)
				acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], av, b[j]);
		}
	}

	/* Epilogue. */
	__mmask16 mask[NRV];
	__m512i cs[NRV], bz[NRV];
	__m512 bs[NRV] = { 0 }, bi[NRV] = { 0 };
	#pragma GCC unroll 16
	for (int j = 0; j < NRV; j++) {
		size_t rem = nr > 16u * j ? nr - 16u * j : 0;
		mask[j] = rem >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rem) - 1);
		cs[j] = _mm512_loadu_si512(ep->colsum + 16 * j);
		bz[j] = ep->bzp ? _mm512_loadu_si512(ep->bzp + 16 * j) : _mm512_setzero_si512();
		if (ep->out != HWK_QS8_S32) {
			bs[j] = _mm512_loadu_ps(ep->bscale + 16 * j);
			bi[j] = _mm512_loadu_ps(ep->bias + 16 * j);
		}
	}
	const __m512 vcs = _mm512_set1_ps(ep->cscale);
	const __m512 lo = _mm512_set1_ps((float)(0 - ep->czp)), hi = _mm512_set1_ps((float)(255 - ep->czp));
	const __m512i vczp = _mm512_set1_epi32(ep->czp);
	#pragma GCC unroll 16
	for (int i = 0; i < mr; i++) {
		__m512i vaz = _mm512_set1_epi32(ep->azp[i]);
		__m512i vrs = ep->bzp ? _mm512_set1_epi32(ep->arsum[i]) : _mm512_setzero_si512();
		/* vpmulld is slow (and 24 of them weigh on short K): skip the
		 * zero-point term when it is 0, as with symmetric A. */
		const bool az = ep->azp[i] != 0;
		#pragma GCC unroll 16
		for (int j = 0; j < NRV; j++) {
			if (!mask[j])
				break;
			__m512i v = acc[i][j];
			if (az)
				v = _mm512_sub_epi32(v, _mm512_mullo_epi32(vaz, cs[j]));
			if (ep->bzp)
				v = _mm512_sub_epi32(v, _mm512_mullo_epi32(bz[j], vrs));
			if (ep->out == HWK_QS8_S32) {
				_mm512_mask_storeu_epi32((int32_t *)c + (size_t)i * ldc + 16 * j, mask[j], v);
				continue;
			}
			__m512 s = _mm512_mul_ps(_mm512_set1_ps(ep->ascale[i]), bs[j]);
			__m512 y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(v), s, bi[j]);
			if (ep->out == HWK_QS8_F32) {
				_mm512_mask_storeu_ps((float *)c + (size_t)i * ldc + 16 * j, mask[j], y);
				continue;
			}
			__m512 t = _mm512_div_ps(y, vcs);
			t = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(t, t, _CMP_ORD_Q), t);
			t = _mm512_min_ps(_mm512_max_ps(t, lo), hi);
			__m512i q = _mm512_add_epi32(
				_mm512_cvt_roundps_epi32(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), vczp);
			_mm_mask_storeu_epi8((uint8_t *)c + (size_t)i * ldc + 16 * j, mask[j],
					     _mm512_cvtepi32_epi8(q));
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
	case 4: tile(4, nr, k, a, lda, w, c, ldc, ep); break;
	case 5: tile(5, nr, k, a, lda, w, c, ldc, ep); break;
#if MR > 6
	case 6: tile(6, nr, k, a, lda, w, c, ldc, ep); break;
	case 7: tile(7, nr, k, a, lda, w, c, ldc, ep); break;
#endif
#if MR > 8
	case 8: tile(8, nr, k, a, lda, w, c, ldc, ep); break;
	case 9: tile(9, nr, k, a, lda, w, c, ldc, ep); break;
	case 10: tile(10, nr, k, a, lda, w, c, ldc, ep); break;
	case 11: tile(11, nr, k, a, lda, w, c, ldc, ep); break;
#endif
	default: tile(MR, nr, k, a, lda, w, c, ldc, ep); break;
	}
}

const struct hwk_qs8_gemm_impl hwk_qs8_gemm_ukernel_6x64c4__avx512vnni = { MR, NR, 4, 1, gemm };
