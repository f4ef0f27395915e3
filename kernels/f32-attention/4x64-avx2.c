/* f32 attention, avx2: 4 query rows x 64 keys per score tile. */
#if !defined(__AVX2__)
#error "this file needs avx2 (see ISA_FLAGS_avx2 in the Makefile)"
#endif

#include "kernels/vmath/avx2.h"

#define AT_TILE 4x64
#define AT_ISA avx2
#include "kernels/f32-attention/template.h"
