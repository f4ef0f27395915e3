/* Sparse mat-vec, spectral radius, echo-state and CfC steps against
 * double references written here. */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "kernels/f32-rnn/spmv.h"
#include "tests/unit/kernels/harness.h"

/* A random sparse n x m matrix with about density*m entries per row, plus
 * its dense copy. */
struct sp {
	struct hwk_csr a;
	uint32_t *rp, *col;
	float *val, *dense;
};

static void make_sparse(struct sp *s, size_t n, size_t m, double density, unsigned long long seed)
{
	s->rp = malloc((n + 1) * 4);
	s->col = malloc(n * m * 4 + 4);
	s->val = malloc(n * m * 4 + 4);
	s->dense = calloc(n * m, 4);
	unsigned long long st = seed * 2654435761ull + 1;
	size_t k = 0;
	s->rp[0] = 0;
	for (size_t r = 0; r < n; r++) {
		for (size_t c = 0; c < m; c++)
			if (ht_randf(&st, 0, 1) < density) {
				s->col[k] = (uint32_t)c;
				s->val[k] = ht_randf(&st, -1, 1);
				s->dense[r * m + c] = s->val[k];
				k++;
			}
		s->rp[r + 1] = (uint32_t)k;
	}
	s->a = (struct hwk_csr){ n, m, s->rp, s->col, s->val };
}

static void free_sparse(struct sp *s)
{
	free(s->rp);
	free(s->col);
	free(s->val);
	free(s->dense);
}

static void spmv(void)
{
	static const size_t sizes[][2] = { { 1, 1 }, { 5, 7 }, { 64, 64 }, { 300, 17 }, { 17, 1000 } };
	for (size_t t = 0; t < 5; t++) {
		size_t n = sizes[t][0], m = sizes[t][1];
		struct sp s;
		make_sparse(&s, n, m, t == 4 ? 0.3 : 0.2, t + 1);
		float *x = malloc(m * 4), *y = malloc(n * 4), *ys = malloc(n * 4), *y3 = malloc(n * 4);
		ht_fill(x, m, t, -1, 1);
		CHECK(hwk_f32_spmv(&s.a, x, y, NULL) == 0, "rc");
		for (size_t r = 0; r < n; r++) {
			double ref = 0, mag = 0;
			for (size_t c = 0; c < m; c++) {
				ref += (double)s.dense[r * m + c] * x[c];
				mag += fabs((double)s.dense[r * m + c] * x[c]);
			}
			/* float sums: bounded by nnz * 2^-23 of the magnitudes */
			CHECK(fabs(y[r] - ref) <= mag * m * 1.2e-7 + 1e-7, "%zux%zu row %zu: %g want %g", n,
			      m, r, y[r], ref);
		}
		/* Every variant sums the same way as scalar, and threads do not
		 * change it. */
		enum hwk_isa keep = hwk_isa_ceiling();
		hwk_set_isa_ceiling(HWK_ISA_SCALAR);
		hwk_f32_spmv(&s.a, x, ys, NULL);
		hwk_set_isa_ceiling(keep);
		struct hwk_pool *pool = hwk_pool_create(3);
		hwk_f32_spmv(&s.a, x, y3, hwk_pool_parallel(pool));
		hwk_pool_destroy(pool);
		CHECK(memcmp(y, ys, n * 4) == 0, "%zux%zu differs from scalar [%s]", n, m,
		      ht_variant(&hwk_op_f32_spmv));
		CHECK(memcmp(y, y3, n * 4) == 0, "%zux%zu differs with 3 threads", n, m);
		free(x);
		free(y);
		free(ys);
		free(y3);
		free_sparse(&s);
	}
	/* Malformed matrices are refused before anything is read out of range. */
	uint32_t rp[3] = { 0, 2, 1 }, col[2] = { 0, 9 };
	float val[2] = { 1, 1 }, x[3] = { 0 }, y[2];
	struct hwk_csr bad = { 2, 3, rp, col, val };
	CHECK(hwk_f32_spmv(&bad, x, y, NULL) == -EINVAL, "decreasing row_ptr");
	rp[2] = 2;
	CHECK(hwk_f32_spmv(&bad, x, y, NULL) == -EINVAL, "column out of range");
	col[1] = 2;
	CHECK(hwk_f32_spmv(&bad, x, y, NULL) == 0, "valid now");
}

