/* y = fma(x, scale, bias) over a plane, for one ISA over the primitives of
 * kernels/vmath/<isa>.h (the including file defines BN_TILE, BN_ISA). */
#include "kernels/f32-batchnorm/batchnorm.h"

#define BN_CAT_(a, b, c, d) a##b##c##d
#define BN_CAT(a, b, c, d) BN_CAT_(a, b, c, d)
#define BN_NAME BN_CAT(hwk_f32_batchnorm_ukernel_, BN_TILE, __, BN_ISA)
#define BN_PTR BN_CAT(hwk_f32_batchnorm_ukernel__, BN_ISA, , )

void BN_NAME(size_t n, const float *x, float scale, float bias, float *y);
void BN_NAME(size_t n, const float *x, float scale, float bias, float *y)
{
	const size_t L = hv_lanes();
	const hv s = hv_set1(scale), b = hv_set1(bias);
	size_t i = 0;
	for (; i + 2 * L <= n; i += 2 * L) {
		hv v0 = hv_load(x + i), v1 = hv_load(x + i + L);
		hv_store(y + i, hv_fma(v0, s, b));
		hv_store(y + i + L, hv_fma(v1, s, b));
	}
	for (; i + L <= n; i += L)
		hv_store(y + i, hv_fma(hv_load(x + i), s, b));
	if (i < n)
		hv_storen(y + i, hv_fma(hv_loadn(x + i, n - i, 0.0f), s, b), n - i);
}

const hwk_f32_batchnorm_fn BN_PTR = BN_NAME;
