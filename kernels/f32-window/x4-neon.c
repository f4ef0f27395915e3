/* NEON row kernels for pooling and depthwise convolution: 4 outputs at a
 * time for strides 1 and 2 (vld2q de-interleaves); other strides take the
 * scalar path. Per lane, the order of operations is the scalar reference's. */
#if !defined(__ARM_NEON)
#error "x4-neon.c needs NEON: build it through the Makefile"
#endif

#include <arm_neon.h>
#include <math.h>

#include "kernels/f32-window/window.h"

/* Stride 2 reads x[0..8): callers keep one more output beyond the block. */
static inline float32x4_t load4(const float *x, size_t stride)
{
	return stride == 1 ? vld1q_f32(x) : vld2q_f32(x).val[0];
}

static inline size_t vector_limit(size_t n, size_t stride)
{
	if (stride > 2)
		return 0;
	size_t need = stride == 2 ? 5 : 4;
	return n >= need ? n - (need - 4) : 0;
}

static void shift_rows(const float **dst, const float *const *rows, size_t nrows, size_t off)
{
	for (size_t r = 0; r < nrows; r++)
		dst[r] = rows[r] + off;
}

void hwk_f32_window_max_ukernel_x4__neon(size_t n, size_t nrows, const float *const *rows,
					 size_t kw, size_t stride, size_t dil, float *out)
{
	size_t limit = vector_limit(n, stride), o = 0;
	for (; o + 4 <= limit; o += 4) {
		float32x4_t m = vdupq_n_f32(-INFINITY);
		uint32x4_t nan = vdupq_n_u32(0);
		for (size_t r = 0; r < nrows; r++) {
			const float *x = rows[r] + o * stride;
			for (size_t k = 0; k < kw; k++) {
				float32x4_t v = load4(x + k * dil, stride);
				nan = vorrq_u32(nan, vmvnq_u32(vceqq_f32(v, v)));
				m = vmaxnmq_f32(m, v);
			}
		}
		vst1q_f32(out + o, vbslq_f32(nan, vdupq_n_f32(NAN), m));
	}
	if (o < n) {
		const float *shifted[64];
		shift_rows(shifted, rows, nrows, o * stride);
		hwk_f32_window_max_ukernel_x1__scalar(n - o, nrows, shifted, kw, stride, dil, out + o);
	}
}

void hwk_f32_window_avg_ukernel_x4__neon(size_t n, size_t nrows, const float *const *rows,
					 size_t kw, size_t stride, size_t dil, float scale, float *out)
{
	size_t limit = vector_limit(n, stride), o = 0;
	for (; o + 4 <= limit; o += 4) {
		float32x4_t s = vdupq_n_f32(0);
		for (size_t r = 0; r < nrows; r++) {
			const float *x = rows[r] + o * stride;
			for (size_t k = 0; k < kw; k++)
				s = vaddq_f32(s, load4(x + k * dil, stride));
		}
		vst1q_f32(out + o, vmulq_n_f32(s, scale));
	}
	if (o < n) {
		const float *shifted[64];
		shift_rows(shifted, rows, nrows, o * stride);
		hwk_f32_window_avg_ukernel_x1__scalar(n - o, nrows, shifted, kw, stride, dil, scale,
						      out + o);
	}
}

void hwk_f32_window_dw_ukernel_x4__neon(size_t n, size_t nrows, const float *const *rows,
					const float *const *wrows, size_t kw, size_t stride,
					size_t dil, float bias, float lo, float hi, float *out)
{
	size_t limit = vector_limit(n, stride), o = 0;
	for (; o + 4 <= limit; o += 4) {
		float32x4_t s = vdupq_n_f32(bias);
		for (size_t r = 0; r < nrows; r++) {
			const float *x = rows[r] + o * stride;
			for (size_t k = 0; k < kw; k++)
				s = vfmaq_n_f32(s, load4(x + k * dil, stride), wrows[r][k]);
		}
		/* Clip as the scalar reference does, letting a NaN through. */
		uint32x4_t below = vcltq_f32(s, vdupq_n_f32(lo));
		uint32x4_t above = vcgtq_f32(s, vdupq_n_f32(hi));
		s = vbslq_f32(below, vdupq_n_f32(lo), s);
		s = vbslq_f32(above, vdupq_n_f32(hi), s);
		vst1q_f32(out + o, s);
	}
	if (o < n) {
		const float *shifted[64];
		shift_rows(shifted, rows, nrows, o * stride);
		hwk_f32_window_dw_ukernel_x1__scalar(n - o, nrows, shifted, wrows, kw, stride, dil, bias,
						     lo, hi, out + o);
	}
}
