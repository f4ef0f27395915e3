/* AVX2 row kernels for pooling and depthwise convolution: 8 outputs at a
 * time; stride 1 loads, stride 2 de-interleaves, other strides gather.
 * Per lane, the order of operations is the scalar reference's. */
#if !defined(__AVX2__) || !defined(__FMA__)
#error "x8-avx2.c needs AVX2 and FMA: build it through the Makefile"
#endif

#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "kernels/f32-window/window.h"

/* 8 inputs x[0], x[s], ..., x[7s]. Stride 2 reads x[0..15): callers keep
 * one more output beyond the block, so that is inside the row. */
static inline __m256 load8(const float *x, size_t stride, __m256i gidx)
{
	if (stride == 1)
		return _mm256_loadu_ps(x);
	if (stride == 2) {
		__m256 a = _mm256_loadu_ps(x), b = _mm256_loadu_ps(x + 8);
		/* [a0 a2 b0 b2 | a4 a6 b4 b6] -> [a0 a2 a4 a6 b0 b2 b4 b6] */
		__m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
		return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e),
							      _MM_SHUFFLE(3, 1, 2, 0)));
	}
	return _mm256_i32gather_ps(x, gidx, 4);
}

static inline size_t vector_limit(size_t n, size_t stride)
{
	if (stride > INT32_MAX / 8)
		return 0;
	size_t need = stride == 2 ? 9 : 8;
	return n >= need ? n - (need - 8) : 0;
}

static inline __m256i gather_index(size_t stride)
{
	return _mm256_mullo_epi32(_mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0),
				  _mm256_set1_epi32((int)stride));
}

static void shift_rows(const float **dst, const float *const *rows, size_t nrows, size_t off)
{
	for (size_t r = 0; r < nrows; r++)
		dst[r] = rows[r] + off;
}

void hwk_f32_window_max_ukernel_x8__avx2(size_t n, size_t nrows, const float *const *rows,
					 size_t kw, size_t stride, size_t dil, float *out)
{
	const __m256i gidx = gather_index(stride);
	size_t limit = vector_limit(n, stride), o = 0;
	for (; o + 8 <= limit; o += 8) {
		__m256 m = _mm256_set1_ps(-INFINITY), nan = _mm256_setzero_ps();
		for (size_t r = 0; r < nrows; r++) {
			const float *x = rows[r] + o * stride;
			for (size_t k = 0; k < kw; k++) {
				__m256 v = load8(x + k * dil, stride, gidx);
				nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
				m = _mm256_max_ps(m, v);
			}
		}
		_mm256_storeu_ps(out + o, _mm256_blendv_ps(m, _mm256_set1_ps(NAN), nan));
	}
	if (o < n) {
		const float *shifted[64];
		shift_rows(shifted, rows, nrows, o * stride);
		hwk_f32_window_max_ukernel_x1__scalar(n - o, nrows, shifted, kw, stride, dil, out + o);
	}
}

void hwk_f32_window_avg_ukernel_x8__avx2(size_t n, size_t nrows, const float *const *rows,
					 size_t kw, size_t stride, size_t dil, float scale, float *out)
{
	const __m256i gidx = gather_index(stride);
	const __m256 vscale = _mm256_set1_ps(scale);
	size_t limit = vector_limit(n, stride), o = 0;
	for (; o + 8 <= limit; o += 8) {
		__m256 s = _mm256_setzero_ps();
		for (size_t r = 0; r < nrows; r++) {
			const float *x = rows[r] + o * stride;
			for (size_t k = 0; k < kw; k++)
				s = _mm256_add_ps(s, load8(x + k * dil, stride, gidx));
		}
		_mm256_storeu_ps(out + o, _mm256_mul_ps(s, vscale));
	}
	if (o < n) {
		const float *shifted[64];
		shift_rows(shifted, rows, nrows, o * stride);
		hwk_f32_window_avg_ukernel_x1__scalar(n - o, nrows, shifted, kw, stride, dil, scale,
						      out + o);
	}
}

void hwk_f32_window_dw_ukernel_x8__avx2(size_t n, size_t nrows, const float *const *rows,
					const float *const *wrows, size_t kw, size_t stride,
					size_t dil, float bias, float lo, float hi, float *out)
{
	const __m256i gidx = gather_index(stride);
	const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
	size_t limit = vector_limit(n, stride), o = 0;
	for (; o + 8 <= limit; o += 8) {
		__m256 s = _mm256_set1_ps(bias);
		for (size_t r = 0; r < nrows; r++) {
			const float *x = rows[r] + o * stride;
			for (size_t k = 0; k < kw; k++)
				s = _mm256_fmadd_ps(_mm256_set1_ps(wrows[r][k]),
						    load8(x + k * dil, stride, gidx), s);
		}
		s = _mm256_min_ps(vhi, _mm256_max_ps(vlo, s));
		_mm256_storeu_ps(out + o, s);
	}
	if (o < n) {
		const float *shifted[64];
		shift_rows(shifted, rows, nrows, o * stride);
		hwk_f32_window_dw_ukernel_x1__scalar(n - o, nrows, shifted, wrows, kw, stride, dil, bias,
						     lo, hi, out + o);
	}
}
