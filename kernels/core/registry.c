#include "kernels/core/registry.h"

/* NULL-terminated; one line per op. */
static struct hwk_op *const all_ops[] = {
	/* f32-gemm: */
	/* int8: */
	/* conv-pool: */
	&hwk_op_f32_window,
	/* qb4: */
	&hwk_op_f32_qb4_gemm,
	/* cvt: */
	&hwk_op_f32_cvt,
	/* eltwise: */
	NULL,
};

size_t hwk_ops(struct hwk_op *const **ops)
{
	*ops = all_ops;
	return sizeof(all_ops) / sizeof(all_ops[0]) - 1;
}
