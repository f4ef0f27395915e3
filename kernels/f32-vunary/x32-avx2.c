/* f32 element-wise ukernels, avx2 (x32: four vectors per step). */
#if !defined(__AVX2__)
#error "this file needs avx2 (see ISA_FLAGS_avx2 in the Makefile)"
#endif

#include "kernels/vmath/avx2.h"

#define VU_TILE x32
#define VU_ISA avx2
#include "kernels/f32-vunary/template.h"
