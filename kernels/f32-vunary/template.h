/* The element-wise ukernels of one ISA, over the primitives of
 * kernels/vmath/<isa>.h. The including file defines VU_TILE and VU_ISA
 * (name tokens) and includes its ISA's primitives first. Loops run four
 * vectors at a time, then one, then a masked tail that does the same
 * arithmetic, so results never depend on an element's position. */
#include "kernels/f32-vunary/vunary.h"
#include "kernels/vmath/vmath.h"

#define VU_CAT5_(a, b, c, d, e) a##b##c##d##e
#define VU_CAT5(a, b, c, d, e) VU_CAT5_(a, b, c, d, e)
#define VU_NAME(op) VU_CAT5(hwk_f32_v, op, _ukernel_, VU_TILE, VU_CAT5(__, VU_ISA, , , ))
#define VU_TABLE VU_CAT5(hwk_f32_vunary_ukernels__, VU_ISA, , , )

#define VU_DEFINE(op, F)                                                                 \
	void VU_NAME(op)(size_t n, const float *x, float *y, const struct hwk_vunary_params *prm); \
	void VU_NAME(op)(size_t n, const float *x, float *y, const struct hwk_vunary_params *prm) \
	{                                                                                \
		const struct hwk_vunary_params pp = *prm; /* no aliasing with y */       \
		const size_t L = hv_lanes();                                             \
		size_t i = 0;                                                            \
		for (; i + 4 * L <= n; i += 4 * L) {                                     \
			hv a = hv_load(x + i), b = hv_load(x + i + L);                   \
			hv c = hv_load(x + i + 2 * L), d = hv_load(x + i + 3 * L);       \
			a = F(a, &pp);                                                   \
			b = F(b, &pp);                                                   \
			c = F(c, &pp);                                                   \
			d = F(d, &pp);                                                   \
			hv_store(y + i, a);                                              \
			hv_store(y + i + L, b);                                          \
			hv_store(y + i + 2 * L, c);                                      \
			hv_store(y + i + 3 * L, d);                                      \
		}                                                                        \
		for (; i + L <= n; i += L)                                               \
			hv_store(y + i, F(hv_load(x + i), &pp));                         \
		if (i < n)                                                               \
			hv_storen(y + i, F(hv_loadn(x + i, n - i, 0.0f), &pp), n - i);    \
	}

static inline hv vu_relu(hv x, const struct hwk_vunary_params *p)
{
	(void)p;
	return hv_max(hv_set1(0.0f), x);
}
static inline hv vu_leaky(hv x, const struct hwk_vunary_params *p)
{
	return hv_sel(hv_lt(x, hv_set1(0.0f)), hv_mul(x, hv_set1(p->alpha)), x);
}
static inline hv vu_gelu(hv x, const struct hwk_vunary_params *p)
{
	(void)p;
	return hv_gelu(x);
}
static inline hv vu_gelu_tanh(hv x, const struct hwk_vunary_params *p)
{
	(void)p;
	return hv_gelu_tanh(x);
}
static inline hv vu_silu(hv x, const struct hwk_vunary_params *p)
{
	(void)p;
	return hv_silu(x);
}
static inline hv vu_sigmoid(hv x, const struct hwk_vunary_params *p)
{
	(void)p;
	return hv_sigmoid(x);
}
static inline hv vu_tanh(hv x, const struct hwk_vunary_params *p)
{
	(void)p;
	return hv_tanh(x);
}
/* x clamped below at -3 first, so that -inf gives -3 * 0 = -0; (x + 3)/6
 * rather than x/6 + 1/2 keeps the relative accuracy near x = -3. */
static inline hv vu_hardswish(hv x, const struct hwk_vunary_params *p)
{
	(void)p;
	hv xm = hv_max(hv_set1(-3.0f), x);
	hv h = hv_mul(hv_add(xm, hv_set1(3.0f)), hv_set1(1.0f / 6.0f));
	h = hv_max(hv_set1(0.0f), hv_min(hv_set1(1.0f), h));
	return hv_mul(xm, h);
}
static inline hv vu_hardsigmoid(hv x, const struct hwk_vunary_params *p)
{
	hv h = hv_fma(x, hv_set1(p->alpha), hv_set1(p->beta));
	return hv_max(hv_set1(0.0f), hv_min(hv_set1(1.0f), h));
}
static inline hv vu_clip(hv x, const struct hwk_vunary_params *p)
{
	return hv_min(hv_set1(p->max), hv_max(hv_set1(p->min), x));
}
static inline hv vu_exp(hv x, const struct hwk_vunary_params *p)
{
	(void)p;
	return hv_exp(x);
}

VU_DEFINE(relu, vu_relu)
VU_DEFINE(lrelu, vu_leaky)
VU_DEFINE(gelu, vu_gelu)
VU_DEFINE(gelutanh, vu_gelu_tanh)
VU_DEFINE(silu, vu_silu)
VU_DEFINE(sigmoid, vu_sigmoid)
VU_DEFINE(tanh, vu_tanh)
VU_DEFINE(hswish, vu_hardswish)
VU_DEFINE(hsigmoid, vu_hardsigmoid)
VU_DEFINE(clamp, vu_clip)
VU_DEFINE(exp, vu_exp)

const struct hwk_f32_vunary_ukernels VU_TABLE = { {
	[HWK_VUNARY_RELU] = VU_NAME(relu),
	[HWK_VUNARY_LEAKY_RELU] = VU_NAME(lrelu),
	[HWK_VUNARY_GELU] = VU_NAME(gelu),
	[HWK_VUNARY_GELU_TANH] = VU_NAME(gelutanh),
	[HWK_VUNARY_SILU] = VU_NAME(silu),
	[HWK_VUNARY_SIGMOID] = VU_NAME(sigmoid),
	[HWK_VUNARY_TANH] = VU_NAME(tanh),
	[HWK_VUNARY_HARDSWISH] = VU_NAME(hswish),
	[HWK_VUNARY_HARDSIGMOID] = VU_NAME(hsigmoid),
	[HWK_VUNARY_CLIP] = VU_NAME(clamp),
	[HWK_VUNARY_EXP] = VU_NAME(exp),
} };
