/* Shared machinery of the element-wise operators: broadcasting binary and
 * variadic ops over every numeric type, and unary maps. Op files stay a
 * few lines: they give the expression per type. */
#ifndef HWRT_OPS_ELTWISE_H
#define HWRT_OPS_ELTWISE_H

#include <math.h>
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

/* Same dtype on both sides, broadcast shapes. */
int rt_binary_infer(const struct rt_binary *b, const struct hwrt_tensor *const *in,
		    struct hwrt_tensor *const *out, struct rt_err *e);
int rt_binary_run(const struct rt_binary *b, const struct hwrt_tensor *x,
		  const struct hwrt_tensor *y, struct hwrt_tensor *o,
		  const struct hwk_parallel *par, struct rt_err *e);

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

/* Unary maps: the op gives a float kernel and optionally others. */
typedef void (*rt_un_kernel)(const void *x, void *y, int64_t n, const struct rt_node *node);
struct rt_unary {
	rt_un_kernel k[RT_DTYPES];
};
int rt_unary_infer(const struct rt_unary *u, const struct hwrt_tensor *const *in,
		   struct hwrt_tensor *const *out, struct rt_err *e);
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
