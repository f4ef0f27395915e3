/* CSR mat-vec and the spectral radius by power iteration. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "kernels/f32-rnn/spmv.h"

static const struct hwk_variant variants[] = {
#if defined(__x86_64__)
	{ HWK_ISA_AVX512F, "x16-avx512f", (const void *)hwk_f32_spmv_ukernel_x16__avx512f },
#endif
	{ HWK_ISA_SCALAR, "x1-scalar", (const void *)hwk_f32_spmv_ukernel_x1__scalar },
};

struct hwk_op hwk_op_f32_spmv = {
	"f32-spmv", variants, sizeof(variants) / sizeof(variants[0]), NULL,
};

/* Structure check, once per call: bad input must not read out of bounds. */
static int csr_ok(const struct hwk_csr *a)
{
	if (!a || !a->row_ptr || a->cols > INT32_MAX || a->row_ptr[0] != 0)
		return 0;
	size_t nnz = a->row_ptr[a->rows];
	if (nnz && (!a->col || !a->val))
		return 0;
	for (size_t r = 0; r < a->rows; r++)
		if (a->row_ptr[r + 1] < a->row_ptr[r])
			return 0;
	for (size_t k = 0; k < nnz; k++)
		if (a->col[k] >= a->cols)
			return 0;
	return 1;
}

struct spmv_job {
	const struct hwk_csr *a;
	const float *x;
	float *y;
	size_t per;
	spmv_row_fn row;
};

static void spmv_task(void *ctx, size_t t)
{
	const struct spmv_job *j = ctx;
	size_t r0 = t * j->per, r1 = r0 + j->per < j->a->rows ? r0 + j->per : j->a->rows;
	for (size_t r = r0; r < r1; r++) {
		size_t k0 = j->a->row_ptr[r], k1 = j->a->row_ptr[r + 1];
		j->y[r] = j->row(k1 - k0, j->a->col + k0, j->a->val + k0, j->x);
	}
}

static void spmv_run(const struct hwk_csr *a, const float *x, float *y,
		     const struct hwk_parallel *par)
{
	size_t threads = hwk_parallel_threads(par);
	struct spmv_job j = { a, x, y, 0, (spmv_row_fn)hwk_op_variant(&hwk_op_f32_spmv)->impl };
	j.per = threads > 1 ? (a->rows + threads * 4 - 1) / (threads * 4) : a->rows;
	if (j.per == 0)
		return;
	hwk_parallel_for(par, (a->rows + j.per - 1) / j.per, spmv_task, &j);
}

int hwk_f32_spmv(const struct hwk_csr *a, const float *x, float *y, const struct hwk_parallel *par)
{
	if (!csr_ok(a) || (a->rows && !y) || (a->cols && !x))
		return -EINVAL;
	spmv_run(a, x, y, par);
	return 0;
}

static void matvec(size_t n, const float *w, const struct hwk_csr *ws, const float *v, float *out)
{
	if (ws) {
		spmv_run(ws, v, out, NULL);
		return;
	}
	for (size_t r = 0; r < n; r++) {
		double s = 0;
		for (size_t c = 0; c < n; c++)
			s += (double)w[r * n + c] * v[c];
		out[r] = (float)s;
	}
}

int hwk_spectral_radius(size_t n, const float *w, const struct hwk_csr *ws, unsigned max_iter,
			float tol, float *rho)
{
	if (!rho || n == 0 || (!w && !ws) || (ws && (!csr_ok(ws) || ws->rows != n || ws->cols != n)) ||
	    max_iter < 2 || !(tol > 0))
		return -EINVAL;
	float *v = malloc(n * sizeof(float)), *u = malloc(n * sizeof(float));
	double *logs = malloc(max_iter * sizeof(double));
	if (!v || !u || !logs) {
		free(v);
		free(u);
		free(logs);
		return -ENOMEM;
	}
	/* A fixed start with every component nonzero: no eigenvector is missed. */
	for (size_t i = 0; i < n; i++)
		v[i] = 1.0f + 0.37f * (float)((i * 7919) % 13);
	double norm = 0;
	for (size_t i = 0; i < n; i++)
		norm += (double)v[i] * v[i];
	for (size_t i = 0; i < n; i++)
		v[i] = (float)(v[i] / sqrt(norm));

	double est = 0, prev[16] = { 0 };
	unsigned it;
	for (it = 0; it < max_iter; it++) {
		matvec(n, w, ws, v, u);
		double s = 0;
		for (size_t i = 0; i < n; i++)
			s += (double)u[i] * u[i];
		s = sqrt(s);
		if (!(s > 0) || !isfinite(s)) {
			/* Nilpotent (or zero) part reached: the radius is 0, or the
			 * matrix holds NaN/inf. */
			est = isfinite(s) ? 0 : NAN;
			break;
		}
		logs[it] = log(s);
		for (size_t i = 0; i < n; i++)
			v[i] = (float)(u[i] / s);
		unsigned from = it / 2, cnt = it - from + 1;
		double sum = 0;
		for (unsigned k = from; k <= it; k++)
			sum += logs[k];
		est = exp(sum / cnt);
		if (it >= 32 && fabs(est - prev[it % 16]) <= tol * est)
			break;
		prev[it % 16] = est;
	}
	free(v);
	free(u);
	free(logs);
	if (isnan(est))
		return -EINVAL;
	*rho = (float)est;
	return 0;
}
