/* f32 element-wise ukernels, avx512f (x64: four vectors per step). */
#if !defined(__AVX512F__)
#error "this file needs avx512f (see ISA_FLAGS_avx512f in the Makefile)"
#endif

#include "kernels/vmath/avx512f.h"

#define VU_TILE x64
#define VU_ISA avx512f
#include "kernels/f32-vunary/template.h"
