/* Row kernels shared by pooling and depthwise convolution. The driver cuts
 * each output row into an interior, where every window lies inside the
 * input, and edges, which it computes itself; variants vectorize the
 * interior. rows[r] points at the input element under tap (r, 0) of output
 * 0; tap (r, k) of output o reads rows[r][o*stride + k*dil]. */
#ifndef HWK_F32_WINDOW_H
#define HWK_F32_WINDOW_H

#include <stddef.h>

#include "kernels/hwk.h"

struct hwk_window_ukernels {
	/* out[o] = max over rows and taps */
	void (*max)(size_t n, size_t nrows, const float *const *rows, size_t kw, size_t stride,
		    size_t dil, float *out);
	/* out[o] = scale * sum over rows and taps */
	void (*avg)(size_t n, size_t nrows, const float *const *rows, size_t kw, size_t stride,
		    size_t dil, float scale, float *out);
	/* out[o] = clip(bias + sum w[r][k] * x, lo, hi); wrows[r] holds kw taps */
	void (*dw)(size_t n, size_t nrows, const float *const *rows, const float *const *wrows,
		   size_t kw, size_t stride, size_t dil, float bias, float lo, float hi, float *out);
};

#define HWK_WINDOW_UKERNEL_DECL(tile, isa)                                                       \
	void hwk_f32_window_max_ukernel_##tile##__##isa(size_t, size_t, const float *const *,     \
							 size_t, size_t, size_t, float *);        \
	void hwk_f32_window_avg_ukernel_##tile##__##isa(size_t, size_t, const float *const *,     \
							 size_t, size_t, size_t, float, float *); \
	void hwk_f32_window_dw_ukernel_##tile##__##isa(size_t, size_t, const float *const *,      \
							const float *const *, size_t, size_t,     \
							size_t, float, float, float, float *);

HWK_WINDOW_UKERNEL_DECL(x1, scalar)
#if defined(__x86_64__)
HWK_WINDOW_UKERNEL_DECL(x8, avx2)
HWK_WINDOW_UKERNEL_DECL(x16, avx512f)
#endif
#if defined(__aarch64__)
HWK_WINDOW_UKERNEL_DECL(x4, neon)
#endif

extern struct hwk_op hwk_op_f32_window;

#endif
