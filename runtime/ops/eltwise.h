/* Shared machinery of the element-wise operators: broadcasting binary and
 * variadic ops over every numeric type, and unary maps. Op files stay a
 * few lines: they give the expression per type. */
#ifndef HWRT_OPS_ELTWISE_H
#define HWRT_OPS_ELTWISE_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "runtime/op.h"
#include "runtime/tensor.h"

/* o[i] = f(a[i*as], b[i*bs]) with as, bs in {0, 1}. */
typedef void (*rt_bin_kernel)(const void *a, int64_t as, const void *b, int64_t bs, void *o,
			      int64_t n);
/* Indexed by enum hwrt_dtype of the inputs; NULL: type not supported. */
#define RT_DTYPES 17
struct rt_binary {
	rt_bin_kernel k[RT_DTYPES];
	bool bool_out; /* comparisons: output bool whatever the input type */
};

/* Same dtype on both sides, broadcast shapes. float16 and bfloat16 inputs
 * without their own kernel run the float kernel on blocks converted to
 * float (the output converted back unless bool). Large outputs are split
 * across par, broadcast or not. */
int rt_binary_infer(const struct rt_binary *b, const struct hwrt_tensor *const *in,
		    struct hwrt_tensor *const *out, struct rt_err *e);
int rt_binary_run(const struct rt_binary *b, const struct hwrt_tensor *x,
		  const struct hwrt_tensor *y, struct hwrt_tensor *o,
		  const struct hwk_parallel *par, struct rt_err *e);

/* The whole of a two-input broadcasting op whose file defines its kernel
 * table as `kernels`: check, infer, run and the definition. The build's
 * op list reads these lines as it reads RT_OP_DEFINE. */
#define RT_BINARY_OP_DEFINE(NAME, SINCE, FLAGS)                                               \
	static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e) \
	{                                                                                     \
		return rt_check_io(n, 2, 2, 1, 1, e);                                         \
	}                                                                                     \
	static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,       \
			 struct hwrt_tensor *const *out, struct rt_err *e)                    \
	{                                                                                     \
		return rt_binary_infer(&kernels, in, out, e);                                 \
	}                                                                                     \
	static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,         \
		       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)    \
	{                                                                                     \
		return rt_binary_run(&kernels, in[0], in[1], out[0], x->par, e);              \
	}                                                                                     \
	RT_OP_DEFINE(NAME) = { .name = #NAME, .since = SINCE, .flags = FLAGS, .check = check,  \
			       .infer = infer, .run = run }

/* The same for a variadic op (1 or more inputs folded pairwise with
 * `kernels`); MEAN divides the result by the input count. */
#define RT_VARIADIC_OP_DEFINE(NAME, SINCE, FLAGS, MEAN)                                       \
	static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e) \
	{                                                                                     \
		return rt_check_io(n, 1, 1 << 20, 1, 1, e);                                   \
	}                                                                                     \
	static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,       \
			 struct hwrt_tensor *const *out, struct rt_err *e)                    \
	{                                                                                     \
		return rt_variadic_infer(&kernels, n->n_in, in, out, e);                      \
	}                                                                                     \
	static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,         \
		       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)    \
	{                                                                                     \
		int rc = rt_variadic_run(&kernels, n->n_in, in, out[0], x->par, e);           \
		if (rc == 0 && (MEAN) && n->n_in > 1)                                         \
			rt_scale(out[0], 1.0 / n->n_in);                                      \
		return rc;                                                                    \
	}                                                                                     \
	RT_OP_DEFINE(NAME) = { .name = #NAME, .since = SINCE, .flags = FLAGS, .check = check,  \
			       .infer = infer, .run = run }

/* Kernel bodies: three loops so the compiler vectorizes the common cases. */
#define RT_BIN_KERNEL(NAME, T, OT, EXPR)                                                      \
	static void NAME(const void *pa, int64_t as, const void *pb, int64_t bs, void *po,    \
			 int64_t n)                                                           \
	{                                                                                     \
		const T *A = pa, *B = pb;                                                     \
		OT *O = po;                                                                   \
		if (as && bs) {                                                               \
			for (int64_t i = 0; i < n; i++) {                                     \
				T a = A[i], b = B[i];                                         \
				O[i] = (OT)(EXPR);                                            \
			}                                                                     \
		} else if (as) {                                                              \
			T b = B[0];                                                           \
			for (int64_t i = 0; i < n; i++) {                                     \
				T a = A[i];                                                   \
				O[i] = (OT)(EXPR);                                            \
			}                                                                     \
		} else if (bs) {                                                              \
			T a = A[0];                                                           \
			for (int64_t i = 0; i < n; i++) {                                     \
				T b = B[i];                                                   \
				O[i] = (OT)(EXPR);                                            \
			}                                                                     \
		} else {                                                                      \
			T a = A[0], b = B[0];                                                 \
			OT r = (OT)(EXPR);                                                    \
			for (int64_t i = 0; i < n; i++)                                       \
				O[i] = r;                                                     \
		}                                                                             \
	}

