/* HardSigmoid: max(0, min(1, alpha x + beta)), alpha 0.2, beta 0.5 (opset 6+); float through libhwk. */
#include "runtime/ops/eltwise.h"

static void hsig_f32(const void *x, void *y, int64_t n, const struct rt_node *node)
{
	const struct hwk_vunary_params pr = { .alpha = rt_attr_float(node, "alpha", 0.2f),
					     .beta = rt_attr_float(node, "beta", 0.5f) };
	hwk_f32_vunary(HWK_VUNARY_HARDSIGMOID, &pr, (size_t)n, x, y, NULL);
}
static void hsig_f64(const void *px, void *py, int64_t n, const struct rt_node *node)
{
	const double *X = px, alpha = rt_attr_float(node, "alpha", 0.2f),
		     beta = rt_attr_float(node, "beta", 0.5f);
	double *Y = py;
	for (int64_t i = 0; i < n; i++)
		Y[i] = fmax(0.0, fmin(1.0, alpha * X[i] + beta));
}

static const struct rt_unary kernels = { { [HWRT_FLOAT] = hsig_f32, [HWRT_DOUBLE] = hsig_f64 } };

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 1, 1, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	return rt_unary_infer(&kernels, in, out, e);
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	return rt_unary_run(&kernels, n, in[0], out[0], x->par, e);
}

RT_OP_DEFINE(HardSigmoid) = { .name = "HardSigmoid", .since = 6, .flags = RT_OP_INPLACE, .check = check,
		.infer = infer, .run = run };
