#include "kernels/core/registry.h"

/* NULL-terminated; one line per op. */
static struct hwk_op *const all_ops[] = {
	/* f32-gemm: */
	&hwk_op_f32_gemm,
	/* rpw-gemm: */
	&hwk_op_bf16_gemm,
	&hwk_op_rpw_decode,
	/* int8: */
	&hwk_op_q8_cvt,
	&hwk_op_qs8_gemm,
	/* conv-pool: */
	&hwk_op_f32_window,
	/* conv: */
	&hwk_op_f32_conv,
	/* qb4: */
	&hwk_op_f32_qb4_gemm,
	/* cvt: */
	&hwk_op_f32_cvt,
	/* rnn: */
	&hwk_op_f32_spmv,
	/* attention: */
	&hwk_op_f32_attention,
	/* eltwise: */
	&hwk_op_f32_relu,
	&hwk_op_f32_leakyrelu,
	&hwk_op_f32_gelu,
	&hwk_op_f32_gelu_tanh,
	&hwk_op_f32_silu,
	&hwk_op_f32_sigmoid,
	&hwk_op_f32_tanh,
	&hwk_op_f32_hardswish,
	&hwk_op_f32_hardsigmoid,
	&hwk_op_f32_clip,
	&hwk_op_f32_exp,
	&hwk_op_f32_softmax,
	&hwk_op_f32_logsoftmax,
	&hwk_op_f32_layernorm,
	&hwk_op_f32_rmsnorm,
	&hwk_op_f32_batchnorm,
	NULL,
};

size_t hwk_ops(struct hwk_op *const **ops)
{
	*ops = all_ops;
	return sizeof(all_ops) / sizeof(all_ops[0]) - 1;
}
