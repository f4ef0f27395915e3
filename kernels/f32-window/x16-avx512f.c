/* AVX-512 row kernels for pooling and depthwise convolution: 16 outputs at
 * a time; stride 1 loads, stride 2 de-interleaves, other strides gather.
 * Per lane, the order of operations is the scalar reference's. */
#if !defined(__AVX512F__)
#error "x16-avx512f.c needs AVX-512F: build it through the Makefile"
#endif

#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "kernels/f32-window/window.h"

/* 16 inputs x[0], x[s], ..., x[15s]. Stride 2 reads x[0..31) (the upper
 * load is masked so x[31], past the last input used, is never touched). */
static inline __m512 load16(const float *x, size_t stride, __m512i gidx)
{
	if (stride == 1)
		return _mm512_loadu_ps(x);
	if (stride == 2) {
		const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8,
						      6, 4, 2, 0);
		return _mm512_permutex2var_ps(_mm512_loadu_ps(x), even,
					      _mm512_maskz_loadu_ps(0x7fff, x + 16));
	}
	return _mm512_i32gather_ps(gidx, x, 4);
}

/* Outputs [0, limit) take the vector path; the rest the scalar one. */
static inline size_t vector_limit(size_t n, size_t stride)
{
	return stride > INT32_MAX / 16 ? 0 : n;
}

static inline __m512i gather_index(size_t stride)
{
	return _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2,
						   1, 0),
				  _mm512_set1_epi32((int)stride));
}

static void shift_rows(const float **dst, const float *const *rows, size_t nrows, size_t off)
{
	for (size_t r = 0; r < nrows; r++)
		dst[r] = rows[r] + off;
}

void hwk_f32_window_max_ukernel_x16__avx512f(size_t n, size_t nrows, const float *const *rows,
					     size_t kw, size_t stride, size_t dil, float *out)
{
	const __m512i gidx = gather_index(stride);
	size_t limit = vector_limit(n, stride), o = 0;
	for (; o + 16 <= limit; o += 16) {
		__m512 m = _mm512_set1_ps(-INFINITY);
		__mmask16 nan = 0;
		for (size_t r = 0; r < nrows; r++) {
			const float *x = rows[r] + o * stride;
			for (size_t k = 0; k < kw; k++) {
				__m512 v = load16(x + k * dil, stride, gidx);
				nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
				m = _mm512_max_ps(m, v);
			}
		}
		/* vmaxps drops NaNs; pooling propagates them. */
		_mm512_storeu_ps(out + o, _mm512_mask_mov_ps(m, nan, _mm512_set1_ps(NAN)));
	}
	if (o < n) {
		const float *shifted[64];
		shift_rows(shifted, rows, nrows, o * stride);
		hwk_f32_window_max_ukernel_x1__scalar(n - o, nrows, shifted, kw, stride, dil, out + o);
	}
}

void hwk_f32_window_avg_ukernel_x16__avx512f(size_t n, size_t nrows, const float *const *rows,
					     size_t kw, size_t stride, size_t dil, float scale,
					     float *out)
{
	const __m512i gidx = gather_index(stride);
	const __m512 vscale = _mm512_set1_ps(scale);
	size_t limit = vector_limit(n, stride), o = 0;
	for (; o + 16 <= limit; o += 16) {
		__m512 s = _mm512_setzero_ps();
		for (size_t r = 0; r < nrows; r++) {
			const float *x = rows[r] + o * stride;
			for (size_t k = 0; k < kw; k++)
				s = _mm512_add_ps(s, load16(x + k * dil, stride, gidx));
		}
		_mm512_storeu_ps(out + o, _mm512_mul_ps(s, vscale));
	}
	if (o < n) {
		const float *shifted[64];
		shift_rows(shifted, rows, nrows, o * stride);
		hwk_f32_window_avg_ukernel_x1__scalar(n - o, nrows, shifted, kw, stride, dil, scale,
						      out + o);
	}
}

void hwk_f32_window_dw_ukernel_x16__avx512f(size_t n, size_t nrows, const float *const *rows,
					    const float *const *wrows, size_t kw, size_t stride,
					    size_t dil, float bias, float lo, float hi, float *out)
{
	const __m512i gidx = gather_index(stride);
	const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
	size_t limit = vector_limit(n, stride), o = 0;
	for (; o + 16 <= limit; o += 16) {
		__m512 s = _mm512_set1_ps(bias);
		for (size_t r = 0; r < nrows; r++) {
			const float *x = rows[r] + o * stride;
			for (size_t k = 0; k < kw; k++)
				s = _mm512_fmadd_ps(_mm512_set1_ps(wrows[r][k]),
						    load16(x + k * dil, stride, gidx), s);
		}
		/* Operand order keeps a NaN sum NaN, as the scalar clip does. */
		s = _mm512_min_ps(vhi, _mm512_max_ps(vlo, s));
		_mm512_storeu_ps(out + o, s);
	}
	if (o < n) {
		const float *shifted[64];
		shift_rows(shifted, rows, nrows, o * stride);
		hwk_f32_window_dw_ukernel_x1__scalar(n - o, nrows, shifted, wrows, kw, stride, dil, bias,
						     lo, hi, out + o);
	}
}
