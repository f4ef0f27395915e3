/* Echo-state network step: two GEMMs (input and recurrent, or a CSR
 * mat-vec for a sparse reservoir), tanh, and the leaky update. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/hwk.h"

struct hwk_esn {
	size_t n_in, n_res;
	float leak;
	struct hwk_f32_packed_b *w_in_t; /* op(B) = W_in^T: n_in x n_res */
	struct hwk_f32_packed_b *w_t;    /* dense W^T, or NULL */
	struct hwk_csr ws;               /* sparse W (copied), when w_t is NULL */
	uint32_t *row_ptr, *col;
	float *val;
	float *bias;
};

void hwk_esn_destroy(struct hwk_esn *e)
{
	if (!e)
		return;
	hwk_f32_gemm_packed_b_free(e->w_in_t);
	hwk_f32_gemm_packed_b_free(e->w_t);
	free(e->row_ptr);
	free(e->col);
	free(e->val);
	free(e->bias);
	free(e);
}

struct hwk_esn *hwk_esn_create(size_t n_in, size_t n_res, const float *w_in, const float *w,
			       const struct hwk_csr *w_sparse, const float *bias, float leak)
{
	if (n_in == 0 || n_res == 0 || !w_in || (!w == !w_sparse) || !(leak > 0 && leak <= 1))
		return errno = EINVAL, NULL;
	if (w_sparse && (w_sparse->rows != n_res || w_sparse->cols != n_res))
		return errno = EINVAL, NULL;
	struct hwk_esn *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->n_in = n_in;
	e->n_res = n_res;
	e->leak = leak;
	e->bias = calloc(n_res, sizeof(float));
	e->w_in_t = hwk_f32_gemm_pack_b(n_in, n_res, w_in, n_in, true);
	if (!e->bias || !e->w_in_t)
		goto fail;
	if (bias)
		memcpy(e->bias, bias, n_res * sizeof(float));
	if (w) {
		e->w_t = hwk_f32_gemm_pack_b(n_res, n_res, w, n_res, true);
		if (!e->w_t)
			goto fail;
	} else {
		/* Keep a copy: the caller's arrays may go away after create. */
		size_t nnz = w_sparse->row_ptr ? w_sparse->row_ptr[n_res] : 0;
		e->row_ptr = malloc((n_res + 1) * sizeof(uint32_t));
		e->col = malloc((nnz ? nnz : 1) * sizeof(uint32_t));
		e->val = malloc((nnz ? nnz : 1) * sizeof(float));
		if (!e->row_ptr || !e->col || !e->val || !w_sparse->row_ptr)
			goto fail;
		memcpy(e->row_ptr, w_sparse->row_ptr, (n_res + 1) * sizeof(uint32_t));
		if (nnz) {
			memcpy(e->col, w_sparse->col, nnz * sizeof(uint32_t));
			memcpy(e->val, w_sparse->val, nnz * sizeof(float));
		}
		e->ws = (struct hwk_csr){ n_res, n_res, e->row_ptr, e->col, e->val };
		/* A mat-vec of zeros validates the structure once, up front. */
		float *x = calloc(n_res, sizeof(float)), *y = malloc(n_res * sizeof(float));
		int rc = x && y ? hwk_f32_spmv(&e->ws, x, y, NULL) : -ENOMEM;
		free(x);
		free(y);
		if (rc < 0) {
			errno = -rc;
			hwk_esn_destroy(e);
			return NULL;
		}
	}
	return e;
fail:
	hwk_esn_destroy(e);
	errno = ENOMEM;
	return NULL;
}

int hwk_esn_step(const struct hwk_esn *e, size_t batch, const float *u, size_t ldu, float *x,
		 size_t ldx, const struct hwk_parallel *par)
{
	if (!e || (batch && (!u || !x)) || ldu < e->n_in || ldx < e->n_res)
		return -EINVAL;
	if (batch == 0)
		return 0;
	size_t n = e->n_res;
	float *pre = hwk_alloc(batch * n * sizeof(float));
	if (!pre)
		return -ENOMEM;
	struct hwk_f32_gemm_epilogue bias = { .bias = e->bias };
	int rc;
	if (e->w_t) {
		/* pre = u W_in^T, then pre += x W^T + b */
		rc = hwk_f32_gemm_packed(false, batch, n, e->n_in, 1.0f, u, ldu, e->w_in_t, 0.0f, pre, n,
					 NULL, par);
		if (!rc)
			rc = hwk_f32_gemm_packed(false, batch, n, n, 1.0f, x, ldx, e->w_t, 1.0f, pre, n,
						 &bias, par);
	} else {
		/* pre = W x (one mat-vec per batch row), then += u W_in^T + b */
		rc = 0;
		for (size_t b = 0; b < batch && !rc; b++)
			rc = hwk_f32_spmv(&e->ws, x + b * ldx, pre + b * n, par);
		if (!rc)
			rc = hwk_f32_gemm_packed(false, batch, n, e->n_in, 1.0f, u, ldu, e->w_in_t, 1.0f,
						 pre, n, &bias, par);
	}
	if (!rc)
		rc = hwk_f32_vunary(HWK_VUNARY_TANH, NULL, batch * n, pre, pre, par);
	if (!rc) {
		float a = e->leak, keep = 1.0f - e->leak;
		for (size_t b = 0; b < batch; b++)
			for (size_t i = 0; i < n; i++)
				x[b * ldx + i] = keep * x[b * ldx + i] + a * pre[b * n + i];
	}
	hwk_free(pre);
	return rc;
}
