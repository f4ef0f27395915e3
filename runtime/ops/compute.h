/* Shared helpers of the compute operators (MatMul, Gemm, Conv,
 * ConvTranspose, pooling): fused epilogues, spatial attributes, and running
 * float16/double/8-bit tensors through the float32 kernels. */
#ifndef HWRT_OPS_COMPUTE_H
#define HWRT_OPS_COMPUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "kernels/hwk.h"
#include "runtime/op.h"
#include "runtime/tensor.h"

/* Turns a libhwk error code into a message. */
int rt_hwk_fail(struct rt_err *e, int rc, const char *what);

/* The fused activation of n as a GEMM epilogue with bias (may be NULL).
 * Returns true when the activation has no epilogue form (HardSwish) and
 * must be applied afterwards with rt_post_act. */
bool rt_make_epilogue(const struct rt_node *n, const float *bias,
		      struct hwk_f32_gemm_epilogue *ep);
int rt_post_act(const struct rt_node *n, float *y, size_t count, const struct hwk_parallel *par,
		struct rt_err *e);
/* Applies bias (per channel, each of `inner` floats, may be NULL) and the
 * fused activation to y laid out [outer][channels][inner]. */
int rt_bias_act(const struct rt_node *n, float *y, size_t outer, size_t channels, size_t inner,
		const float *bias, const struct hwk_parallel *par, struct rt_err *e);

/* The fused bias (n->bias) as `count` floats, NULL when none. *bad is set
 * when it exists but is not a float vector of that many elements. */
const float *rt_fused_bias(const struct rt_node *n, const struct rt_graph *g, int64_t count,
			   bool *bad);

/* Runs fn on float copies of the float16, double, int8 and uint8 inputs and
 * outputs, converting the outputs back; other tensors pass through. */
typedef int (*rt_run_fn)(const struct rt_node *n, const struct hwrt_tensor *const *in,
			 struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e);
int rt_run_as_f32(const struct rt_node *n, const struct hwrt_tensor *const *in,
		  struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e,
		  rt_run_fn fn);
bool rt_compute_float_type(enum hwrt_dtype t); /* float, float16, double */

/* Geometry of a convolution or pooling window over nd spatial axes. */
#define RT_MAX_SPATIAL 6
struct rt_window {
	int nd;
	int64_t k[RT_MAX_SPATIAL], s[RT_MAX_SPATIAL], d[RT_MAX_SPATIAL];
	int64_t pb[RT_MAX_SPATIAL], pe[RT_MAX_SPATIAL]; /* pads at begin, end */
	int64_t in[RT_MAX_SPATIAL], out[RT_MAX_SPATIAL];
	bool ceil_mode;
};

/* Reads an ints attribute of nd values (or dflt for each when absent). */
int rt_spatial_ints(const struct rt_node *n, const char *name, int nd, int64_t dflt, int64_t *v,
		    struct rt_err *e);
/* Validates auto_pad, pads, strides and dilations (w->k, w->in and nd
 * set) and computes pads and the output size as Conv and the pools do.
 * dilations_ok: the op has the attribute. */
int rt_window_infer(const struct rt_node *n, struct rt_window *w, bool dilations_ok,
		    struct rt_err *e);
/* Checks an attribute that the op takes at this opset only. */
int rt_check_auto_pad(const struct rt_node *n, struct rt_err *e);


/* Moves one channel's window taps between a signal grid and columns: for
 * each kernel tap t and each position p of `grid`, the signal position is
 * p*s + tap*d - pb on `sig`. Gather (im2col, Conv): col[t][p] = x[pos], 0
 * outside. Scatter (col2im, ConvTranspose): x[pos] += col[t][p]. */
void rt_window_cols(int nd, const int64_t *k, const int64_t *s, const int64_t *d,
		    const int64_t *pb, const int64_t *grid, const int64_t *sig, bool scatter,
		    float *x, float *col);
#endif
