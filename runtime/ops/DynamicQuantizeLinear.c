/* DynamicQuantizeLinear: x to uint8 with a scale and zero point computed
 * from x's range extended to include 0 (opset 11). */
#include "runtime/ops/qutil.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 1, 1, 3, 3, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0];
	if (x->dtype != HWRT_FLOAT)
		return rt_fail(e, "x must be float, not %s", hwrt_dtype_name(x->dtype));
	if (hwrt_tensor_count(x) < 0)
		return rt_fail(e, "x is too large");
	if (out[0])
		rt_set_shape(out[0], HWRT_UINT8, x->rank, x->dims);
	if (out[1])
		rt_set_shape(out[1], HWRT_FLOAT, 0, NULL);
	if (out[2])
		rt_set_shape(out[2], HWRT_UINT8, 0, NULL);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	size_t count = (size_t)hwrt_tensor_count(in[0]);
	uint8_t *q = out[0] ? out[0]->data : rt_alloc(count);
	if (!q)
		return rt_fail(e, "out of memory");
	float scale = 1.0f;
	uint8_t zp = 0;
	/* the whole tensor as one row: one range, one scale */
	int rc = !count ? 0 : hwk_qu8_dynamic_quantize_rows(1, count, in[0]->data, count, q, count, &scale,
					       &zp, x->par);
	if (!out[0])
		rt_free(q);
	if (rc < 0)
		return rt_fail(e, "dynamic quantization failed (%d)", rc);
	if (out[1])
		*(float *)out[1]->data = scale;
	if (out[2])
		*(uint8_t *)out[2]->data = zp;
	return 0;
}

RT_OP_DEFINE(DynamicQuantizeLinear) = { .name = "DynamicQuantizeLinear", .since = 11,
					.check = check, .infer = infer, .run = run };
