/* f32 attention, avx512f: 4 query rows x 64 keys per score tile. */
#if !defined(__AVX512F__)
#error "this file needs avx512f (see ISA_FLAGS_avx512f in the Makefile)"
#endif

#include "kernels/vmath/avx512f.h"

#define AT_TILE 4x64
#define AT_ISA avx512f
#include "kernels/f32-attention/template.h"
