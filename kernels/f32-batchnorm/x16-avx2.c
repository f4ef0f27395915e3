/* f32 folded batch normalization of a plane, avx2. */
#if !defined(__AVX2__)
#error "this file needs avx2 (see ISA_FLAGS_avx2 in the Makefile)"
#endif

#include "kernels/vmath/avx2.h"

#define BN_TILE x16
#define BN_ISA avx2
#include "kernels/f32-batchnorm/template.h"
