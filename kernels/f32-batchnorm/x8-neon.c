/* f32 folded batch normalization of a plane, neon. */
#if !defined(__ARM_NEON)
#error "this file needs neon (see ISA_FLAGS_neon in the Makefile)"
#endif

#include "kernels/vmath/neon.h"

#define BN_TILE x8
#define BN_ISA neon
#include "kernels/f32-batchnorm/template.h"
