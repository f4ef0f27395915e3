/* Reduced-precision weights: the model's precision option applied to the
 * constant weights of MatMul, Gemm (bf16, int8, int4) and Conv (int8) at
 * load, and the products that use them. Activations stay float32 between
 * nodes; int8 nodes quantize their input to u8 as they run (per row, or
 * with the static range calibration found). */
#ifndef HWRT_OPS_LOWP_H
#define HWRT_OPS_LOWP_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/ops/qutil.h"

/* The precision n runs at under the model's options: fp32 when the model
 * is fp32 or a keep_fp32 pattern names n. */
enum hwrt_precision rt_lowp_choose(const struct rt_node *n, const struct rt_graph *g);

/* u8 scale and zero point covering [min(lo, 0), max(hi, 0)], as
 * DynamicQuantizeLinear computes them. */
void rt_lowp_u8_params(float lo, float hi, float *scale, uint8_t *zp);

/* Symmetric s8 per row of w (rows x cols): scale[r] = max |w[r]| / 127
 * (1 for an all-zero row). */
int rt_lowp_s8_rows(size_t rows, size_t cols, const float *w, int8_t *q, float *scale,
		    struct rt_err *e);

/* --- MatMul and Gemm: y (m x n) = a (m x k) * W --- */
struct rt_lowp_gemm {
	enum hwrt_precision prec;
	size_t k, n;
	struct hwk_rpw_packed_b *bf16;
	struct hwk_qs8_packed *s8;
	struct hwk_qb4_weights q4;  /* int4: owns q, scale, min */
	float *bias;                /* n floats packed with the weights, or NULL */
};

/* Packs W (k x n row-major with leading dimension ldw, or n x k with trans)
 * scaled by alpha at precision p, with a constant bias (n floats, or NULL)
 * that the GEMM then adds. Returns 0 with *out set, 1 when this precision
 * does not apply to the shape (int4 needs k % 32 == 0; *out NULL), -1 on
 * error. */
int rt_lowp_gemm_pack(enum hwrt_precision p, size_t k, size_t n, const float *w, size_t ldw,
		      bool trans, float alpha, const float *bias, struct rt_lowp_gemm **out,
		      struct rt_err *e);
void rt_lowp_gemm_free(struct rt_lowp_gemm *w);
/* y (ldy n) = a (lda) * W + packed bias + bias (n floats or NULL), then
 * n's fused activation. int8 quantizes a with n's calibrated range when it has one,
 * else per row. */
int rt_lowp_gemm_run(const struct rt_lowp_gemm *w, const struct rt_node *n, size_t m,
		     const float *a, size_t lda, const float *bias, float *y,
		     const struct hwk_parallel *par, struct rt_err *e);

/* --- Conv: int8 with per-output-channel weights --- */
struct rt_lowp_conv {
	struct rt_qw pw;      /* s8 weights, per group */
	float *w_scale;       /* one per output channel */
	int64_t m, group;
};
/* w is c_out x c_in/group x k...; 0 with *out set, -1 on error. */
int rt_lowp_conv_pack(const struct hwrt_tensor *w, int64_t group, struct rt_lowp_conv **out,
		      struct rt_err *e);
void rt_lowp_conv_free(struct rt_lowp_conv *c);
/* y = conv(x, W) + bias (c_out floats or NULL), then n's activation. */
int rt_lowp_conv_run(const struct rt_lowp_conv *c, const struct rt_node *n,
		     const struct hwrt_tensor *x, const struct hwrt_tensor *w,
		     const float *bias, struct hwrt_tensor *y, const struct hwk_parallel *par,
		     struct rt_err *e);

/* Whether n runs on its reduced-precision weights now: not in calibration's
 * fp32 reference runs, which instead record the range of n's input a. */
bool rt_lowp_use(const struct rt_node *n, const struct rt_ctx *x, const float *a, size_t count);
/* n's fused activation over y, in place, with the vector kernels. */
int rt_lowp_act(const struct rt_node *n, float *y, size_t count, const struct hwk_parallel *par,
		struct rt_err *e);

#endif
