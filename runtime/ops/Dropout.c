/* Dropout in inference (opset 7+): Y = X, and the optional mask output is
 * all true. The ratio is an attribute before opset 12 and an optional
 * input after, with the optional training_mode input; training mode with a
 * ratio above 0 would need a random mask and is refused. Y may share X's
 * buffer (in place; not a view, since run must fill the mask). */
#include <string.h>

#include "runtime/op.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	if (g->opset < 12 && rt_check_io(n, 1, 1, 1, 2, e))
		return -1;
	return rt_check_io(n, 1, 3, 1, 2, e);
}

static int training(const struct rt_node *n, const struct hwrt_tensor *const *in,
		    struct rt_err *e)
{
	if (n->n_in < 3 || !in[2])
		return 0;
	if (in[2]->dtype != HWRT_BOOL || hwrt_tensor_count(in[2]) != 1)
		return rt_fail(e, "training_mode must be a bool scalar");
	if (!in[2]->data)
		return RT_NEED_VALUE;
	if (!*(const uint8_t *)in[2]->data)
		return 0;
	double ratio = 0.5;
	if (n->n_in >= 2 && in[1]) {
		if (!in[1]->data)
			return RT_NEED_VALUE;
		ratio = rt_num_at(in[1], 0);
	}
	if (ratio > 0)
		return rt_fail(e, "training mode with ratio %g is not supported (inference only)",
			       ratio);
	return 0;
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	int rc = training(n, in, e);
	if (rc)
		return rc;
	rt_set_shape(out[0], in[0]->dtype, in[0]->rank, in[0]->dims);
	if (n->n_out > 1 && out[1])
		rt_set_shape(out[1], HWRT_BOOL, in[0]->rank, in[0]->dims);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	if (out[0]->data != in[0]->data)
		memmove(out[0]->data, in[0]->data, hwrt_tensor_bytes(in[0]));
	if (n->n_out > 1 && out[1])
		memset(out[1]->data, 1, hwrt_tensor_bytes(out[1]));
	return 0;
}

RT_OP_DEFINE(Dropout) = { .name = "Dropout", .since = 7, .flags = RT_OP_INPLACE, .check = check,
			  .infer = infer, .run = run };
