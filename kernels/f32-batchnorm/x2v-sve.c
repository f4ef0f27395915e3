/* f32 folded batch normalization of a plane, sve. */
#if !defined(__ARM_FEATURE_SVE)
#error "this file needs sve (see ISA_FLAGS_sve in the Makefile)"
#endif

#include "kernels/vmath/sve.h"

#define BN_TILE x2v
#define BN_ISA sve
#include "kernels/f32-batchnorm/template.h"
