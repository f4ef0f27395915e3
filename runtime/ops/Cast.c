/* Cast (opset 6+): between bool, every integer type, float16, bfloat16,
 * float and double. Strings are not supported. Elements pass through a
 * carrier (double for floating sources, int64 for signed, uint64 for
 * unsigned and bool) in blocks:
 * - float to integer truncates toward zero and saturates; NaN gives 0
 *   (numpy leaves these undefined);
 * - integer to integer wraps, as numpy's astype;
 * - anything to bool is x != 0 (NaN is true);
 * - float to bfloat16 truncates the low 16 bits (NaN stays NaN), as the
 *   ONNX reference and its test data do; float16 rounds to nearest even. */
#include <string.h>

#include "runtime/ops/eltwise.h"

#define BLK 256

static bool supported(enum hwrt_dtype t)
{
	return t != HWRT_STRING && t != HWRT_UNDEFINED && hwrt_dtype_size(t) != 0;
}

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	if (rt_check_io(n, 1, 1, 1, 1, e))
		return -1;
	const struct rt_attr *a = rt_attr_find(n, "to");
	if (!a || a->type != RT_ATTR_INT)
		return rt_fail(e, "the 'to' attribute is missing");
	if (!supported((enum hwrt_dtype)a->i))
		return rt_fail(e, "casting to type %lld is not supported", (long long)a->i);
	return 0;
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	enum hwrt_dtype to = (enum hwrt_dtype)rt_attr_int(n, "to", 0);
	if (!supported(in[0]->dtype))
		return rt_fail(e, "casting from %s is not supported", hwrt_dtype_name(in[0]->dtype));
	if (!supported(to))
		return rt_fail(e, "casting to type %d is not supported", (int)to);
	rt_set_shape(out[0], to, in[0]->rank, in[0]->dims);
	return 0;
}

enum carrier { C_F, C_I, C_U };

static enum carrier carrier_of(enum hwrt_dtype t)
{
	switch (t) {
	case HWRT_FLOAT: case HWRT_DOUBLE: case HWRT_FLOAT16: case HWRT_BFLOAT16: return C_F;
	case HWRT_INT8: case HWRT_INT16: case HWRT_INT32: case HWRT_INT64: return C_I;
	default: return C_U;
	}
}

union block {
	double f[BLK];
	int64_t i[BLK];
	uint64_t u[BLK];
};

static int64_t f2i(double v)
{
	if (v != v)
		return 0;
	if (v <= -9223372036854775808.0)
		return INT64_MIN;
	if (v >= 9223372036854775808.0)
		return INT64_MAX;
	return (int64_t)v;
}

static uint64_t f2u(double v)
{
	if (v != v || v <= 0)
		return v < 0 ? (uint64_t)f2i(v) : 0;
	if (v >= 18446744073709551616.0)
		return UINT64_MAX;
	return (uint64_t)v;
}

static uint16_t f32_to_bf16_trunc(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	if (f != f)
		return (uint16_t)((u >> 16) | 0x40); /* stays a NaN */
	return (uint16_t)(u >> 16);
}

#define LOAD(ST, FIELD)                                                                       \
	for (size_t i = 0; i < m; i++)                                                        \
		b->FIELD[i] = ((const ST *)x)[i];

static void load(enum hwrt_dtype t, const void *x, union block *b, size_t m)
{
	switch (t) {
	case HWRT_FLOAT: LOAD(float, f) break;
	case HWRT_DOUBLE: LOAD(double, f) break;
	case HWRT_FLOAT16:
		for (size_t i = 0; i < m; i++)
			b->f[i] = rt_f16_to_f32(((const uint16_t *)x)[i]);
		break;
	case HWRT_BFLOAT16:
		for (size_t i = 0; i < m; i++)
			b->f[i] = rt_bf16_to_f32(((const uint16_t *)x)[i]);
		break;
	case HWRT_INT8: LOAD(int8_t, i) break;
	case HWRT_INT16: LOAD(int16_t, i) break;
	case HWRT_INT32: LOAD(int32_t, i) break;
	case HWRT_INT64: LOAD(int64_t, i) break;
	case HWRT_UINT8: case HWRT_BOOL: LOAD(uint8_t, u) break;
	case HWRT_UINT16: LOAD(uint16_t, u) break;
	case HWRT_UINT32: LOAD(uint32_t, u) break;
	case HWRT_UINT64: LOAD(uint64_t, u) break;
	default: break;
	}
}

