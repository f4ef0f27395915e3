/* f32 layer normalization and RMS normalization of a row, avx512f. */
#if !defined(__AVX512F__)
#error "this file needs avx512f (see ISA_FLAGS_avx512f in the Makefile)"
#endif

#include "kernels/vmath/avx512f.h"

#define LN_TILE x32
#define LN_ISA avx512f
#include "kernels/f32-layernorm/template.h"
