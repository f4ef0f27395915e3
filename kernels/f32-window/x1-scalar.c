/* Scalar reference row kernels for pooling and depthwise convolution. */
#include <math.h>

#include "kernels/f32-window/window.h"

void hwk_f32_window_max_ukernel_x1__scalar(size_t n, size_t nrows, const float *const *rows,
					   size_t kw, size_t stride, size_t dil, float *out)
{
	for (size_t o = 0; o < n; o++) {
		float m = -INFINITY;
		for (size_t r = 0; r < nrows; r++)
			for (size_t k = 0; k < kw; k++) {
				float v = rows[r][o * stride + k * dil];
				/* fmaxf would drop a NaN; pooling propagates it,
				 * and once m is NaN no comparison replaces it. */
				if (v > m || isnan(v))
					m = v;
			}
		out[o] = m;
	}
}

void hwk_f32_window_avg_ukernel_x1__scalar(size_t n, size_t nrows, const float *const *rows,
					   size_t kw, size_t stride, size_t dil, float scale,
					   float *out)
{
	for (size_t o = 0; o < n; o++) {
		float s = 0;
		for (size_t r = 0; r < nrows; r++)
			for (size_t k = 0; k < kw; k++)
				s += rows[r][o * stride + k * dil];
		out[o] = s * scale;
	}
}

void hwk_f32_window_dw_ukernel_x1__scalar(size_t n, size_t nrows, const float *const *rows,
					  const float *const *wrows, size_t kw, size_t stride,
					  size_t dil, float bias, float lo, float hi, float *out)
{
	for (size_t o = 0; o < n; o++) {
		float s = bias;
		for (size_t r = 0; r < nrows; r++)
			for (size_t k = 0; k < kw; k++)
				s = fmaf(wrows[r][k], rows[r][o * stride + k * dil], s);
		out[o] = s < lo ? lo : s > hi ? hi : s;
	}
}
