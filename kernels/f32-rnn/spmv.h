/* CSR mat-vec internals: the per-ISA row kernel. */
#ifndef HWK_F32_SPMV_H
#define HWK_F32_SPMV_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/hwk.h"

/* y[r] = sum of val[k] * x[col[k]] over row r's entries, in order. */
typedef float (*spmv_row_fn)(size_t nnz, const uint32_t *col, const float *val, const float *x);

float hwk_f32_spmv_ukernel_x1__scalar(size_t nnz, const uint32_t *col, const float *val,
				      const float *x);
#if defined(__x86_64__)
float hwk_f32_spmv_ukernel_x16__avx512f(size_t nnz, const uint32_t *col, const float *val,
					const float *x);
#endif

extern struct hwk_op hwk_op_f32_spmv;

#endif
