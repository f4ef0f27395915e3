/* f32 softmax and log-softmax of a row, avx512f. */
#if !defined(__AVX512F__)
#error "this file needs avx512f (see ISA_FLAGS_avx512f in the Makefile)"
#endif

#include "kernels/vmath/avx512f.h"

#define SM_TILE x32
#define SM_ISA avx512f
#include "kernels/f32-softmax/template.h"
