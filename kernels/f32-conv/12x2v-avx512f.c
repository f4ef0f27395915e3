/* AVX-512 direct convolution microkernel (contract in conv.h): up to 12
 * output channels, a panel of the GEMM's packed A, by up to 24/mr (at most
 * 6) vectors of 16 output pixels: 12x2, 8x3, 6x4, 4x6, so 24 zmm
 * accumulators whatever the panel height and a short last panel (16 = 12 +
 * 4 channels) keeps the FMA units as busy. Each k step loads one masked
 * vector per pixel vector straight from the input rows and broadcasts the
 * mr weights. Plus the copy of band rows (direct.c). */
#if !defined(__AVX512F__) || !defined(__AVX512DQ__) || !defined(__FMA__)
#error "12x2v-avx512f.c needs AVX-512 F/DQ and FMA (-mavx512f -mavx512dq -mfma)"
#endif

#include <immintrin.h>
#include <stdint.h>

#include "kernels/f32-conv/conv.h"
#include "kernels/vmath/avx512f.h"
#include "kernels/vmath/vmath.h"

#define MR 12
#define ACC 24
#define NV_MAX 6
#define NV(mr) ((mr) > 8 ? 2 : (mr) > 6 ? 3 : (mr) > 4 ? 4 : 6)

#define INLINE static inline __attribute__((always_inline))

static inline __mmask16 lane_mask(unsigned n)
{
	return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
}

/* Activations other than ReLU, and the clip: rare here, and large. */
static __attribute__((noinline)) __m512 act_other(__m512 r, const struct f32_conv_ep *ep)
{
	return hv_gemm_act(r, ep->act, ep->clip, ep->lo, ep->hi);
}

/* The tile body, instantiated per panel height mr and vector count nvt
 * (constants after inlining). Vectors past nv get mask 0: loaded as
 * zeros, never stored. */
INLINE void tile(const size_t mr, const size_t nvt, size_t nv, size_t kc, const float *a,
		 const ptrdiff_t *koff, const float *const *xs, const unsigned *n,
		 float *const *ys, size_t ldc, const struct f32_conv_ep *ep)
{
	const float *x[NV_MAX];
	float *y[NV_MAX];
	__mmask16 m[NV_MAX];
#pragma GCC unroll 6
	for (size_t v = 0; v < nvt; v++) {
		x[v] = v < nv ? xs[v] : xs[0];
		y[v] = v < nv ? ys[v] : ys[0];
		m[v] = v < nv ? lane_mask(n[v]) : 0;
	}
	__m512 acc[ACC];
#pragma GCC unroll 24
	for (size_t i = 0; i < mr * nvt; i++)
		acc[i] = _mm512_setzero_ps();
	for (size_t k = 0; k < kc; k++) {
		const ptrdiff_t o = koff[k];
		__m512 b[NV_MAX];
#pragma GCC unroll 6
		for (size_t v = 0; v < nvt; v++)
			b[v] = _mm512_maskz_loadu_ps(m[v], x[v] + o);
#pragma GCC unroll 12
		for (size_t i = 0; i < mr; i++) {
			__m512 ai = _mm512_set1_ps(a[i]);
#pragma GCC unroll 6
			for (size_t v = 0; v < nvt; v++)
				acc[i * nvt + v] = _mm512_fmadd_ps(ai, b[v], acc[i * nvt + v]);
		}
		a += MR;
	}
	/* The epilogue in passes, each a straight run over the tile (one
	 * copy of each step rather than one per combination of steps). */
	if (ep->accumulate) {
#pragma GCC unroll 12
		for (size_t i = 0; i < mr; i++)
#pragma GCC unroll 6
			for (size_t v = 0; v < nvt; v++)
				acc[i * nvt + v] = _mm512_add_ps(
					acc[i * nvt + v], _mm512_maskz_loadu_ps(m[v], y[v] + i * ldc));
	}
	if (ep->bias) {
		const float *bias = ep->bias;
#pragma GCC unroll 12
		for (size_t i = 0; i < mr; i++) {
			__m512 bi = _mm512_set1_ps(bias[i]);
#pragma GCC unroll 6
			for (size_t v = 0; v < nvt; v++)
				acc[i * nvt + v] = _mm512_add_ps(acc[i * nvt + v], bi);
		}
	}
	if (ep->act == HWK_F32_GEMM_ACT_RELU && !ep->clip) {
#pragma GCC unroll 24
		for (size_t i = 0; i < mr * nvt; i++) /* NaN stays NaN */
			acc[i] = _mm512_max_ps(_mm512_setzero_ps(), acc[i]);
	} else if (ep->act != HWK_F32_GEMM_ACT_NONE || ep->clip) {
#pragma GCC unroll 24
		for (size_t i = 0; i < mr * nvt; i++)
			acc[i] = act_other(acc[i], ep);
	}
#pragma GCC unroll 12
	for (size_t i = 0; i < mr; i++)
#pragma GCC unroll 6
		for (size_t v = 0; v < nvt; v++)
			_mm512_mask_storeu_ps(y[v] + i * ldc, m[v], acc[i * nvt + v]);
}

