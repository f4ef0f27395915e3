/* AVX-512 BF16 GEMV microkernel: 1 row x 64 columns, i.e. two adjacent
 * panels of the 12x32 layout read side by side. With one row of A the
 * 12x32 tile keeps only two accumulator chains busy, so vdpbf16ps latency,
 * not the stream of weights, bounds it; four chains (and the two panel
 * streams prefetched ahead) let it run at the weights' bandwidth.
 *
 * Each column still accumulates its k pairs in one chain, in order, from
 * zero, and is stored by the same store_vec: bit-identical to a row of the
 * 12x32 microkernel. */
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512DQ__) ||             \
	!defined(__AVX512VL__) || !defined(__AVX512BF16__) || !defined(__FMA__)
#error "1x64-avx512bf16.c needs AVX-512 F/BW/DQ/VL/BF16 and FMA: build it through the Makefile"
#endif

#include <immintrin.h>
#include <stdint.h>

#include "kernels/bf16-gemm/gemm.h"
#include "kernels/f32-gemm/store-avx512f.h"

#define NR 32 /* columns per packed panel */
/* Prefetch distance in k pairs (2 KB ahead per panel): the weights come
 * from L3 or DRAM, once. */
#define PF_STEPS 16

/* np panels (1 or 2) of NR columns, panel p at b + p*b_ps. */
INLINE void row(const size_t np, size_t nr, size_t kp, const uint32_t *a, const uint16_t *b,
		size_t b_ps, float *c, const struct f32_gemm_ep *ep)
{
	__m512 acc[4];
	for (size_t v = 0; v < 4; v++)
		acc[v] = _mm512_setzero_ps();
	const uint16_t *b1 = b + b_ps;
	for (size_t p = 0; p < kp; p++) {
		__m512bh ap = (__m512bh)_mm512_set1_epi32((int)a[p]);
		_mm_prefetch((const char *)(b + PF_STEPS * 2 * NR), _MM_HINT_T0);
		_mm_prefetch((const char *)(b + PF_STEPS * 2 * NR + 32), _MM_HINT_T0);
		acc[0] = _mm512_dpbf16_ps(acc[0], ap, (__m512bh)_mm512_loadu_si512(b));
		acc[1] = _mm512_dpbf16_ps(acc[1], ap, (__m512bh)_mm512_loadu_si512(b + 32));
		b += 2 * NR;
		if (np == 2) {
			_mm_prefetch((const char *)(b1 + PF_STEPS * 2 * NR), _MM_HINT_T0);
			_mm_prefetch((const char *)(b1 + PF_STEPS * 2 * NR + 32), _MM_HINT_T0);
			acc[2] = _mm512_dpbf16_ps(acc[2], ap, (__m512bh)_mm512_loadu_si512(b1));
			acc[3] = _mm512_dpbf16_ps(acc[3], ap, (__m512bh)_mm512_loadu_si512(b1 + 32));
			b1 += 2 * NR;
		}
	}
	int flags = (ep->alpha != 1.0f ? 1 : 0) | (ep->bias ? 2 : 0) | (ep->act || ep->clip ? 4 : 0);
	for (size_t v = 0; v < 2 * np; v++) {
		size_t j = v * 16;
		if (j >= nr)
			break;
		__mmask16 m = nr - j >= 16 ? 0xffff : (__mmask16)((1u << (nr - j)) - 1);
		__m512 bias = ep->bias ? _mm512_maskz_loadu_ps(m, ep->bias + j) : _mm512_setzero_ps();
		store_vec(c + j, m, acc[v], bias, ep, flags);
	}
}

void hwk_bf16_gemm_ukernel_1x64__avx512bf16(size_t nr, size_t kp, const uint32_t *a,
					    const uint16_t *b, size_t b_ps, float *c,
					    const struct f32_gemm_ep *ep)
{
	if (nr > NR)
		row(2, nr, kp, a, b, b_ps, c, ep);
	else
		row(1, nr, kp, a, b, b_ps, c, ep);
}
