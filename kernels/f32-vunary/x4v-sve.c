/* f32 element-wise ukernels, sve (four vectors of svcntw() lanes per step). */
#if !defined(__ARM_FEATURE_SVE)
#error "this file needs sve (see ISA_FLAGS_sve in the Makefile)"
#endif

#include "kernels/vmath/sve.h"

#define VU_TILE x4v
#define VU_ISA sve
#include "kernels/f32-vunary/template.h"
