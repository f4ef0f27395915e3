/* LeakyRelu: x < 0 ? alpha x : x, alpha 0.01 by default (opset 6+); float through libhwk. */
#include "runtime/ops/eltwise.h"

static void lrelu_f32(const void *x, void *y, int64_t n, const struct rt_node *node)
{
	const struct hwk_vunary_params pr = { .alpha = rt_attr_float(node, "alpha", 0.01f) };
	hwk_f32_vunary(HWK_VUNARY_LEAKY_RELU, &pr, (size_t)n, x, y, NULL);
}
static void lrelu_f64(const void *px, void *py, int64_t n, const struct rt_node *node)
{
	const double *X = px, alpha = rt_attr_float(node, "alpha", 0.01f);
	double *Y = py;
	for (int64_t i = 0; i < n; i++)
		Y[i] = X[i] < 0 ? alpha * X[i] : X[i];
}

static const struct rt_unary kernels = { { [HWRT_FLOAT] = lrelu_f32, [HWRT_DOUBLE] = lrelu_f64 } };

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

RT_OP_DEFINE(LeakyRelu) = { .name = "LeakyRelu", .since = 6, .flags = RT_OP_INPLACE, .check = check,
		.infer = infer, .run = run };
