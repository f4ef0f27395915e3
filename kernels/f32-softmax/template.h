/* Softmax and log-softmax of one row, for one ISA over the primitives of
 * kernels/vmath/<isa>.h (the including file defines SM_TILE and SM_ISA).
 * Three passes: the row max; exp(x - max) and its sum (two accumulators);
 * the output. Tails load -inf, which adds exp(-inf) = 0. */
#include <math.h>

#include "kernels/f32-softmax/softmax.h"
#include "kernels/vmath/vmath.h"

#define SM_CAT_(a, b, c, d) a##b##c##d
#define SM_CAT(a, b, c, d) SM_CAT_(a, b, c, d)
#define SM_NAME(op) SM_CAT(hwk_f32_, op, _ukernel_, SM_CAT(SM_TILE, __, SM_ISA, ))
#define SM_TABLE SM_CAT(hwk_f32_softmax_ukernels__, SM_ISA, , )

static inline float sm_rowmax(size_t n, const float *x)
{
	const size_t L = hv_lanes();
	hv m0 = hv_set1(-INFINITY), m1 = m0;
	size_t i = 0;
	for (; i + 2 * L <= n; i += 2 * L) {
		m0 = hv_max(m0, hv_load(x + i));
		m1 = hv_max(m1, hv_load(x + i + L));
	}
	for (; i + L <= n; i += L)
		m0 = hv_max(m0, hv_load(x + i));
	if (i < n)
		m0 = hv_max(m0, hv_loadn(x + i, n - i, -INFINITY));
	return hv_reduce_max(hv_max(m0, m1));
}

/* sum(exp(x - mx)); stores the exps to y when y is not NULL. */
static inline float sm_sumexp(size_t n, const float *x, float mx, float *y)
{
	const size_t L = hv_lanes();
	const hv vm = hv_set1(mx);
	hv s0 = hv_set1(0.0f), s1 = s0;
	size_t i = 0;
	for (; i + 2 * L <= n; i += 2 * L) {
		hv e0 = hv_exp(hv_sub(hv_load(x + i), vm));
		hv e1 = hv_exp(hv_sub(hv_load(x + i + L), vm));
		if (y) {
			hv_store(y + i, e0);
			hv_store(y + i + L, e1);
		}
		s0 = hv_add(s0, e0);
		s1 = hv_add(s1, e1);
	}
	for (; i + L <= n; i += L) {
		hv e = hv_exp(hv_sub(hv_load(x + i), vm));
		if (y)
			hv_store(y + i, e);
		s0 = hv_add(s0, e);
	}
	if (i < n) {
		hv e = hv_exp(hv_sub(hv_loadn(x + i, n - i, -INFINITY), vm));
		if (y)
			hv_storen(y + i, e, n - i);
		s1 = hv_add(s1, e);
	}
	return hv_reduce_add(hv_add(s0, s1));
}

void SM_NAME(softmax)(size_t n, const float *x, float *y);
void SM_NAME(softmax)(size_t n, const float *x, float *y)
{
	const size_t L = hv_lanes();
	float mx = sm_rowmax(n, x);
	const hv r = hv_set1(1.0f / sm_sumexp(n, x, mx, y));
	size_t i = 0;
	for (; i + 2 * L <= n; i += 2 * L) {
		hv_store(y + i, hv_mul(hv_load(y + i), r));
		hv_store(y + i + L, hv_mul(hv_load(y + i + L), r));
	}
	for (; i + L <= n; i += L)
		hv_store(y + i, hv_mul(hv_load(y + i), r));
	if (i < n)
		hv_storen(y + i, hv_mul(hv_loadn(y + i, n - i, 0.0f), r), n - i);
}

void SM_NAME(logsoftmax)(size_t n, const float *x, float *y);
void SM_NAME(logsoftmax)(size_t n, const float *x, float *y)
{
	const size_t L = hv_lanes();
	float mx = sm_rowmax(n, x);
	const hv vm = hv_set1(mx);
	const hv ls = hv_set1(logf(sm_sumexp(n, x, mx, NULL)));
	size_t i = 0;
	for (; i + 2 * L <= n; i += 2 * L) {
		hv_store(y + i, hv_sub(hv_sub(hv_load(x + i), vm), ls));
		hv_store(y + i + L, hv_sub(hv_sub(hv_load(x + i + L), vm), ls));
	}
	for (; i + L <= n; i += L)
		hv_store(y + i, hv_sub(hv_sub(hv_load(x + i), vm), ls));
	if (i < n)
		hv_storen(y + i, hv_sub(hv_sub(hv_loadn(x + i, n - i, 0.0f), vm), ls), n - i);
}

const struct hwk_f32_softmax_ukernels SM_TABLE = { SM_NAME(softmax), SM_NAME(logsoftmax) };
