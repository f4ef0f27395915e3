/* Portable packing into k-major panels: dst[k*width + l] = src[l*ls + k*ks],
 * lanes past `lanes` zeroed. Variants with faster packing bring their own;
 * this one serves the scalar and Arm variants and odd shapes. */
#include <string.h>

#include "kernels/f32-gemm/gemm.h"

static void pack_panel(size_t lanes, size_t kc, const float *src, size_t ls, size_t ks, float *dst,
		       size_t width)
{
	if (ls == 1) {
		/* Each k step is a contiguous run of lanes: copy rows. */
		for (size_t k = 0; k < kc; k++) {
			float *d = dst + k * width;
			memcpy(d, src + k * ks, lanes * sizeof(float));
			for (size_t l = lanes; l < width; l++)
				d[l] = 0.0f;
		}
		return;
	}
	/* Each lane is a run along k: transpose in blocks of 8 k steps so the
	 * reads stay sequential within a lane. */
	for (size_t k0 = 0; k0 < kc; k0 += 8) {
		size_t kn = kc - k0 < 8 ? kc - k0 : 8;
		for (size_t l = 0; l < lanes; l++) {
			const float *s = src + l * ls + k0 * ks;
			for (size_t k = 0; k < kn; k++)
				dst[(k0 + k) * width + l] = s[k * ks];
		}
		for (size_t k = 0; k < kn; k++)
			for (size_t l = lanes; l < width; l++)
				dst[(k0 + k) * width + l] = 0.0f;
	}
}

void f32_gemm_pack(size_t lanes, size_t kc, const float *src, size_t ls, size_t ks, float *dst,
		   size_t width)
{
	for (size_t l0 = 0; l0 < lanes; l0 += width)
		pack_panel(lanes - l0 < width ? lanes - l0 : width, kc, src + l0 * ls, ls, ks,
			   dst + l0 * kc, width);
}
