/* Elu: x < 0 ? alpha (e^x - 1) : x, alpha 1 (opset 6+). */
#include "runtime/ops/eltwise.h"

static void elu_f32(const void *px, void *py, int64_t n, const struct rt_node *node)
{
	const float *X = px, alpha = rt_attr_float(node, "alpha", 1.0f);
	float *Y = py;
	for (int64_t i = 0; i < n; i++)
		Y[i] = X[i] < 0 ? alpha * expm1f(X[i]) : X[i];
}
static void elu_f64(const void *px, void *py, int64_t n, const struct rt_node *node)
{
	const double *X = px, alpha = rt_attr_float(node, "alpha", 1.0f);
	double *Y = py;
	for (int64_t i = 0; i < n; i++)
		Y[i] = X[i] < 0 ? alpha * expm1(X[i]) : X[i];
}

static const struct rt_unary kernels = { { [HWRT_FLOAT] = elu_f32, [HWRT_DOUBLE] = elu_f64 } };

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

RT_OP_DEFINE(Elu) = { .name = "Elu", .since = 6, .flags = RT_OP_INPLACE, .check = check,
		.infer = infer, .run = run };
