/* f32 softmax and log-softmax of a row, avx2. */
#if !defined(__AVX2__)
#error "this file needs avx2 (see ISA_FLAGS_avx2 in the Makefile)"
#endif

#include "kernels/vmath/avx2.h"

#define SM_TILE x16
#define SM_ISA avx2
#include "kernels/f32-softmax/template.h"
