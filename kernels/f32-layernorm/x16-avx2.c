/* f32 layer normalization and RMS normalization of a row, avx2. */
#if !defined(__AVX2__)
#error "this file needs avx2 (see ISA_FLAGS_avx2 in the Makefile)"
#endif

#include "kernels/vmath/avx2.h"

#define LN_TILE x16
#define LN_ISA avx2
#include "kernels/f32-layernorm/template.h"
