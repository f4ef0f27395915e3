/* Every op of libhwk, for dispatch and describe. An op's module defines its
 * `struct hwk_op hwk_op_<dtype>_<op>`; add it here and in registry.c. */
#ifndef HWK_CORE_REGISTRY_H
#define HWK_CORE_REGISTRY_H

#include "kernels/hwk.h"

/* Ops add `extern struct hwk_op hwk_op_<name>;` lines below, each family
 * in its own block. */
/* f32-gemm: */
extern struct hwk_op hwk_op_f32_gemm;
/* rpw-gemm: */
extern struct hwk_op hwk_op_bf16_gemm;
extern struct hwk_op hwk_op_rpw_decode;
/* int8: */
extern struct hwk_op hwk_op_q8_cvt;
extern struct hwk_op hwk_op_qs8_gemm;
/* conv-pool: */
extern struct hwk_op hwk_op_f32_window;
/* conv: */
extern struct hwk_op hwk_op_f32_conv;
/* qb4: */
extern struct hwk_op hwk_op_f32_qb4_gemm;
/* cvt: */
extern struct hwk_op hwk_op_f32_cvt;
/* rnn: */
extern struct hwk_op hwk_op_f32_spmv;
/* attention: */
extern struct hwk_op hwk_op_f32_attention;
/* eltwise: */
extern struct hwk_op hwk_op_f32_relu;
extern struct hwk_op hwk_op_f32_leakyrelu;
extern struct hwk_op hwk_op_f32_gelu;
extern struct hwk_op hwk_op_f32_gelu_tanh;
extern struct hwk_op hwk_op_f32_silu;
extern struct hwk_op hwk_op_f32_sigmoid;
extern struct hwk_op hwk_op_f32_tanh;
extern struct hwk_op hwk_op_f32_hardswish;
extern struct hwk_op hwk_op_f32_hardsigmoid;
extern struct hwk_op hwk_op_f32_clip;
extern struct hwk_op hwk_op_f32_exp;
extern struct hwk_op hwk_op_f32_softmax;
extern struct hwk_op hwk_op_f32_logsoftmax;
extern struct hwk_op hwk_op_f32_layernorm;
extern struct hwk_op hwk_op_f32_rmsnorm;
extern struct hwk_op hwk_op_f32_batchnorm;

#endif
