/* Pow: base ^ exponent with multidirectional broadcasting (opset 7+). The
 * output has the base's type; from opset 12 the exponent may be of another
 * numeric type. float/double with a like exponent run the vectorizable
 * kernel; mixed types go element by element in double, integer ^ integer
 * exactly (wrapping), integer ^ float truncated as the ONNX reference's
 * astype. */
#include "runtime/ops/eltwise.h"

RT_BIN_KERNEL(pow_f32, float, float, powf(a, b))
RT_BIN_KERNEL(pow_f64, double, double, pow(a, b))
static const struct rt_binary same = { .k = { [HWRT_FLOAT] = pow_f32, [HWRT_DOUBLE] = pow_f64 } };

static bool is_int(enum hwrt_dtype t)
{
	switch (t) {
	case HWRT_INT8: case HWRT_UINT8: case HWRT_INT16: case HWRT_UINT16: case HWRT_INT32:
	case HWRT_UINT32: case HWRT_INT64: case HWRT_UINT64: return true;
	default: return false;
	}
}

static bool is_num(enum hwrt_dtype t)
{
	return is_int(t) || t == HWRT_FLOAT || t == HWRT_DOUBLE || rt_is_half(t);
}

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 2, 2, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	enum hwrt_dtype bt = in[0]->dtype;
	if (bt != HWRT_FLOAT && bt != HWRT_DOUBLE && !rt_is_half(bt) && bt != HWRT_INT32 &&
	    bt != HWRT_INT64)
		return rt_fail(e, "base type %s is not supported", hwrt_dtype_name(bt));
	if (!is_num(in[1]->dtype))
		return rt_fail(e, "exponent type %s is not supported",
			       hwrt_dtype_name(in[1]->dtype));
	if (rt_broadcast_shape(2, in, out[0]) < 0)
		return rt_fail(e, "shapes cannot broadcast (ranks %d and %d)", in[0]->rank,
			       in[1]->rank);
	out[0]->dtype = bt;
	return 0;
}

/* a^e for integers by squaring, wrapping; negative e gives 1/a^|e|
 * truncated. */
static int64_t ipow(int64_t a, int64_t e)
{
	if (e < 0)
		return a == 1 ? 1 : a == -1 ? (e & 1 ? -1 : 1) : 0;
	uint64_t r = 1, b = (uint64_t)a;
	while (e) {
		if (e & 1)
			r *= b;
		b *= b;
		e >>= 1;
	}
	return (int64_t)r;
}

static int64_t sat_i64(double v, int64_t lo, int64_t hi)
{
	if (v != v)
		return 0;
	if (v <= (double)lo)
		return lo;
	if (v >= (double)hi)
		return hi;
	return (int64_t)v;
}

struct mixed {
	const struct hwrt_tensor *x, *y, *o;
	bool int_exp;
};

static void mixed_run(void *p, const int64_t *off, const int64_t *step, int64_t o, int64_t n)
{
	const struct mixed *m = p;
	for (int64_t i = 0; i < n; i++) {
		int64_t ix = off[0] + i * step[0], iy = off[1] + i * step[1], io = o + i;
		switch (m->o->dtype) {
		case HWRT_INT32:
		case HWRT_INT64: {
			int64_t a = rt_int_at(m->x, ix), r;
			if (m->int_exp)
				r = ipow(a, m->y->dtype == HWRT_UINT64 &&
							    ((const uint64_t *)m->y->data)[iy] >
								    (uint64_t)INT64_MAX
						    ? INT64_MAX
						    : rt_int_at(m->y, iy));
			else
				r = sat_i64(pow((double)a, rt_num_at(m->y, iy)), INT64_MIN,
					    INT64_MAX);
			if (m->o->dtype == HWRT_INT32)
				((int32_t *)m->o->data)[io] =
					m->int_exp ? (int32_t)(uint32_t)(uint64_t)r
						   : (int32_t)sat_i64((double)r, INT32_MIN, INT32_MAX);
			else
				((int64_t *)m->o->data)[io] = r;
			break;
		}
		case HWRT_FLOAT:
			((float *)m->o->data)[io] =
				(float)pow(rt_num_at(m->x, ix), rt_num_at(m->y, iy));
			break;
		case HWRT_DOUBLE:
			((double *)m->o->data)[io] = pow(rt_num_at(m->x, ix), rt_num_at(m->y, iy));
			break;
		case HWRT_FLOAT16:
			((uint16_t *)m->o->data)[io] = rt_f32_to_f16(
				(float)pow(rt_num_at(m->x, ix), rt_num_at(m->y, iy)));
			break;
		case HWRT_BFLOAT16:
			((uint16_t *)m->o->data)[io] = rt_f32_to_bf16(
				(float)pow(rt_num_at(m->x, ix), rt_num_at(m->y, iy)));
			break;
		default: break;
		}
	}
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	if (in[0]->dtype == in[1]->dtype && rt_binary_supports(&same, in[0]->dtype))
		return rt_binary_run(&same, in[0], in[1], out[0], x->par, e);
	/* Element by element: out may share input 0's buffer, and each
	 * element reads its inputs before writing, in output order. */
	struct mixed m = { in[0], in[1], out[0], is_int(in[1]->dtype) };
	const struct hwrt_tensor *two[2] = { in[0], in[1] };
	rt_bcast_par(out[0], 2, two, mixed_run, &m, x->par);
	return 0;
}

RT_OP_DEFINE(Pow) = { .name = "Pow", .since = 7, .flags = RT_OP_INPLACE, .check = check,
		      .infer = infer, .run = run };
