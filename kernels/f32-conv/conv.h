/* f32 convolution internals shared by the implicit-GEMM driver (conv.c),
 * the direct driver (direct.c) and the direct microkernel variant files.
 * Not installed. */
#ifndef HWK_F32_CONV_INTERNAL_H
#define HWK_F32_CONV_INTERNAL_H

#include <stddef.h>

#include "kernels/f32-gemm/gemm.h"
#include "kernels/hwk.h"

/* What a direct microkernel does with its tile once the k loop is done:
 *   r = acc (+ C when accumulate: the earlier k blocks' sum)
 *   then, on the last k block only: r += bias[i] (per row, when bias),
 *   r = act(r), r = clamp(r, lo, hi) when clip. */
struct f32_conv_ep {
	const float *bias; /* the tile's first row's bias, or NULL */
	int accumulate;
	int act; /* enum hwk_f32_gemm_act */
	int clip;
	float lo, hi;
};

/* Direct convolution microkernel: C[i][pixel] for i < mr rows (output
 * channels) and nv <= min(nv_max, acc / mr) pixel vectors, each vector up
 * to `lanes` consecutive output pixels of one output row, over kc steps:
 *   A element (i, k) at a[k*MR + i]       (the GEMM's packed A panel)
 *   B element (k, v, l) at xs[v][koff[k] + l] for l < n[v]; lanes at or
 *                                         past n[v] are neither read nor
 *                                         stored (n[v] may be 0)
 *   C element (i, v, l) at ys[v][i*ldc + l].
 * koff lists, per k, where that (channel, tap) starts relative to a
 * vector's base: the input is read in place or from a zero-padded copy, so
 * a tap is one contiguous run of lanes and no patch matrix is formed. */
typedef void (*f32_conv_direct_fn)(size_t mr, size_t nv, size_t kc, const float *a,
				   const ptrdiff_t *koff, const float *const *xs,
				   const unsigned *n, float *const *ys, size_t ldc,
				   const struct f32_conv_ep *ep);

/* Rows of a padded band: for r < rows, dst[r*wq + q] = src[r*ld + (q - lo)*s]
 * for q in [lo, hi), zero for the other q < wq (src is read nowhere else;
 * lo <= hi <= wq, and src may be NULL when lo == hi). */
typedef void (*f32_conv_rows_fn)(float *dst, size_t wq, size_t rows, const float *src, size_t ld,
				 size_t s, size_t lo, size_t hi);

struct f32_conv_direct {
	f32_conv_direct_fn ukernel;
	f32_conv_rows_fn rows; /* band rows are short: no libc call per row */
	unsigned mr;       /* rows per packed panel: the GEMM variant's mr */
	unsigned lanes;    /* pixels per vector */
	unsigned acc;      /* accumulator vectors: nv = min(nv_max, acc / mr) */
	unsigned nv_max;
};

#if defined(__x86_64__)
extern const struct f32_conv_direct hwk_f32_conv_direct_12x2v__avx512f;
#endif

/* Weights packed as the GEMM's A panels (groups x ceil(cog/mr) panels x
 * K x mr); both drivers read them. */
struct hwk_f32_conv2d_packed {
	struct hwk_conv2d p;
	const char *variant;
	const struct f32_gemm_ukr *u;
	const struct f32_conv_direct *d; /* NULL: implicit GEMM only */
	size_t mr, nr, cig, cog, K, kc, pt;
	size_t group_floats; /* packed A floats per group */
	float *a;            /* groups x ceil(cog/mr) panels x K x mr */
	float *raw;          /* depthwise only: the weights as given */
};

/* The direct path (direct.c): whether it suits this output size, and the
 * convolution itself (arguments already checked; n, oh, ow > 0). */
bool f32_conv_direct_suits(const struct hwk_f32_conv2d_packed *w, size_t oh, size_t ow);
int f32_conv_direct(const struct hwk_f32_conv2d_packed *w, size_t n, size_t h, size_t wd,
		    size_t oh, size_t ow, const float *x, float *y,
		    const struct hwk_f32_gemm_epilogue *ep, const struct hwk_parallel *par);

#endif