/* Stores the carrier block as DT: V is the element expression of the
 * carrier value c. */
#define STORE_ALL(DT, CF, CI, CU)                                                             \
	do {                                                                                  \
		DT *Y = y;                                                                    \
		if (c == C_F)                                                                 \
			for (size_t i = 0; i < m; i++) {                                      \
				double v = b->f[i];                                           \
				Y[i] = (CF);                                                  \
			}                                                                     \
		else if (c == C_I)                                                            \
			for (size_t i = 0; i < m; i++) {                                      \
				int64_t v = b->i[i];                                          \
				Y[i] = (CI);                                                  \
			}                                                                     \
		else                                                                          \
			for (size_t i = 0; i < m; i++) {                                      \
				uint64_t v = b->u[i];                                         \
				Y[i] = (CU);                                                  \
			}                                                                     \
	} while (0)
#define STORE_INT(DT) STORE_ALL(DT, (DT)f2i(v), (DT)v, (DT)v)
#define STORE_UINT(DT) STORE_ALL(DT, (DT)f2u(v), (DT)v, (DT)v)

static void store(enum hwrt_dtype t, enum carrier c, const union block *b, void *y, size_t m)
{
	switch (t) {
	case HWRT_FLOAT: STORE_ALL(float, (float)v, (float)v, (float)v); break;
	case HWRT_DOUBLE: STORE_ALL(double, v, (double)v, (double)v); break;
	case HWRT_FLOAT16:
		STORE_ALL(uint16_t, rt_f32_to_f16((float)v), rt_f32_to_f16((float)v),
			  rt_f32_to_f16((float)v));
		break;
	case HWRT_BFLOAT16:
		STORE_ALL(uint16_t, f32_to_bf16_trunc((float)v), f32_to_bf16_trunc((float)v),
			  f32_to_bf16_trunc((float)v));
		break;
	case HWRT_BOOL: STORE_ALL(uint8_t, v != 0, v != 0, v != 0); break;
	case HWRT_INT8: STORE_INT(int8_t); break;
	case HWRT_INT16: STORE_INT(int16_t); break;
	case HWRT_INT32: STORE_INT(int32_t); break;
	case HWRT_INT64: STORE_INT(int64_t); break;
	case HWRT_UINT8: STORE_UINT(uint8_t); break;
	case HWRT_UINT16: STORE_UINT(uint16_t); break;
	case HWRT_UINT32: STORE_UINT(uint32_t); break;
	case HWRT_UINT64: STORE_UINT(uint64_t); break;
	default: break;
	}
}

struct cast {
	const char *x;
	char *y;
	enum hwrt_dtype from, to;
	size_t is, os;
};

static void cast_range(void *p, int64_t s, int64_t n)
{
	const struct cast *c = p;
	union block b;
	enum carrier car = carrier_of(c->from);
	for (int64_t j = s; j < s + n; j += BLK) {
		size_t m = (size_t)(s + n - j < BLK ? s + n - j : BLK);
		load(c->from, c->x + j * (int64_t)c->is, &b, m);
		store(c->to, car, &b, c->y + j * (int64_t)c->os, m);
	}
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *X = in[0];
	struct hwrt_tensor *Y = out[0];
	if (X->dtype == Y->dtype) {
		if (Y->data != X->data)
			memmove(Y->data, X->data, hwrt_tensor_bytes(X));
		return 0;
	}
	if (X->dtype == HWRT_FLOAT && Y->dtype == HWRT_FLOAT16) {
		hwk_f32_to_f16((size_t)hwrt_tensor_count(X), X->data, Y->data);
		return 0;
	}
	if (X->dtype == HWRT_FLOAT16 && Y->dtype == HWRT_FLOAT) {
		hwk_f16_to_f32((size_t)hwrt_tensor_count(X), X->data, Y->data);
		return 0;
	}
	struct cast c = { X->data, Y->data, X->dtype, Y->dtype, hwrt_dtype_size(X->dtype),
			  hwrt_dtype_size(Y->dtype) };
	rt_parallel_range(x->par, hwrt_tensor_count(X), cast_range, &c);
	return 0;
}

RT_OP_DEFINE(Cast) = { .name = "Cast", .since = 6, .check = check, .infer = infer, .run = run };