/* Full tiles (NV(mr) vectors) and tiles one vector short, which the driver
 * uses to split a row of vectors without waste; fewer vectors take the
 * full tile with the rest masked off. */
#define TILE(MR_)                                                                  \
	case MR_:                                                                  \
		if (NV(MR_) > 1 && nv == NV(MR_) - 1)                               \
			tile(MR_, NV(MR_) - 1, nv, kc, a, koff, xs, n, ys, ldc, ep); \
		else                                                               \
			tile(MR_, NV(MR_), nv, kc, a, koff, xs, n, ys, ldc, ep);     \
		break;

static void ukernel(size_t mr, size_t nv, size_t kc, const float *a, const ptrdiff_t *koff,
		    const float *const *xs, const unsigned *n, float *const *ys, size_t ldc,
		    const struct f32_conv_ep *ep)
{
	switch (mr) {
	TILE(12) TILE(11) TILE(10) TILE(9) TILE(8) TILE(7)
	TILE(6) TILE(5) TILE(4) TILE(3) TILE(2) TILE(1)
	}
}

/* Band rows are a few vectors long: masked moves, zeros included, with
 * each column chunk's masks formed once for all rows. */
static void rows(float *dst, size_t wq, size_t nrows, const float *src, size_t ld, size_t s,
		 size_t lo, size_t hi)
{
	/* Lane q reads src + (q - lo)*s; lanes q < lo are never read, so the
	 * base is formed as an address rather than a pointer before src. */
	uintptr_t base = (uintptr_t)src - lo * s * sizeof(float);
	__m512i idx = _mm512_mullo_epi32(
		_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
		_mm512_set1_epi32((int)s));
	for (size_t q0 = 0; q0 < wq; q0 += 16) {
		size_t a = lo > q0 ? lo - q0 : 0, b = hi > q0 ? hi - q0 : 0;
		a = a > 16 ? 16 : a;
		b = b > 16 ? 16 : b < a ? a : b;
		__mmask16 in = (__mmask16)(lane_mask((unsigned)b) & ~lane_mask((unsigned)a));
		__mmask16 out = lane_mask((unsigned)(wq - q0));
		uintptr_t sp = base + q0 * s * sizeof(float);
		float *d = dst + q0;
		if (!in) {
			for (size_t r = 0; r < nrows; r++, d += wq)
				_mm512_mask_storeu_ps(d, out, _mm512_setzero_ps());
		} else if (s == 1) {
			for (size_t r = 0; r < nrows; r++, d += wq, sp += ld * sizeof(float))
				_mm512_mask_storeu_ps(d, out,
						      _mm512_maskz_loadu_ps(in, (const float *)sp));
		} else {
			for (size_t r = 0; r < nrows; r++, d += wq, sp += ld * sizeof(float))
				_mm512_mask_storeu_ps(
					d, out,
					_mm512_mask_i32gather_ps(_mm512_setzero_ps(), in, idx,
								 (const float *)sp, 4));
		}
	}
}

const struct f32_conv_direct hwk_f32_conv_direct_12x2v__avx512f = {
	.ukernel = ukernel,
	.rows = rows,
	.mr = MR,
	.lanes = 16,
	.acc = ACC,
	.nv_max = NV_MAX,
};
