/* HardSwish: x max(0, min(1, x/6 + 1/2)) (opset 14+); float through libhwk. */
#include "runtime/ops/eltwise.h"

static void hsw_f32(const void *x, void *y, int64_t n, const struct rt_node *node)
{
	const struct hwk_vunary_params pr = { 0 };
	hwk_f32_vunary(HWK_VUNARY_HARDSWISH, &pr, (size_t)n, x, y, NULL);
}
RT_UN_KERNEL(hsw_f64, double, x * fmax(0.0, fmin(1.0, x / 6.0 + 0.5)))

static const struct rt_unary kernels = { { [HWRT_FLOAT] = hsw_f32, [HWRT_DOUBLE] = hsw_f64 } };

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

RT_OP_DEFINE(HardSwish) = { .name = "HardSwish", .since = 14, .flags = RT_OP_INPLACE, .check = check,
		.infer = infer, .run = run };
