/* InstanceNormalization: y = (x - mean) / sqrt(var + epsilon) * scale[c] + B[c]
 * with mean and variance over the spatial dims of each (n, c) plane. */
#include <math.h>

#include "runtime/ops/reduce.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 3, 3, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0];
	if (!rt_is_float_type(x->dtype))
		return rt_fail(e, "type %s is not supported", hwrt_dtype_name(x->dtype));
	if (x->rank < 2)
		return rt_fail(e, "input must have rank >= 2 (N x C x ...), has %d", x->rank);
	float eps = rt_attr_float(n, "epsilon", 1e-5f);
	if (!isfinite(eps) || eps < 0)
		return rt_fail(e, "epsilon must be finite and >= 0");
	for (int k = 1; k < 3; k++) {
		if (in[k]->dtype != x->dtype)
			return rt_fail(e, "%s has type %s, input has %s", k == 1 ? "scale" : "B",
				       hwrt_dtype_name(in[k]->dtype), hwrt_dtype_name(x->dtype));
		if (in[k]->rank != 1 || in[k]->dims[0] != x->dims[1])
			return rt_fail(e, "%s must be 1-D of C = %lld elements",
				       k == 1 ? "scale" : "B", (long long)x->dims[1]);
	}
	rt_set_shape(out[0], x->dtype, x->rank, x->dims);
	return 0;
}

struct inorm {
	const void *x;
	void *y;
	const double *scale, *bias;
	int64_t C, S;
	double eps;
};

/* One plane per task; statistics in double. */
#define INORM_FN(NAME, T)                                                                     \
	static void NAME(void *p, size_t t)                                                   \
	{                                                                                     \
		const struct inorm *s = p;                                                    \
		const T *X = (const T *)s->x + (int64_t)t * s->S;                             \
		T *Y = (T *)s->y + (int64_t)t * s->S;                                         \
		int64_t c = (int64_t)t % s->C;                                                \
		double m = 0, v = 0;                                                          \
		for (int64_t i = 0; i < s->S; i++)                                            \
			m += X[i];                                                            \
		m /= (double)s->S;                                                            \
		for (int64_t i = 0; i < s->S; i++)                                            \
			v += (X[i] - m) * (X[i] - m);                                         \
		double a = s->scale[c] / sqrt(v / (double)s->S + s->eps);                     \
		T k = (T)a, b = (T)(s->bias[c] - m * a);                                      \
		for (int64_t i = 0; i < s->S; i++)                                            \
			Y[i] = X[i] * k + b;                                                  \
	}
INORM_FN(inorm_f32, float)
INORM_FN(inorm_f64, double)

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *X = in[0];
	int64_t N = X->dims[0], C = X->dims[1], S = rt_dims_prod(X->dims, 2, X->rank);
	int64_t cnt = N * C * S;
	if (cnt == 0)
		return 0;
	enum hwrt_dtype dt = X->dtype;
	bool conv = dt == HWRT_FLOAT16 || dt == HWRT_BFLOAT16;
	double *p = rt_alloc((size_t)C * 2 * sizeof(double));
	void *buf = conv ? rt_alloc((size_t)cnt * sizeof(float)) : NULL;
	if (!p || (conv && !buf)) {
		rt_free(p);
		rt_free(buf);
		return rt_fail(e, "out of memory");
	}
	rt_to_f64(in[1]->data, dt, p, C);
	rt_to_f64(in[2]->data, dt, p + C, C);
	struct inorm s = { X->data, out[0]->data, p, p + C, C, S,
			   rt_attr_float(n, "epsilon", 1e-5f) };
	if (conv) {
		rt_to_f32(X->data, dt, buf, cnt);
		s.x = s.y = buf;
	}
	const struct hwk_parallel *par = cnt >= 32768 ? x->par : NULL;
	hwk_parallel_for(par, (size_t)(N * C), dt == HWRT_DOUBLE ? inorm_f64 : inorm_f32, &s);
	if (conv)
		rt_from_f32(buf, dt, out[0]->data, cnt);
	rt_free(buf);
	rt_free(p);
	return 0;
}

RT_OP_DEFINE(InstanceNormalization) = { .name = "InstanceNormalization", .since = 6,
					.check = check, .infer = infer, .run = run };
