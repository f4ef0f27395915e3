/* f32 element-wise ukernels, neon (x16: four vectors per step). */
#if !defined(__ARM_NEON)
#error "this file needs neon (see ISA_FLAGS_neon in the Makefile)"
#endif

#include "kernels/vmath/neon.h"

#define VU_TILE x16
#define VU_ISA neon
#include "kernels/f32-vunary/template.h"
