/* f32 attention, AArch64 Advanced SIMD: 4 query rows x 64 keys per score tile. */
#if !defined(__ARM_NEON) || !defined(__aarch64__)
#error "this file needs AArch64 Advanced SIMD"
#endif

#include "kernels/vmath/neon.h"

#define AT_TILE 4x64
#define AT_ISA neon
#include "kernels/f32-attention/template.h"