/* One kernel per numeric type from one expression in a and b. */
#define RT_BIN_ALL_NUMERIC(PFX, OT_SAME, EXPR)                                                \
	RT_BIN_KERNEL(PFX##_f32, float, float, EXPR)                                          \
	RT_BIN_KERNEL(PFX##_f64, double, double, EXPR)                                        \
	RT_BIN_KERNEL(PFX##_i8, int8_t, int8_t, EXPR)                                         \
	RT_BIN_KERNEL(PFX##_u8, uint8_t, uint8_t, EXPR)                                       \
	RT_BIN_KERNEL(PFX##_i16, int16_t, int16_t, EXPR)                                      \
	RT_BIN_KERNEL(PFX##_u16, uint16_t, uint16_t, EXPR)                                    \
	RT_BIN_KERNEL(PFX##_i32, int32_t, int32_t, EXPR)                                      \
	RT_BIN_KERNEL(PFX##_u32, uint32_t, uint32_t, EXPR)                                    \
	RT_BIN_KERNEL(PFX##_i64, int64_t, int64_t, EXPR)                                      \
	RT_BIN_KERNEL(PFX##_u64, uint64_t, uint64_t, EXPR)
#define RT_BIN_TABLE_NUMERIC(PFX)                                                             \
	[HWRT_FLOAT] = PFX##_f32, [HWRT_DOUBLE] = PFX##_f64, [HWRT_INT8] = PFX##_i8,         \
	[HWRT_UINT8] = PFX##_u8, [HWRT_INT16] = PFX##_i16, [HWRT_UINT16] = PFX##_u16,        \
	[HWRT_INT32] = PFX##_i32, [HWRT_UINT32] = PFX##_u32, [HWRT_INT64] = PFX##_i64,       \
	[HWRT_UINT64] = PFX##_u64

/* Integer kernels only (expression written with wrapping in mind). */
#define RT_BIN_ALL_INT(PFX, EXPR)                                                             \
	RT_BIN_KERNEL(PFX##_i8, int8_t, int8_t, EXPR)                                         \
	RT_BIN_KERNEL(PFX##_u8, uint8_t, uint8_t, EXPR)                                       \
	RT_BIN_KERNEL(PFX##_i16, int16_t, int16_t, EXPR)                                      \
	RT_BIN_KERNEL(PFX##_u16, uint16_t, uint16_t, EXPR)                                    \
	RT_BIN_KERNEL(PFX##_i32, int32_t, int32_t, EXPR)                                      \
	RT_BIN_KERNEL(PFX##_u32, uint32_t, uint32_t, EXPR)                                    \
	RT_BIN_KERNEL(PFX##_i64, int64_t, int64_t, EXPR)                                      \
	RT_BIN_KERNEL(PFX##_u64, uint64_t, uint64_t, EXPR)
#define RT_BIN_TABLE_INT(PFX)                                                                 \
	[HWRT_INT8] = PFX##_i8, [HWRT_UINT8] = PFX##_u8, [HWRT_INT16] = PFX##_i16,           \
	[HWRT_UINT16] = PFX##_u16, [HWRT_INT32] = PFX##_i32, [HWRT_UINT32] = PFX##_u32,      \
	[HWRT_INT64] = PFX##_i64, [HWRT_UINT64] = PFX##_u64
/* float and double; float16 and bfloat16 run the float kernel on blocks
 * converted to float (see rt_binary). */
#define RT_BIN_ALL_FLOAT(PFX, EXPR)                                                           \
	RT_BIN_KERNEL(PFX##_f32, float, float, EXPR)                                          \
	RT_BIN_KERNEL(PFX##_f64, double, double, EXPR)
#define RT_BIN_TABLE_FLOAT(PFX) [HWRT_FLOAT] = PFX##_f32, [HWRT_DOUBLE] = PFX##_f64

/* Comparisons: bool (uint8_t 0/1) out for every numeric type. */
#define RT_BIN_ALL_CMP(PFX, EXPR)                                                             \
	RT_BIN_KERNEL(PFX##_f32, float, uint8_t, EXPR)                                        \
	RT_BIN_KERNEL(PFX##_f64, double, uint8_t, EXPR)                                       \
	RT_BIN_KERNEL(PFX##_i8, int8_t, uint8_t, EXPR)                                        \
	RT_BIN_KERNEL(PFX##_u8, uint8_t, uint8_t, EXPR)                                       \
	RT_BIN_KERNEL(PFX##_i16, int16_t, uint8_t, EXPR)                                      \
	RT_BIN_KERNEL(PFX##_u16, uint16_t, uint8_t, EXPR)                                     \
	RT_BIN_KERNEL(PFX##_i32, int32_t, uint8_t, EXPR)                                      \
	RT_BIN_KERNEL(PFX##_u32, uint32_t, uint8_t, EXPR)                                     \
	RT_BIN_KERNEL(PFX##_i64, int64_t, uint8_t, EXPR)                                      \
	RT_BIN_KERNEL(PFX##_u64, uint64_t, uint8_t, EXPR)

/* Variadic ops (Min, Max, Sum, Mean): n >= 1 inputs of one dtype,
 * broadcast together, folded left to right with the binary kernel. Any
 * output buffer works, including one shared with an input. */
int rt_variadic_infer(const struct rt_binary *b, int n, const struct hwrt_tensor *const *in,
		      struct hwrt_tensor *const *out, struct rt_err *e);
int rt_variadic_run(const struct rt_binary *b, int n, const struct hwrt_tensor *const *in,
		    struct hwrt_tensor *o, const struct hwk_parallel *par, struct rt_err *e);
/* o *= s for a float, double, float16 or bfloat16 tensor (Mean). */
void rt_scale(struct hwrt_tensor *o, double s);

/* Where: o = c ? x : y with c bool, x and y of one dtype; broadcast. */
int rt_where_infer(const struct hwrt_tensor *const *in, struct hwrt_tensor *const *out,
		   struct rt_err *e);
int rt_where_run(const struct hwrt_tensor *c, const struct hwrt_tensor *x,
		 const struct hwrt_tensor *y, struct hwrt_tensor *o,
		 const struct hwk_parallel *par, struct rt_err *e);

/* Walks out's broadcast of n (<= 8) inputs like rt_bcast_loop, split over
 * par when the output is large (each run of fn is a disjoint piece of the
 * output, so fn must only write the output range it is given). */
void rt_bcast_par(const struct hwrt_tensor *out, int n, const struct hwrt_tensor *const *in,
		  rt_bcast_fn fn, void *ctx, const struct hwk_parallel *par);

/* Calls fn(ctx, start, count) over [0, n) in chunks split across par when
 * n is large. */
typedef void (*rt_range_fn)(void *ctx, int64_t start, int64_t n);
void rt_parallel_range(const struct hwk_parallel *par, int64_t n, rt_range_fn fn, void *ctx);

/* float16 or bfloat16. */
static inline bool rt_is_half(enum hwrt_dtype t)
{
	return t == HWRT_FLOAT16 || t == HWRT_BFLOAT16;
}

/* Unary maps: the op gives a float kernel and optionally others. float16
 * and bfloat16 use the float kernel on blocks converted to float, unless
 * the op gives their own. */
typedef void (*rt_un_kernel)(const void *x, void *y, int64_t n, const struct rt_node *node);
struct rt_unary {
	rt_un_kernel k[RT_DTYPES];
};
int rt_unary_infer(const struct rt_unary *u, const struct hwrt_tensor *const *in,
		   struct hwrt_tensor *const *out, struct rt_err *e);
/* Whether the unary or binary tables have a kernel for dtype t. */
bool rt_unary_supports(const struct rt_unary *u, enum hwrt_dtype t);
bool rt_binary_supports(const struct rt_binary *b, enum hwrt_dtype t);
/* Splits large tensors over the threads. */
int rt_unary_run(const struct rt_unary *u, const struct rt_node *n, const struct hwrt_tensor *x,
		 struct hwrt_tensor *y, const struct hwk_parallel *par, struct rt_err *e);

#define RT_UN_KERNEL(NAME, T, EXPR)                                                           \
	static void NAME(const void *px, void *py, int64_t n, const struct rt_node *node)    \
	{                                                                                     \
		(void)node;                                                                   \
		const T *X = px;                                                              \
		T *Y = py;                                                                    \
		for (int64_t i = 0; i < n; i++) {                                             \
			T x = X[i];                                                           \
			Y[i] = (T)(EXPR);                                                     \
		}                                                                             \
	}

#endif
