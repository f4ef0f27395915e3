/* f32 folded batch normalization of a plane, avx512f. */
#if !defined(__AVX512F__)
#error "this file needs avx512f (see ISA_FLAGS_avx512f in the Makefile)"
#endif

#include "kernels/vmath/avx512f.h"

#define BN_TILE x32
#define BN_ISA avx512f
#include "kernels/f32-batchnorm/template.h"
