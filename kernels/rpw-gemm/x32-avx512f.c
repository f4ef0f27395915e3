/* AVX-512 decoding of weights to f32, 32 at a time, no table gathers:
 * bf16 is the top half of an f32; E5M2 is the top byte of an f16; E4M3FN
 * moved into an f16 (bits << 7) is its value times 2^-8, exactly, with the
 * code 0x7f (NaN) patched; f16 goes through vcvtph2ps. Exact, like the
 * scalar codecs. */
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__)
#error "x32-avx512f.c needs AVX-512 F/BW/VL: build it through the Makefile"
#endif

#include <immintrin.h>
#include <math.h>

#include "kernels/rpw-gemm/decode.h"

static inline __mmask32 mask32(size_t n)
{
	return n >= 32 ? 0xffffffffu : (__mmask32)((1u << n) - 1);
}

static inline void store2(float *y, size_t n, __m512 lo, __m512 hi)
{
	__mmask32 m = mask32(n);
	_mm512_mask_storeu_ps(y, (__mmask16)m, lo);
	_mm512_mask_storeu_ps(y + 16, (__mmask16)(m >> 16), hi);
}

static void dec_bf16(size_t n, const uint16_t *x, float *y)
{
	for (size_t i = 0; i < n; i += 32) {
		size_t r = n - i;
		__m512i h = _mm512_maskz_loadu_epi16(mask32(r), x + i);
		__m512i lo = _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(h)), 16);
		__m512i hi = _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(h, 1)), 16);
		store2(y + i, r, _mm512_castsi512_ps(lo), _mm512_castsi512_ps(hi));
	}
}

static void dec_f16(size_t n, const uint16_t *x, float *y)
{
	for (size_t i = 0; i < n; i += 32) {
		size_t r = n - i;
		__m512i h = _mm512_maskz_loadu_epi16(mask32(r), x + i);
		store2(y + i, r, _mm512_cvtph_ps(_mm512_castsi512_si256(h)),
		       _mm512_cvtph_ps(_mm512_extracti64x4_epi64(h, 1)));
	}
}

static void dec_e5m2(size_t n, const uint8_t *x, float scale, float *y)
{
	const __m512 s = _mm512_set1_ps(scale);
	for (size_t i = 0; i < n; i += 32) {
		size_t r = n - i;
		__m512i h = _mm512_slli_epi16(
			_mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(mask32(r), x + i)), 8);
		store2(y + i, r, _mm512_mul_ps(_mm512_cvtph_ps(_mm512_castsi512_si256(h)), s),
		       _mm512_mul_ps(_mm512_cvtph_ps(_mm512_extracti64x4_epi64(h, 1)), s));
	}
}

static void dec_e4m3fn(size_t n, const uint8_t *x, float scale, float *y)
{
	const __m512 s = _mm512_set1_ps(scale), p8 = _mm512_set1_ps(256.0f);
	const __m512 qnan = _mm512_set1_ps(NAN);
	for (size_t i = 0; i < n; i += 32) {
		size_t r = n - i;
		__m512i b = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(mask32(r), x + i));
		__m512i mag = _mm512_and_si512(b, _mm512_set1_epi16(0x7f));
		__mmask32 nan = _mm512_cmpeq_epi16_mask(mag, _mm512_set1_epi16(0x7f));
		__m512i h = _mm512_or_si512(_mm512_slli_epi16(mag, 7),
					    _mm512_slli_epi16(_mm512_xor_si512(b, mag), 8));
		__m512 lo = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtph_ps(_mm512_castsi512_si256(h)), p8), s);
		__m512 hi = _mm512_mul_ps(
			_mm512_mul_ps(_mm512_cvtph_ps(_mm512_extracti64x4_epi64(h, 1)), p8), s);
		lo = _mm512_mask_mov_ps(lo, (__mmask16)nan, qnan);
		hi = _mm512_mask_mov_ps(hi, (__mmask16)(nan >> 16), qnan);
		store2(y + i, r, lo, hi);
	}
}

const struct rpw_decode hwk_rpw_decode_x32__avx512f = { dec_bf16, dec_f16, dec_e4m3fn, dec_e5m2 };
