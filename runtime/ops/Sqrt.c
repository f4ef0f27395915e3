/* Sqrt: square root (opset 6+); negative inputs give NaN. */
#include "runtime/ops/eltwise.h"

RT_UN_KERNEL(sqrt_f32, float, sqrtf(x))
RT_UN_KERNEL(sqrt_f64, double, sqrt(x))

static const struct rt_unary kernels = { { [HWRT_FLOAT] = sqrt_f32, [HWRT_DOUBLE] = sqrt_f64 } };

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

RT_OP_DEFINE(Sqrt) = { .name = "Sqrt", .since = 6, .flags = RT_OP_INPLACE, .check = check,
		.infer = infer, .run = run };
