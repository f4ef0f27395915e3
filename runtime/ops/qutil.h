/* Shared machinery of the quantized operators: zero points and scales,
 * weights packed for libhwk's u8 x s8 GEMM whatever their signedness, the
 * batched integer MatMul and the integer convolution both QLinear ops
 * build on, and requantization. */
#ifndef HWRT_OPS_QUTIL_H
#define HWRT_OPS_QUTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/op.h"
#include "runtime/tensor.h"

static inline bool rt_q_is8(enum hwrt_dtype t)
{
	return t == HWRT_UINT8 || t == HWRT_INT8;
}

/* Element i of a u8/s8/s32 tensor as int32; 0 when t is NULL. */
int32_t rt_q_int_at(const struct hwrt_tensor *t, int64_t i);

/* saturate(rne(y) + zp) to dt's range (u8 or s8); NaN gives zp. */
int32_t rt_q_round_sat(float y, int32_t zp, enum hwrt_dtype dt);

/* Packed s8 weights: count matrices of K x N (or N x K with trans). */
struct rt_qw {
	size_t count;
	struct hwk_qs8_packed **p;
};
/* Packs count matrices of dtype dt (u8 or s8): matrix i starts at element
 * i * stride of b; its zero points are zp (rt_q_int_at order) from element
 * i * zp_stride, zp_count of them (0, 1 or n). u8 weights become s8 with
 * the zero point moved by 128, which leaves b - zp unchanged. */
int rt_qw_pack(struct rt_qw *w, enum hwrt_dtype dt, const void *b, size_t count, size_t stride,
	       size_t k, size_t n, bool trans, const struct hwrt_tensor *zp, size_t zp_count,
	       size_t zp_stride, struct rt_err *e);
void rt_qw_free(struct rt_qw *w);

/* MatMul shapes (numpy.matmul: 1-D operands promoted, batch broadcast). */
struct rt_qmm {
	int64_t m, k, n, batch;
	int brank;                                  /* broadcast batch rank */
	int64_t ob[HWRT_MAX_RANK], ab[HWRT_MAX_RANK], bb[HWRT_MAX_RANK];
	int64_t a_batches, b_batches;
	/* Zero point and scale addressing: per tensor (count 1, stride 0), per
	 * row of a / column of b, shared by the batches (stride 0) or one set
	 * per batch matrix (stride m or n). */
	int64_t azp_count, azp_stride, bzp_count, bzp_stride;
};
/* Shapes of a and b into q and the output shape into out (dtype odt). */
int rt_qmm_shape(const struct hwrt_tensor *a, const struct hwrt_tensor *b, struct rt_qmm *q,
		 struct hwrt_tensor *out, enum hwrt_dtype odt, struct rt_err *e);
/* Validates a per-tensor/row (rows true, against a) or per-tensor/column
 * parameter (against b) tensor; sets its count and stride. */
int rt_qmm_param(const char *what, const struct hwrt_tensor *p, const struct hwrt_tensor *mat,
		 const struct rt_qmm *q, bool rows, int64_t *count, int64_t *stride,
		 struct rt_err *e);
/* The batch index of a and of b for output batch ob. */
void rt_qmm_batch(const struct rt_qmm *q, int64_t ob, int64_t *ai, int64_t *bi);
/* Packs b for the GEMM (b_batches matrices with their zero points). */
int rt_qmm_pack(const struct rt_qmm *q, const struct hwrt_tensor *b,
		const struct hwrt_tensor *bzp, struct rt_qw *w, struct rt_err *e);
/* c (batch x m x n int32) = (a - azp)(b - bzp) with b packed in w. */
int rt_qmm_s32(const struct rt_qmm *q, const struct hwrt_tensor *a,
	       const struct hwrt_tensor *azp, const struct rt_qw *w, int32_t *c,
	       const struct hwk_parallel *par, struct rt_err *e);
/* Packs constant b (and b_zero_point, absent or constant) at prepare into
 * n->state; leaves it NULL otherwise. */
int rt_qmm_prepare(struct rt_node *n, const struct rt_graph *g, int ib, int ibzp,
		   struct rt_err *e);
void rt_qw_release(struct rt_node *n);

/* Convolution geometry from the attributes and the x, w shapes. */
struct rt_qconv {
	int sp;                         /* spatial rank */
	int64_t nb, c, m, group, cg, mg;
	int64_t in[HWRT_MAX_RANK], ks[HWRT_MAX_RANK], out[HWRT_MAX_RANK];
	int64_t stride[HWRT_MAX_RANK], dil[HWRT_MAX_RANK], pad[HWRT_MAX_RANK];
	int64_t p_out, k_sz, kg;        /* output positions, kernel size, cg * k_sz */
};
int rt_qconv_check(const struct rt_node *n, struct rt_err *e);
int rt_qconv_shape(const struct rt_node *n, const struct hwrt_tensor *x,
		   const struct hwrt_tensor *w, struct rt_qconv *q, struct hwrt_tensor *out,
		   enum hwrt_dtype odt, struct rt_err *e);
/* Validates a weight zero point or scale: scalar or one per output channel. */
int rt_qconv_wparam(const char *what, const struct hwrt_tensor *p, int64_t m, struct rt_err *e);
/* Packs w per group (N x K, transposed) with its zero points. */
int rt_qconv_pack(const struct rt_qconv *q, const struct hwrt_tensor *w,
		  const struct hwrt_tensor *wzp, struct rt_qw *pw, struct rt_err *e);
/* y (n x m x positions, int32) = conv(x - xzp, w - wzp), w packed in pw. */
int rt_qconv_s32(const struct rt_qconv *q, const struct hwrt_tensor *x,
		 const struct hwrt_tensor *xzp, const struct rt_qw *pw, int32_t *y,
		 const struct hwk_parallel *par, struct rt_err *e);
/* Prepacks constant w (and its zero point) into n->state. */
int rt_qconv_prepare(struct rt_node *n, const struct rt_graph *g, int iw, int iwzp,
		     struct rt_err *e);

/* Fails unless t is absent (NULL) or holds exactly one element. */
int rt_q_scalar_input(const char *what, const struct hwrt_tensor *t, struct rt_err *e);

/* QuantizeLinear / DequantizeLinear layout: x seen as outer x ch x inner
 * with one scale and zero point per ch (ch 1: per tensor). */
struct rt_qaxis {
	int64_t outer, ch, inner;
};
/* Inputs and outputs, and axis only from opset 13 (per tensor before). */
int rt_qaxis_check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e);
/* Validates scale (float) and zp against x and the axis attribute; pfx
 * names them ("y" for y_scale...). */
int rt_qaxis_layout(const struct rt_node *n, const struct hwrt_tensor *x,
		    const struct hwrt_tensor *scale, const struct hwrt_tensor *zp, const char *pfx,
		    struct rt_qaxis *a, struct rt_err *e);
int rt_qaxis_quantize(const struct rt_qaxis *a, const struct hwrt_tensor *x,
		      const struct hwrt_tensor *scale, const struct hwrt_tensor *zp,
		      struct hwrt_tensor *y, const struct hwk_parallel *par, struct rt_err *e);
int rt_qaxis_dequantize(const struct rt_qaxis *a, const struct hwrt_tensor *x,
			const struct hwrt_tensor *scale, const struct hwrt_tensor *zp,
			struct hwrt_tensor *y, const struct hwk_parallel *par, struct rt_err *e);

#endif
