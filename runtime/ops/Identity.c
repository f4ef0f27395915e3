/* Identity (opset 1+): tensors only (optional and sequence values are not
 * supported by the runtime). A view: no data moves when the runtime can
 * alias the buffers. */
#include <string.h>

#include "runtime/op.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 1, 1, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	rt_set_shape(out[0], in[0]->dtype, in[0]->rank, in[0]->dims);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	if (out[0]->data != in[0]->data)
		memmove(out[0]->data, in[0]->data, hwrt_tensor_bytes(in[0]));
	return 0;
}

RT_OP_DEFINE(Identity) = { .name = "Identity", .since = 1, .flags = RT_OP_VIEW, .check = check,
			   .infer = infer, .run = run };