static void spectral_radius(void)
{
	float rho;
	/* diag(0.5, -0.9, 0.3): 0.9 */
	float d[9] = { 0.5f, 0, 0, 0, -0.9f, 0, 0, 0, 0.3f };
	CHECK(hwk_spectral_radius(3, d, NULL, 500, 1e-6f, &rho) == 0 && fabsf(rho - 0.9f) < 1e-3f,
	      "diagonal: %g", rho);
	/* A rotation scaled by 0.95 (eigenvalues +-0.95i) beside 0.5: the
	 * dominant pair is complex, single-step ratios oscillate. */
	float r[9] = { 0, -0.95f, 0, 0.95f, 0, 0, 0, 0, 0.5f };
	CHECK(hwk_spectral_radius(3, r, NULL, 2000, 1e-6f, &rho) == 0 && fabsf(rho - 0.95f) < 5e-3f,
	      "complex pair: %g", rho);
	/* The same as CSR. */
	uint32_t rp[4] = { 0, 1, 2, 3 }, col[3] = { 1, 0, 2 };
	float val[3] = { -0.95f, 0.95f, 0.5f };
	struct hwk_csr cs = { 3, 3, rp, col, val };
	CHECK(hwk_spectral_radius(3, NULL, &cs, 2000, 1e-6f, &rho) == 0 && fabsf(rho - 0.95f) < 5e-3f,
	      "complex pair, sparse: %g", rho);
	/* Non-normal: upper triangular with 0.8 and 0.3 on the diagonal. */
	float u[4] = { 0.8f, 1.0f, 0, 0.3f };
	CHECK(hwk_spectral_radius(2, u, NULL, 4000, 1e-7f, &rho) == 0 && fabsf(rho - 0.8f) < 0.02f,
	      "non-normal: %g", rho);
	/* Nilpotent: radius 0. */
	float z[4] = { 0, 1, 0, 0 };
	CHECK(hwk_spectral_radius(2, z, NULL, 100, 1e-6f, &rho) == 0 && rho == 0, "nilpotent: %g", rho);
	float nan[1] = { NAN };
	CHECK(hwk_spectral_radius(1, nan, NULL, 100, 1e-6f, &rho) == -EINVAL, "NaN matrix");
	CHECK(hwk_spectral_radius(0, d, NULL, 100, 1e-6f, &rho) == -EINVAL, "n 0");
}

static double dtanh(double x) { return tanh(x); }
static double dsig(double x) { return 1 / (1 + exp(-x)); }

static void esn(void)
{
	const size_t n_in = 5, n = 40, batch = 3;
	const float leak = 0.3f;
	float *w_in = malloc(n * n_in * 4), *u = malloc(batch * n_in * 4), *bias = malloc(n * 4);
	float *x0 = malloc(batch * n * 4), *x = malloc(batch * n * 4), *x3 = malloc(batch * n * 4);
	ht_fill(w_in, n * n_in, 1, -1, 1);
	ht_fill(u, batch * n_in, 2, -1, 1);
	ht_fill(bias, n, 3, -0.2f, 0.2f);
	ht_fill(x0, batch * n, 4, -1, 1);
	for (int sparse = 0; sparse < 2; sparse++) {
		struct sp s;
		make_sparse(&s, n, n, 0.1, 9);
		struct hwk_esn *e = hwk_esn_create(n_in, n, w_in, sparse ? NULL : s.dense,
						   sparse ? &s.a : NULL, bias, leak);
		CHECK(e != NULL, "create");
		if (!e) {
			free_sparse(&s);
			continue;
		}
		memcpy(x, x0, batch * n * 4);
		CHECK(hwk_esn_step(e, batch, u, n_in, x, n, NULL) == 0, "step");
		for (size_t b = 0; b < batch; b++)
			for (size_t i = 0; i < n; i++) {
				double pre = bias[i];
				for (size_t k = 0; k < n_in; k++)
					pre += (double)w_in[i * n_in + k] * u[b * n_in + k];
				for (size_t k = 0; k < n; k++)
					pre += (double)s.dense[i * n + k] * x0[b * n + k];
				double want = (1 - leak) * x0[b * n + i] + leak * dtanh(pre);
				/* float GEMM over 45 terms and a tanh within a few ulp */
				CHECK(fabs(x[b * n + i] - want) < 2e-6, "sparse %d (%zu,%zu): %.9g want %.9g",
				      sparse, b, i, x[b * n + i], want);
			}
		struct hwk_pool *pool = hwk_pool_create(3);
		memcpy(x3, x0, batch * n * 4);
		hwk_esn_step(e, batch, u, n_in, x3, n, hwk_pool_parallel(pool));
		hwk_pool_destroy(pool);
		CHECK(memcmp(x, x3, batch * n * 4) == 0, "sparse %d: 3 threads differ", sparse);
		hwk_esn_destroy(e);
		free_sparse(&s);
	}
	CHECK(hwk_esn_create(n_in, n, w_in, NULL, NULL, bias, leak) == NULL, "no W");
	CHECK(hwk_esn_create(n_in, n, w_in, x0, NULL, bias, 1.5f) == NULL, "leak > 1");
	free(w_in);
	free(u);
	free(bias);
	free(x0);
	free(x);
	free(x3);
}

static void cfc(void)
{
	const size_t n_in = 3, n_h = 8, batch = 2;
	for (size_t n_bb = 0; n_bb <= 16; n_bb += 16) {
		size_t n_z = n_bb ? n_bb : n_in + n_h;
		float *w_bb = malloc(16 * (n_in + n_h) * 4), b_bb[16], *head[4], hb[4][8];
		ht_fill(w_bb, 16 * (n_in + n_h), 5, -0.5f, 0.5f);
		ht_fill(b_bb, 16, 6, -0.1f, 0.1f);
		for (int i = 0; i < 4; i++) {
			head[i] = malloc(n_h * n_z * 4);
			ht_fill(head[i], n_h * n_z, 10 + i, -0.5f, 0.5f);
			ht_fill(hb[i], n_h, 20 + i, -0.1f, 0.1f);
		}
		struct hwk_cfc_weights w = { n_in, n_h, n_bb, HWK_CFC_LECUN_TANH, w_bb, b_bb,
					     head[0], hb[0], head[1], hb[1], head[2], hb[2],
					     head[3], hb[3] };
		struct hwk_cfc *c = hwk_cfc_create(&w);
		CHECK(c != NULL, "create");
		float u[6], h0[16], h[16], dt[2] = { 1.0f, 0.25f };
		ht_fill(u, 6, 30, -1, 1);
		ht_fill(h0, 16, 31, -1, 1);
		memcpy(h, h0, sizeof(h));
		CHECK(c && hwk_cfc_step(c, batch, u, n_in, h, n_h, dt, NULL) == 0, "step");
		for (size_t b = 0; b < batch; b++) {
			double z[32], in[32];
			for (size_t k = 0; k < n_in; k++)
				in[k] = u[b * n_in + k];
			for (size_t k = 0; k < n_h; k++)
				in[n_in + k] = h0[b * n_h + k];
			if (n_bb)
				for (size_t j = 0; j < n_bb; j++) {
					double s = b_bb[j];
					for (size_t k = 0; k < n_in + n_h; k++)
						s += (double)w_bb[j * (n_in + n_h) + k] * in[k];
					z[j] = 1.7159 * tanh(0.666 * s);
				}
			else
				memcpy(z, in, sizeof(double) * n_z);
			for (size_t i = 0; i < n_h; i++) {
				double a[4];
				for (int q = 0; q < 4; q++) {
					a[q] = hb[q][i];
					for (size_t k = 0; k < n_z; k++)
						a[q] += (double)head[q][i * n_z + k] * z[k];
				}
				double g = dsig(a[2] * dt[b] + a[3]);
				double want = tanh(a[0]) * (1 - g) + g * tanh(a[1]);
				/* a few float GEMMs and activations: 1e-5 absolute */
				CHECK(fabs(h[b * n_h + i] - want) < 1e-5, "bb %zu (%zu,%zu): %.8g want %.8g",
				      n_bb, b, i, h[b * n_h + i], want);
			}
		}
		hwk_cfc_destroy(c);
		free(w_bb);
		for (int i = 0; i < 4; i++)
			free(head[i]);
	}
	struct hwk_cfc_weights none = { 0 };
	CHECK(hwk_cfc_create(&none) == NULL, "empty weights");
}

int main(void)
{
	static const struct ht_test tests[] = {
		{ "spmv", spmv },
		{ "spectral_radius", spectral_radius },
		{ "esn", esn },
		{ "cfc", cfc },
	};
	return ht_run("rnn", tests, sizeof(tests) / sizeof(tests[0]));
}
